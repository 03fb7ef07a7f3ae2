import Foundation
import Generator
import Tokenizers

/// `rag tokenizer train`: a byte-level BPE tokenizer trained on the user's texts (the data formats
/// of `rag finetune pretrain`), written as tokenizer.json, which Hugging Face `tokenizers` and
/// `rag finetune pretrain --tokenizer` load.
public enum TokenizerTraining {
    public struct Summary: Sendable {
        public var texts: Int
        public var vocabSize: Int
        public var merges: Int
    }

    public static func train(data: URL, vocabSize: Int, minFrequency: Int, output: URL) throws -> Summary {
        let texts = try PretrainTexts.read(data)
        var trainer = BPETrainer(vocabSize: vocabSize)
        trainer.minFrequency = minFrequency
        let tokenizer = try trainer.train(texts)
        do {
            try FileManager.default.createDirectory(at: output.deletingLastPathComponent(), withIntermediateDirectories: true)
            try tokenizer.tokenizerJSON().write(to: output, options: .atomic)
        } catch let error as TokenizerError {
            throw error
        } catch {
            throw RAGError.invalidInput("\(output.path): cannot write (\(error.localizedDescription))")
        }
        return Summary(texts: texts.count, vocabSize: tokenizer.vocabSize, merges: tokenizer.vocabSize - trainer.specialTokens.count - 256)
    }
}
