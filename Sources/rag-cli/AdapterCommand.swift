import ArgumentParser
import Foundation
import Generator
import RAG

struct AdapterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "adapter",
        abstract: "Work with LoRA adapters (PEFT layout).",
        subcommands: [AdapterMergeCommand.self])
}

struct AdapterMergeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "merge",
        abstract: "Fold an adapter into its model's weights and write a Hugging Face folder (loads in rag and transformers).",
        discussion: "GGUF weights are decoded to floats; the folder holds config.json, model.safetensors, tokenizer.json and tokenizer_config.json.")

    @Option(name: .long, help: "The adapter's base model: a GGUF file or Hugging Face folder (default: SmolLM2-135M-Instruct Q4_1).")
    var model: String?
    @Option(name: .long, help: "The PEFT adapter folder.") var adapter: String
    @Option(name: .long, help: "Output folder (must not exist).") var out: String
    @Option(name: .long, help: "Weight type: f32, f16 or bf16.") var dtype: String = "f32"

    func validate() throws {
        guard MergedWeightType(rawValue: dtype.lowercased()) != nil else {
            throw ValidationError("--dtype must be one of \(MergedWeightType.allCases.map(\.rawValue).joined(separator: ", ")) (got \(dtype))")
        }
    }

    func run() async throws {
        let output = URL(fileURLWithPath: out, isDirectory: true)
        try GeneratorFinetuning.mergeAdapter(modelPath: model ?? ProcessInfo.processInfo.environment["RAG_MODEL"],
                                             adapter: URL(fileURLWithPath: adapter, isDirectory: true), output: output,
                                             weightType: MergedWeightType(rawValue: dtype.lowercased()) ?? .f32)
        Console.out("merged model written to \(output.path); use it with: rag ask --model \(output.path) …")
    }
}
