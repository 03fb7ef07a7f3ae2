import RAG
import Tensor
import XCTest

final class ThreadSettingTests: XCTestCase {
    func testReadsAPositiveCountAndLeavesUnsetToAllCores() throws {
        XCTAssertEqual(try ThreadSetting.requested(in: ["RAG_THREADS": "1"]), 1)
        XCTAssertEqual(try ThreadSetting.requested(in: ["RAG_THREADS": " 3 "]), 3)
        XCTAssertNil(try ThreadSetting.requested(in: [:]))
        XCTAssertNil(try ThreadSetting.requested(in: ["RAG_THREADS": ""]))
    }

    func testABadCountIsAnErrorNamingTheVariable() {
        for bad in ["0", "-2", "two", "1.5"] {
            XCTAssertThrowsError(try ThreadSetting.requested(in: ["RAG_THREADS": bad])) { error in
                XCTAssertTrue("\(error)".contains("RAG_THREADS=\(bad)"), "\(error)")
            }
        }
    }

    func testApplyingSetsTheTensorCoresCountAndUnsetRestoresAllCores() throws {
        let all = Threads.count
        defer { Threads.use(nil) }
        try ThreadSetting.apply(environment: ["RAG_THREADS": "1"])
        XCTAssertEqual(Threads.count, 1)
        try ThreadSetting.apply(environment: [:])
        XCTAssertEqual(Threads.count, all)
    }
}
