import XCTest
@testable import Tokenizers
