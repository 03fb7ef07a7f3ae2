import XCTest
@testable import RAG

final class CitationCheckTests: XCTestCase {
    let passages = [
        Passage(n: 1, file: "ln.md", page: nil, section: "SYNOPSIS", score: 0.9,
                text: "ln creates links between files. By default, ln makes hard links.", chunkID: 1),
        Passage(n: 2, file: "cp.md", page: nil, section: "OPTIONS", score: 0.8,
                text: "With -r, cp copies directories recursively.", chunkID: 2),
        Passage(n: 3, file: "ln.md", page: nil, section: "OPTIONS", score: 0.7,
                text: "With -T (--no-target-directory), ln will treat LINK_NAME as a normal file always.", chunkID: 3),
    ]

    /// Feeds `answer` in pieces of `size` characters; returns what was shown and the check.
    func run(_ answer: String, size: Int, question: String = "") -> (shown: String, check: CitationCheck) {
        var check = CitationCheck(passages: passages, question: question)
        var shown = ""
        var rest = Substring(answer)
        while !rest.isEmpty {
            shown += check.feed(String(rest.prefix(size)))
            rest = rest.dropFirst(size)
        }
        shown += check.finish()
        return (shown, check)
    }

    func testWrongNumberIsRenumberedToTheSupportingPassage() {
        for size in [1, 2, 3, 7, 1000] {
            let (shown, check) = run("With -T, ln will treat LINK_NAME as a normal file always [1].", size: size)
            XCTAssertEqual(shown, "With -T, ln will treat LINK_NAME as a normal file always [3].", "pieces of \(size)")
            XCTAssertEqual(check.text, shown)
            XCTAssertEqual(check.corrections, 1)
        }
    }

    func testRightNumbersAndTiesAreKept() {
        let answer = "By default, ln makes hard links [1]. With -r, cp copies directories recursively [2]."
        let (shown, check) = run(answer, size: 4)
        XCTAssertEqual(shown, answer)
        XCTAssertEqual(check.corrections, 0)
        // "ln" alone is in passages 1 and 3 equally: the model's choice stands
        XCTAssertEqual(run("It is about ln [3].", size: 5).shown, "It is about ln [3].")
        // a claim sharing no word with any passage keeps its number
        XCTAssertEqual(run("Zebras graze [2].", size: 3).shown, "Zebras graze [2].")
    }

    func testEachMarkerChecksTheTextItCloses() {
        let (shown, check) = run("ln makes hard links by default [3]. cp copies directories recursively with -r [1][3].", size: 6)
        // the second pair of markers shares one claim (the cp sentence): both point to 2, shown once
        XCTAssertEqual(shown, "ln makes hard links by default [1]. cp copies directories recursively with -r [2].")
        XCTAssertEqual(check.corrections, 3)
        XCTAssertEqual(Citations.cited(in: shown, passageCount: 3), [1, 2])
    }

    func testTheQuestionsWordsDoNotCount() {
        let question = "What does ln do by default?"
        // what the answer adds ("makes hard links") is passage 1's
        XCTAssertEqual(run("By default, ln makes hard links [3].", size: 5, question: question).shown,
                       "By default, ln makes hard links [1].")
        // a hollow answer restates the question: nothing to check it by, so its number stays
        XCTAssertEqual(run("ln does something by default [3].", size: 5, question: question).shown,
                       "ln does something by default [3].")
        XCTAssertEqual(run("ln does something by default [3].", size: 5).shown, "ln does something by default [1].")
    }

    func testAMarkerCitingTheBestAmongOthersIsKept() {
        let answer = "ln will treat LINK_NAME as a normal file always [1, 3]."
        XCTAssertEqual(run(answer, size: 2).shown, answer)
    }

    func testOutOfRangeNumbersAreRenumbered() {
        XCTAssertEqual(run("With -r, cp copies directories recursively [7].", size: 3).shown,
                       "With -r, cp copies directories recursively [2].")
    }

    func testTextThatIsNotACitationPassesUnchanged() {
        let answer = "Use ln [sic] and array[i] or [a long bracket that is not a citation at all] then [ at the end"
        let (shown, check) = run(answer, size: 3)
        XCTAssertEqual(shown, answer)
        XCTAssertEqual(check.text, answer)
        XCTAssertEqual(check.corrections, 0)
    }

    func testAnUnfinishedMarkerIsShownAtTheEnd() {
        XCTAssertEqual(run("With -T, ln will treat LINK_NAME as a normal file [1", size: 4).shown,
                       "With -T, ln will treat LINK_NAME as a normal file [1")
    }

    /// `run`, then `citeIfUncited` as the pipeline calls it after `finish`.
    func cite(_ answer: String, question: String = "") -> (added: String, check: CitationCheck) {
        var check = run(answer, size: 4, question: question).check
        let added = check.citeIfUncited()
        return (added, check)
    }

    func testAnAnswerCitingNothingGetsThePassageThatSupportsItBest() {
        let (added, check) = cite("With -T, ln will treat LINK_NAME as a normal file.")
        XCTAssertEqual(added, " [3]")
        XCTAssertEqual(check.text, "With -T, ln will treat LINK_NAME as a normal file. [3]")
        XCTAssertTrue(check.added)
        XCTAssertEqual(check.corrections, 0)
        XCTAssertEqual(Citations.cited(in: check.text, passageCount: 3), [3])
        // what the answer adds beyond the question decides, as for a marker's claim
        XCTAssertEqual(cite("By default, ln makes hard links\n", question: "What does ln do by default?").added, "[1]")
    }

    func testNoCitationIsAddedWhereNoSinglePassageStandsOut() {
        XCTAssertEqual(cite("It is about ln.").added, "")                        // passages 1 and 3 tie
        XCTAssertEqual(cite("Zebras graze.").added, "")                          // no word in any passage
        XCTAssertEqual(cite("").added, "")
        XCTAssertEqual(cite("I don't know: the passages don't say anything about ln hard links.").added, "")  // declines
        let cited = cite("By default, ln makes hard links [1].")
        XCTAssertEqual(cited.added, "")                                          // it cites already
        XCTAssertFalse(cited.check.added)
        var twice = cite("With -T, ln will treat LINK_NAME as a normal file.").check
        XCTAssertEqual(twice.citeIfUncited(), "")                                 // one marker at most
    }

    func testMarkerNumbers() {
        XCTAssertEqual(Citations.numbers(inMarker: "[1, 3]"), [1, 3])
        XCTAssertEqual(Citations.numbers(inMarker: "[2-4]"), [2, 3, 4])
        XCTAssertNil(Citations.numbers(inMarker: "[sic]"))
        XCTAssertNil(Citations.numbers(inMarker: "[-]"))
        XCTAssertNil(Citations.numbers(inMarker: "[]"))
    }
}
