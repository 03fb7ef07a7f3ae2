import Embedder
import Foundation
import Generator

/// Loads the models a configuration names (or the defaults from the models folder).
public enum ModelFactory {
    public static func embedder(path: String?, models: ModelLocator = ModelLocator()) throws -> EncoderEmbedder {
        let url = try models.embedder(path)
        do { return EncoderEmbedder(encoder: try SentenceEncoder.load(directory: url)) } catch {
            throw RAGError.modelMissing("cannot load the embedder at \(url.path): \(error)")
        }
    }

    public static func generator(path: String?, contextLength: Int = 4096, models: ModelLocator = ModelLocator()) throws -> LlamaTextGenerator {
        let url = try models.generator(path)
        do { return LlamaTextGenerator(model: try LlamaModel.load(from: url), contextLength: contextLength) } catch {
            throw RAGError.modelMissing("cannot load the generator at \(url.path): \(error)")
        }
    }
}

extension RAGPipeline {
    /// Opens the base with the configured embedder; the generator loads on first use.
    public static func open(_ configuration: Configuration) throws -> RAGPipeline {
        let embedder = try ModelFactory.embedder(path: configuration.embedderPath, models: configuration.models)
        let generatorPath = configuration.generatorPath, models = configuration.models, budget = configuration.contextBudget
        // Fail early on a missing generator file, but load it only when an answer is asked for.
        if generatorPath != nil { _ = try models.generator(generatorPath) }
        return try RAGPipeline(configuration: configuration, embedder: embedder) {
            try ModelFactory.generator(path: generatorPath, contextLength: budget, models: models)
        }
    }
}
