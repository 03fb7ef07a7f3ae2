import ArgumentParser
import Foundation
import RAG

struct TokenizerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tokenizer",
        abstract: "Tokenizers for new models.",
        subcommands: [TokenizerTrainCommand.self])
}

struct TokenizerTrainCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "train",
        abstract: "Train a byte-level BPE tokenizer on your texts and write tokenizer.json (for rag finetune pretrain --tokenizer).",
        discussion: """
            --data as for rag finetune pretrain: a folder of .txt/.md files, a JSONL of {"text"}, or one text file. The \\
            vocabulary is <|endoftext|>, <|im_start|>, <|im_end|>, the 256 bytes, then the most frequent merges (GPT-2's \\
            pre-tokenisation, digits one by one) up to --vocab-size. Hugging Face tokenizers loads the file and gives the same ids.
            """)

    @Option(name: .long, help: "Texts to learn from.") var data: String
    @Option(name: .long, help: "Vocabulary size (at least 259).") var vocabSize: Int = 8192
    @Option(name: .long, help: "A pair must occur this often to be merged.") var minFrequency: Int = 2
    @Option(name: .long, help: "Where to write tokenizer.json.") var out: String

    func run() async throws {
        let start = Date()
        let s = try TokenizerTraining.train(data: URL(fileURLWithPath: data), vocabSize: vocabSize, minFrequency: minFrequency,
                                            output: URL(fileURLWithPath: out))
        var line = "trained on \(s.texts) texts in \(String(format: "%.1f", Date().timeIntervalSince(start))) s: \(s.vocabSize) tokens (\(s.merges) merges)"
        if s.vocabSize < vocabSize { line += "; the texts had no more pairs occurring \(minFrequency)+ times" }
        Console.out(line + "; written to \(out)")
    }
}
