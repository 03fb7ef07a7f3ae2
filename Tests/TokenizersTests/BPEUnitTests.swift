import Foundation
import XCTest
@testable import Tokenizers

/// Byte-level BPE on a tiny hand-made vocabulary (no model files needed).
final class BPEUnitTests: XCTestCase {
    /// 256 byte tokens, merges a+b, ab+c, Ġ+w, a+a, then two special tokens and a user-defined one.
    private func tinyTokenizer(pre: BPEPreTokenizer = .smollm) throws -> BPETokenizer {
        var tokens = (0..<256).map { ByteLevel.tokenString(ofByte: UInt8($0)) }
        tokens += ["ab", "abc", "Ġw", "aa", "<|im_start|>", "<|im_end|>", "<|im_start|>x", "<user>"]
        let types = [Int](repeating: 1, count: 260) + [3, 3, 3, 4]
        return try BPETokenizer(tokens: tokens, merges: ["a b", "ab c", "Ġ w", "a a"], tokenTypes: types,
                                specialTokenIDs: SpecialTokenIDs(bos: 260, eos: 261), preTokenizer: pre)
    }

    func testEveryByteHasATokenThatDecodesToThatByte() throws {
        let tokenizer = try tinyTokenizer()
        for b in 0..<256 {
            let id = try XCTUnwrap(tokenizer.id(of: ByteLevel.tokenString(ofByte: UInt8(b))), "byte \(b)")
            XCTAssertEqual(tokenizer.decodeBytes([id]), [UInt8(b)])
        }
        // Every ASCII scalar plus multi-byte characters (covering lead and continuation bytes) round-trips.
        let text = String(decoding: Array(0..<128).map { UInt8($0) }, as: UTF8.self) + "é中😀\u{10FFFF}ÿ"
        let ids = tokenizer.encode(text)
        XCTAssertEqual(tokenizer.decode(ids), text)
        XCTAssertEqual(Array(tokenizer.decodeBytes(ids)), Array(text.utf8))
    }

    func testMergesFollowRankAndLeftmostOnTies() throws {
        let tokenizer = try tinyTokenizer()
        let id = { (t: String) in tokenizer.id(of: t) ?? -1 }
        XCTAssertEqual(tokenizer.encode("abc"), [id("abc")])
        XCTAssertEqual(tokenizer.encode("aaa"), [id("aa"), id("a")])
        XCTAssertEqual(tokenizer.encode("abab w"), [id("ab"), id("ab"), id("Ġw")])
        XCTAssertEqual(tokenizer.encode("aabc"), [id("a"), id("abc")])  // rank of a+b beats a+a
    }

    func testSpecialTokensAreCutOutLeftmostLongestUnlessDisabled() throws {
        let tokenizer = try tinyTokenizer()
        let id = { (t: String) in tokenizer.id(of: t) ?? -1 }
        XCTAssertEqual(tokenizer.encode("ab<|im_start|>c<|im_end|>"), [id("ab"), 260, id("c"), 261])
        XCTAssertEqual(tokenizer.encode("<|im_start|>x"), [262])  // longest match wins
        XCTAssertEqual(tokenizer.encode("a<user>"), [id("a"), 263])
        let plain = tokenizer.encode("<|im_start|>", parseSpecial: false)
        XCTAssertFalse(plain.contains(260))
        XCTAssertEqual(tokenizer.decode(plain), "<|im_start|>")
        XCTAssertEqual(tokenizer.decode([260, id("ab"), 263, 261], skipSpecial: true), "ab<user>")
        XCTAssertEqual(tokenizer.decode([260, id("ab"), 261]), "<|im_start|>ab<|im_end|>")
    }

    func testPreTokenizerFollowsTheGPT2PatternAndDigitSplit() {
        func pieces(_ text: String, _ pre: BPEPreTokenizer) -> [String] {
            let s = Array(text.unicodeScalars.map(\.value))
            var out: [String] = []
            pre.split(s, 0..<s.count) { r in
                out.append(String(String.UnicodeScalarView(r.compactMap { Unicode.Scalar(s[$0]) })))
            }
            return out
        }
        XCTAssertEqual(pieces("Hello  world's 123!!  ", .gpt2), ["Hello", " ", " world", "'s", " 123", "!!", "  "])
        XCTAssertEqual(pieces("Hello  world's 123!!  ", .smollm), ["Hello", " ", " world", "'s", " ", "1", "2", "3", "!!", "  "])
        XCTAssertEqual(pieces("\n\nhi\tthere 'S", .gpt2), ["\n", "\n", "hi", "\t", "there", " '", "S"])
        XCTAssertEqual(pieces("a  1", .gpt2), ["a", " ", " 1"])
        XCTAssertEqual(pieces("a  1", .smollm), ["a", "  ", "1"])
        XCTAssertThrowsError(try BPEPreTokenizer(ggmlPre: "llama-bpe"))
    }

