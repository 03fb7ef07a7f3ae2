// Data for causal language modelling (`rag finetune pretrain`, `rag tokenizer train`): texts from
// JSONL or a JSON array of {"text"}, a plain-text file, or a folder of .txt/.md files; packed into
// blocks of one length (each text followed by the end-of-text token, blocks cut across texts as
// GPT-style pretraining does), every token a target.

import Foundation
import Tokenizers

public enum PretrainTexts {
    static let textExtensions: Set<String> = ["txt", "text", "md", "markdown"]

    /// The texts of `url`: a folder (every .txt/.md file below it, in path order), a .jsonl/.json
    /// file of {"text"} records, or any other file as one text.
    public static func read(_ url: URL) throws -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: url.path, isDirectory: &isDirectory) else {
            throw TrainingError.data("\(url.path): no such file or folder")
        }
        let texts: [String]
        if isDirectory.boolValue {
            guard let walker = FileManager.default.enumerator(at: url, includingPropertiesForKeys: [.isRegularFileKey]) else {
                throw TrainingError.data("\(url.path): cannot list the folder")
            }
            var files: [URL] = []
            for case let file as URL in walker where textExtensions.contains(file.pathExtension.lowercased()) { files.append(file) }
            texts = try files.sorted { $0.path < $1.path }.map(readText)
        } else if ["jsonl", "json"].contains(url.pathExtension.lowercased()) {
            texts = try DataRecords.read(url).map { try $0.string("text") }
        } else {
            texts = [try readText(url)]
        }
        let kept = texts.filter { !$0.isEmpty }
        guard !kept.isEmpty else { throw TrainingError.data("\(url.path): no text to train on") }
        return kept
    }

    private static func readText(_ url: URL) throws -> String {
        let data: Data
        do { data = try Data(contentsOf: url) } catch { throw TrainingError.data("\(url.path): cannot read (\(error.localizedDescription))") }
        guard let text = String(data: data, encoding: .utf8) else { throw TrainingError.data("\(url.path): not UTF-8 text") }
        return text
    }
}

/// Texts tokenised, joined with the end-of-text token, and cut into blocks of `blockLength`.
struct PackedTexts {
    let sequences: [TokenSequence]
    let tokens: Int

    init(texts: [String], tokenizer: BPETokenizer, endOfText: Int?, blockLength: Int) throws {
        guard blockLength >= 2 else { throw TrainingError.options("--max-length must be at least 2 to pack texts") }
        var stream: [Int] = []
        for text in texts {
            stream += tokenizer.encode(text)
            if let end = endOfText { stream.append(end) }
        }
        var sequences: [TokenSequence] = []
        for start in stride(from: 0, to: stream.count, by: blockLength) {
            let ids = Array(stream[start..<min(stream.count, start + blockLength)])
            guard ids.count >= 2 else { continue }
            sequences.append(TokenSequence(ids: ids, isTarget: [false] + [Bool](repeating: true, count: ids.count - 1)))
        }
        guard !sequences.isEmpty else { throw TrainingError.data("the texts hold fewer than two tokens") }
        self.sequences = sequences
        tokens = stream.count
    }
}
