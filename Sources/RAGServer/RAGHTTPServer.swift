import Foundation
import Hummingbird
import Logging
import NIOCore
import RAG
import ServiceLifecycle
import UnixSignals

/// The HTTP service over any `RAGService`. It listens at once and serves /health (503 "loading")
/// while `loadService` opens the models; then every route goes live.
///
///     let server = RAGHTTPServer(config: config, logger: logger) { try await openPipeline(config) }
///     try await server.run()          // until SIGINT/SIGTERM
public struct RAGHTTPServer: Sendable {
    public typealias ServiceLoader = @Sendable () async throws -> any RAGService

    public let config: ServerConfig
    public let state: ServerState
    let logger: Logger
    let loadService: ServiceLoader

    public init(config: ServerConfig, logger: Logger, loadService: @escaping ServiceLoader) {
        self.config = config
        self.logger = logger
        self.loadService = loadService
        self.state = ServerState(config: config)
    }

    /// Runs until SIGINT or SIGTERM, then shuts down gracefully.
    public func run() async throws {
        try await makeServiceGroup(gracefulShutdownSignals: [.sigterm, .sigint]).run()
    }

    /// The server and the loader as one ServiceGroup; tests start it without signals, read the
    /// bound port from `onRunning` and stop it with `triggerGracefulShutdown()`.
    public func makeServiceGroup(gracefulShutdownSignals: [UnixSignal] = [],
                                 onRunning: @escaping @Sendable (_ port: Int) async -> Void = { _ in }) -> ServiceGroup {
        let config = self.config, logger = self.logger
        let app = Application(
            router: makeRouter(),
            server: .http1(configuration: .init(additionalChannelHandlers: [CloseOnParseError()])),
            configuration: .init(address: .hostname(config.host, port: config.port), serverName: "rag-server"),
            onServerRunning: { channel in
                let port = channel.localAddress?.port ?? config.port
                logger.notice("rag-server listening on http://\(config.host):\(port)")
                if config.apiKey == nil {
                    logger.warning("running WITHOUT authentication (no --api-key / RAG_API_KEY): anyone who can reach \(config.host) can use it")
                }
                await onRunning(port)
            },
            logger: logger)
        let loader = ServiceLoaderService(state: state, load: loadService, logger: logger)
        // Shutdown runs in reverse order: the HTTP server drains first, then the loader closes the service.
        return ServiceGroup(configuration: .init(
            services: [
                .init(service: loader, successTerminationBehavior: .gracefullyShutdownGroup, failureTerminationBehavior: .gracefullyShutdownGroup),
                .init(service: app),
            ],
            gracefulShutdownSignals: gracefulShutdownSignals,
            logger: logger))
    }

    public func makeRouter() -> Router<ServerContext> {
        let router = Router(context: ServerContext.self)
        router.add(middleware: RequestLogMiddleware(metrics: state.metrics))
        router.add(middleware: ErrorMiddleware())
        if let key = config.apiKey { router.add(middleware: AuthMiddleware(apiKey: key)) }
        router.add(middleware: BodyLimitMiddleware(defaultLimit: config.maxBodyBytes, uploadLimit: config.maxUploadBytes,
                                                   uploadPaths: ["/v1/documents"]))
        HealthController(state: state).addRoutes(to: router)
        OpenAIController(state: state).addRoutes(to: router)
        RetrievalController(state: state).addRoutes(to: router)
        DocumentsController(state: state).addRoutes(to: router)
        DocumentFileController(state: state).addRoutes(to: router)
        WebPageController().addRoutes(to: router)
        PreferencesController(board: config.prefs.map { PreferenceBoard(url: URL(fileURLWithPath: $0)) }).addRoutes(to: router)
        return router
    }
}

/// Loads the service in the background, holds it while the server runs, and on shutdown stops
/// background jobs and lets the service go.
struct ServiceLoaderService: Service {
    let state: ServerState
    let load: RAGHTTPServer.ServiceLoader
    let logger: Logger

    func run() async throws {
        let start = Date()
        do {
            // A shutdown during loading cancels the load (a loader should honour cancellation).
            let service = try await cancelWhenGracefulShutdown { try await load() }
            await state.provider.set(service)
            logger.notice("service ready in \(String(format: "%.1f", Date().timeIntervalSince(start))) s: \(service.models.generator), \(service.models.embedder)")
        } catch {
            await state.provider.fail("\(error)")
            logger.critical("the service failed to load: \(error)")
            throw error
        }
        try? await gracefulShutdown()
        await state.jobs.cancelAll()
        await state.provider.close()
        logger.notice("service closed")
    }
}
