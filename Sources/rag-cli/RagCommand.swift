import ArgumentParser
import RAG

@main
struct RagCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "rag",
        abstract: "Local retrieval-augmented question answering over a folder of documents.",
        discussion: """
            Models live in ~/.cache/rag/models (set RAG_MODELS to move them; scripts/fetch-models.sh fetches the defaults).
            The knowledge base is one SQLite file, ./rag.db unless --db (or RAG_DB) says otherwise; or a PostgreSQL
            database with pgvector: --db postgres://user@host:5432/dbname (password from the URL, PGPASSWORD or ~/.pgpass).
            """,
        version: "0.1.0",
        subcommands: [
            IngestCommand.self, SearchCommand.self, AskCommand.self, ChatCommand.self, GenerateCommand.self,
            StatusCommand.self, DeleteCommand.self, CompactCommand.self, RepairCommand.self, EvalCommand.self, ServeCommand.self,
            TrainEmbedderCommand.self, DistillEmbedderCommand.self, ReembedCommand.self, FinetuneCommand.self, ScoreCommand.self, PrefsCommand.self, AdapterCommand.self,
            TokenizerCommand.self, MigrateCommand.self,
        ]
    )

    /// Parses and runs the command once `RAG_THREADS` is applied (a bad value stops here, named).
    static func main() async {
        do {
            try ThreadSetting.apply()
            var command = try parseAsRoot()
            if var async = command as? any AsyncParsableCommand { try await async.run() } else { try command.run() }
        } catch {
            exit(withError: error)
        }
    }
}