    func testStreamingDecoderEmitsOnlyWholeCharacters() throws {
        let tokenizer = try tinyTokenizer()
        let text = "héllo 😀 中文 👨‍👩‍👧"
        // One token per byte: the worst case, every multi-byte character is split.
        let ids = Array(text.utf8).map { tokenizer.id(of: ByteLevel.tokenString(ofByte: $0)) ?? -1 }
        var decoder = BPEStreamingDecoder(tokenizer: tokenizer)
        var pieces: [String] = []
        for id in ids { pieces.append(decoder.push(id)) }
        pieces.append(decoder.finish())
        XCTAssertEqual(pieces.joined(), text)
        XCTAssertFalse(pieces.joined().contains("\u{FFFD}"))
        let emojiStart = Array("héllo ".utf8).count
        XCTAssertEqual(pieces[emojiStart..<(emojiStart + 3)].joined(), "")  // 3 of the 4 bytes of 😀
        XCTAssertEqual(pieces[emojiStart + 3], "😀")
        // An unfinished character at the end comes out as U+FFFD.
        var cut = BPEStreamingDecoder(tokenizer: tokenizer)
        XCTAssertEqual(cut.push(ids[emojiStart]), "")
        XCTAssertEqual(cut.finish(), "\u{FFFD}")
    }

    func testTokenizerJSONErrorsNameTheFileAndField() throws {
        let dir = try FixtureSupport.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("tokenizer.json")
        try #"{"model": {"type": "BPE", "merges": []}, "pre_tokenizer": {"type": "ByteLevel"}}"#.write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSON: url)) { error in
            XCTAssertEqual(error as? TokenizerError, .missingField(path: url.path, field: "model.vocab"))
            XCTAssertTrue("\(error)".contains(url.path) && "\(error)".contains("model.vocab"))
        }
        try #"{"model": {"type": "BPE", "vocab": {"a": 0}, "merges": ["a b"]}, "pre_tokenizer": {"type": "ByteLevel"}}"#
            .write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSON: url)) { error in
            XCTAssertTrue("\(error)".contains("merges[0]"), "\(error)")
        }
        try "not json".write(to: url, atomically: true, encoding: .utf8)
        XCTAssertThrowsError(try BPETokenizer(tokenizerJSON: url)) { error in
            guard case .invalidJSON(let path, _) = error as? TokenizerError else { return XCTFail("\(error)") }
            XCTAssertEqual(path, url.path)
        }
    }

    func testChatTemplateSelection() throws {
        XCTAssertThrowsError(try ChatTemplate(jinjaSource: "{{ bos_token }}[INST] {{ m['content'] }} [/INST]"))
        let plain = try ChatTemplate(jinjaSource: "{% for m in messages %}{{'<|im_start|>' + m['role'] + '\n' + m['content'] + '<|im_end|>\n'}}{% endfor %}")
        XCTAssertEqual(plain, .chatML(defaultSystem: nil))
        let withDefault = ChatTemplate.chatML(defaultSystem: "Be nice.")
        let messages = [ChatMessage(role: "system", content: "S"), ChatMessage(role: "user", content: "U")]
        XCTAssertEqual(withDefault.render(messages, addGenerationPrompt: false),
                       "<|im_start|>system\nS<|im_end|>\n<|im_start|>user\nU<|im_end|>\n")
        XCTAssertEqual(withDefault.render([ChatMessage(role: "user", content: "U")], addGenerationPrompt: true),
                       "<|im_start|>system\nBe nice.<|im_end|>\n<|im_start|>user\nU<|im_end|>\n<|im_start|>assistant\n")
        XCTAssertEqual(withDefault.render([], addGenerationPrompt: true), "<|im_start|>assistant\n")
    }
}
