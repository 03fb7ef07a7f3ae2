import ArgumentParser
import Foundation
import RAG

struct PrefsCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prefs",
        abstract: "Collect answers to rank, and rank them: preference data for rag finetune dpo and rm.",
        subcommands: [PrefsCollectCommand.self, PrefsRankCommand.self])
}

struct PrefsCollectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "collect",
        abstract: "Ask each question N times through the retrieval pipeline (sampled, seeds S, S+1, …) and write the candidates.",
        discussion: "Questions: one per line, as text or JSON with \"question\". Output: one JSON line per question (prompt, passages, responses).")

    @Option(name: .long, help: "Questions file.") var questions: String
    @Option(name: .long, help: "Candidates per question.") var n: Int = 4
    @Option(name: .long, help: "Output file (JSON lines), for rag prefs rank.") var out: String
    @OptionGroup var base: BaseOptions
    @OptionGroup var generator: GeneratorOptions
    @OptionGroup var retrieval: RetrievalOptions

    func validate() throws {
        guard n >= 2 else { throw ValidationError("--n must be at least 2 (candidates to compare)") }
        guard generator.temperature > 0 else {
            throw ValidationError("--temperature must be above 0 so the candidates differ (e.g. --temperature 0.8)")
        }
    }

    func run() async throws {
        var c = try base.existing()
        generator.apply(to: &c)
        let pipeline = try RAGPipeline.open(c)
        let list = try PreferenceFile.questions(in: URL(fileURLWithPath: questions))
        var sampling = generator.generation.sampling
        if sampling.seed == nil { sampling.seed = 1 }
        var sets: [CandidateSet] = []
        let output = URL(fileURLWithPath: out)
        for (i, q) in list.enumerated() {
            guard let set = try pipeline.collectCandidates(question: q, n: n, search: try retrieval.search(for: .answer), sampling: sampling) else {
                Console.err("[\(i + 1)/\(list.count)] skipped (nothing relevant retrieved): \(q)")
                continue
            }
            sets.append(set)
            try PreferenceFile.write(sets, to: output)   // after each question: an interrupted run keeps what it collected
            Console.err("[\(i + 1)/\(list.count)] \(n) candidates: \(q)")
        }
        Console.out("\(sets.count) questions with \(n) candidates each written to \(output.path); rank them with: rag prefs rank \(output.path) --out PAIRS.jsonl")
    }
}

struct PrefsRankCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rank",
        abstract: "Rank collected candidates in the terminal (e.g. 2>1>4>3) or by a judge; rankings are kept in FILE and the ranked records written to --out.",
        discussion: """
            --out is in the ranked format rag finetune dpo and rm read (every ordered pair of a ranking is a preference). \
            --judge reward:DIR orders the answers by a reward model (rag finetune rm; --model is its base); --judge model:PATH \
            asks a local model which of two answers is better, in both orders, and keeps the pairs where both agree. \
            A judge ranks only what no one has ranked yet.
            """)

    @Argument(help: "Candidates file written by rag prefs collect (rankings are saved back into it).") var file: String
    @Option(name: .long, help: "Ranked records for training.") var out: String
    @Option(name: .long, help: "Rank without a person: reward:DIR (a reward model) or model:PATH (a judge model).") var judge: String?
    @Option(name: .long, help: "The base model of a reward-model judge (default: SmolLM2-135M-Instruct Q4_1).") var model: String?

    func validate() throws {
        if let judge { _ = try PreferenceJudgeSpec(parsing: judge) }
    }

    func run() async throws {
        let url = URL(fileURLWithPath: file), output = URL(fileURLWithPath: out)
        var sets = try PreferenceFile.read(url)
        let pending = sets.indices.filter { !sets[$0].isRanked }
        if let judge {
            let spec = try PreferenceJudgeSpec(parsing: judge)
            let judging = try PreferenceJudges.make(spec, generatorPath: model ?? ProcessInfo.processInfo.environment["RAG_MODEL"])
            var preferences = 0
            for (k, i) in pending.enumerated() {
                try judging.judge(&sets[i])
                preferences += sets[i].pairs?.count ?? (sets[i].responses.count * (sets[i].responses.count - 1) / 2)
                try PreferenceFile.write(sets, to: url)
                try PreferenceFile.write(PreferenceFile.trainable(sets), to: output)
                Console.err("[\(k + 1)/\(pending.count)] \(sets[i].question)")
            }
            Console.out("\(pending.count) questions judged by \(spec) (\(preferences) preferences); training data in \(output.path) (rag finetune dpo|rm --data \(output.path))")
            return
        }
        Console.out("\(sets.count) questions, \(pending.count) to rank. For each: the candidates' numbers best first (2>1>3), s to skip, q to stop.")
        loop: for (k, i) in pending.enumerated() {
            let set = sets[i]
            Console.out("\n[\(k + 1)/\(pending.count)] \(set.question)")
            for p in set.passages { Console.out("  [\(p.n)] \(p.file): \(p.text.prefix(160).replacingOccurrences(of: "\n", with: " "))…") }
            for (j, r) in set.responses.enumerated() { Console.out("(\(j + 1)) \(r)") }
            while true {
                Console.out("rank> ", terminator: "")
                guard let line = readLine()?.trimmingCharacters(in: .whitespaces) else { break loop }
                if line == "q" { break loop }
                if line == "s" { continue loop }
                do {
                    sets[i].ranking = try PreferenceFile.parseRanking(line, count: set.responses.count)
                    try PreferenceFile.write(sets, to: url)
                    try PreferenceFile.write(PreferenceFile.trainable(sets), to: output)
                    continue loop
                } catch {
                    Console.err("\(error)")
                }
            }
        }
        try PreferenceFile.write(PreferenceFile.trainable(sets), to: output)   // also what was ranked elsewhere (the web page)
        let ranked = sets.filter(\.isRanked).count
        Console.out("\n\(ranked) of \(sets.count) ranked; training data in \(output.path) (rag finetune dpo|rm --data \(output.path))")
    }
}
