import XCTest
@testable import Ingest

final class GlobTests: XCTestCase {
    func testStarDoesNotCrossFolders() {
        XCTAssertTrue(Glob("docs/*.md").matches("docs/a.md"))
        XCTAssertFalse(Glob("docs/*.md").matches("docs/sub/a.md"))
        XCTAssertFalse(Glob("docs/*.md").matches("docs/a.txt"))
    }

    func testPatternWithoutSlashMatchesFileName() {
        XCTAssertTrue(Glob("*.md").matches("a/b/c.md"))
        XCTAssertTrue(Glob("*.md").matches("c.md"))
        XCTAssertFalse(Glob("*.md").matches("a/b/c.mdx"))
    }

    func testGlobstar() {
        let g = Glob("docs/**/*.md")
        XCTAssertTrue(g.matches("docs/a.md"))        // zero folders
        XCTAssertTrue(g.matches("docs/x/y/z/a.md"))
        XCTAssertFalse(g.matches("other/a.md"))
        XCTAssertTrue(Glob("**/draft*").matches("a/b/draft-1.txt"))
        XCTAssertTrue(Glob("build/**").matches("build/x/y.txt"))
        XCTAssertFalse(Glob("build/**").matches("src/build.txt"))
    }

    func testQuestionMarkAndClasses() {
        XCTAssertTrue(Glob("ch?.txt").matches("ch1.txt"))
        XCTAssertFalse(Glob("ch?.txt").matches("ch10.txt"))
        XCTAssertTrue(Glob("ch[0-9].txt").matches("ch7.txt"))
        XCTAssertFalse(Glob("ch[0-9].txt").matches("chx.txt"))
        XCTAssertTrue(Glob("ch[!0-9].txt").matches("chx.txt"))
        XCTAssertFalse(Glob("ch[^0-9].txt").matches("ch3.txt"))
        XCTAssertTrue(Glob("[]a].txt").matches("].txt"))
        XCTAssertTrue(Glob("a\\*b").matches("a*b"))
        XCTAssertFalse(Glob("a\\*b").matches("axb"))
    }

    func testManyStarsStayFast() {
        let g = Glob("a/*a*a*a*a*a*a*a*a*b")
        XCTAssertFalse(g.matches("a/" + String(repeating: "a", count: 200)))
    }
}
