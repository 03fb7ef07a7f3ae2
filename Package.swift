// swift-tools-version:6.0
// rag: local retrieval-augmented question answering. See shared/ARCHITECTURE.md for the design.
import PackageDescription

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
    ],
    targets: [
        // Thin system-library targets: a module map and a shim header each.
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CPoppler", pkgConfig: "poppler-glib", providers: [.apt(["libpoppler-glib-dev"])]),
        .systemLibrary(name: "CSQLite", pkgConfig: "sqlite3", providers: [.apt(["libsqlite3-dev"])]),
        // Hot SIMD kernels (quantized matvec, distances) with run-time CPU dispatch, so the
        // Swift code can stay built for baseline x86-64 and still use AVX2/AVX-512 where present.
        .target(name: "CKernels", cSettings: [.unsafeFlags(["-O3"])]),

        .target(name: "Tensor", dependencies: ["CBLAS", "CKernels"]),
        .target(name: "Tokenizers"),
        .target(name: "Ingest", dependencies: ["CPoppler"]),
        .target(name: "VectorIndex", dependencies: ["CSQLite", "CKernels"]),
        .target(name: "Embedder", dependencies: ["Tensor", "Tokenizers", "CBLAS"]),
        .target(name: "Generator", dependencies: ["Tensor", "Tokenizers"]),
        .target(name: "RAG", dependencies: [
            "Tensor", "Tokenizers", "Ingest", "VectorIndex", "Embedder", "Generator", "CSQLite",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "rag-cli", dependencies: [
            "RAG",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        .executableTarget(name: "rag-server", dependencies: [
            "RAG",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "bench-embed", dependencies: ["Embedder"], path: "bench/embed"),

        .executableTarget(name: "bench-tensor", dependencies: ["Tensor", "CBLAS"], path: "bench/tensor"),
        .executableTarget(name: "bench-quant", dependencies: ["Tensor", "CBLAS", "CKernels"], path: "bench/quant"),

        .testTarget(name: "RAGTests", dependencies: ["RAG"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor"], resources: [.copy("Fixtures")]),
        .executableTarget(name: "bench-tokenizers", dependencies: ["Tokenizers"], path: "bench/tokenizers"),
        .testTarget(name: "TokenizersTests", dependencies: ["Tokenizers"], resources: [.copy("Fixtures")]),
        .testTarget(name: "EmbedderTests", dependencies: ["Embedder"], resources: [.copy("Fixtures")]),
    ]
)
