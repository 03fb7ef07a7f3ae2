// swift-tools-version:6.0
// rag: local retrieval-augmented question answering. docs/architecture.md describes the modules
// below, how data flows through them and the house rules; keep the two in step.
import PackageDescription

let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")

let package = Package(
    name: "rag",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "rag", targets: ["rag-cli"]),
        .executable(name: "rag-server", targets: ["rag-server"]),
        .library(name: "RAG", targets: ["RAG"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        // Already resolved through Hummingbird; named so RAGServer can import them directly.
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        // The PostgreSQL client of the knowledge base's second store (Sources/RAG/Store/Postgres).
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // Thin system-library targets: a module map and a shim header each.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Hot SIMD kernels (quantized matvec, distances) with run-time CPU dispatch, so the
        // Swift code can stay built for baseline x86-64 and still use AVX2/AVX-512 where present.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        // SplitMix64, the one seeded generator every module draws from (no dependencies).
        .target(name: "SeededRandom"),
        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels", "SeededRandom"]),
        .target(name: "Tokenizers"),
        .target(name: "Ingest", dependencies: ["CPoppler"]),
        .target(name: "VectorIndex", dependencies: ["CSQLite", "CKernels", "SeededRandom"]),
        .target(name: "Embedder", dependencies: ["Tensor", "Tokenizers"]),
        .target(name: "Generator", dependencies: ["Tensor", "Tokenizers", "CBLAS", "CKernels", "SeededRandom"]),
        .target(name: "RAG", dependencies: [
            "Tensor", "Tokenizers", "Ingest", "VectorIndex", "Embedder", "Generator", "SeededRandom",
            .product(name: "PostgresNIO", package: "postgres-nio"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        // The HTTP service as a library, so that `rag-server` and `rag serve` both start it.
        .target(name: "RAGServer", dependencies: [
            "RAG", "Tokenizers",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
        ]),
        // The server's command-line options, shared by the executables that start it.
        .target(name: "RAGServerCLI", dependencies: ["RAG", "RAGServer", argumentParser]),
        .executableTarget(name: "rag-cli", dependencies: ["RAG", "RAGServer", "RAGServerCLI", "Generator", "Tokenizers", argumentParser]),
        .executableTarget(name: "rag-server", dependencies: ["RAGServer", "RAGServerCLI", argumentParser]),

        // Benchmarks against peers (run with `swift run -c release bench-NAME`).
        .executableTarget(name: "bench-tensor", dependencies: ["Tensor", "CBLAS", "CKernels"], path: "bench/tensor"),
        .executableTarget(name: "bench-tokenizers", dependencies: ["Tokenizers"], path: "bench/tokenizers"),
        .executableTarget(name: "bench-ingest", dependencies: ["Ingest", argumentParser], path: "bench/ingest"),
        .executableTarget(name: "bench-ann", dependencies: ["VectorIndex", "SeededRandom", argumentParser], path: "bench/ann",
                          exclude: ["hnswlib_peer.py", "run.sh"]),
        .executableTarget(name: "bench-embed", dependencies: ["Embedder", "Tensor", "CKernels", argumentParser], path: "bench/embed",
                          exclude: ["peer_sentence_transformers.py"]),
        .executableTarget(name: "bench-retrieve", dependencies: ["RAG", argumentParser], path: "bench/retrieve"),
        .executableTarget(name: "bench-generate", dependencies: ["Generator", "Tensor", "Tokenizers", argumentParser],
                          path: "bench/generate", exclude: ["llama_cpp_peer.py"]),
        .executableTarget(name: "bench-train", dependencies: ["Generator", "Tensor", "Tokenizers", argumentParser], path: "bench/train",
                          exclude: ["run.sh", "torch_peft_peer.py", "trl_peer.py"]),

        // Test-only: a deterministic RAGService (ScriptedService) and an executable serving it, for the
        // server's scheduling tests (queue, disconnects, shutdown) that need generation slow on purpose.
        .target(name: "ServerTestSupport", dependencies: ["RAG", "RAGServer", "Tokenizers"], path: "Tests/ServerTestSupport"),
        .executableTarget(name: "rag-server-scripted", dependencies: [
            "RAGServer", "RAGServerCLI", "ServerTestSupport",
            argumentParser,
            .product(name: "Logging", package: "swift-log"),
        ], path: "Tests/ScriptedServer"),

        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CKernels"], resources: [.copy("Fixtures")]),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers", "Tensor", "Ingest"], resources: [.copy("Fixtures")]),
        .testTarget(name: "IngestTests", dependencies: ["Ingest"], resources: [.copy("Fixtures")]),
        .testTarget(name: "SeededRandomTests", dependencies: ["SeededRandom"]),
        .testTarget(name: "VectorIndexTests", dependencies: ["VectorIndex", "SeededRandom"]),
        .testTarget(name: "EmbedderTests", dependencies: ["Embedder", "Tensor", "Tokenizers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GeneratorTests", dependencies: ["Generator", "CKernels", "SeededRandom"], resources: [.copy("Fixtures")]),
        .testTarget(name: "RAGTests", dependencies: ["RAG", "Generator", "Tensor", "Tokenizers", "ServerTestSupport"]),
        .testTarget(name: "ServerTests", dependencies: [
            "RAG", "RAGServer", "RAGServerCLI", "ServerTestSupport",
            .product(name: "Logging", package: "swift-log"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        ]),
    ]
)
