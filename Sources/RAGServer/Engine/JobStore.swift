import Foundation
import RAG

/// Background jobs (folder re-syncs) with their progress and final report, for GET /v1/jobs/{id}.
public actor JobStore {
    public enum Status: String, Codable, Sendable { case running, succeeded, failed, cancelled }

    public struct Job: Codable, Sendable {
        public var id: String
        public var object = "ingest.job"
        public var status: Status
        public var createdAt: Date
        public var finishedAt: Date?
        public var progress: Progress?
        public var report: IngestReport?
        public var error: String?

        public struct Progress: Codable, Sendable {
            var filesDone, filesTotal, chunksAdded: Int
            var bytesDone, bytesTotal: Int64
            var currentFile: String?
            enum CodingKeys: String, CodingKey {
                case filesDone = "files_done", filesTotal = "files_total", chunksAdded = "chunks_added"
                case bytesDone = "bytes_done", bytesTotal = "bytes_total", currentFile = "current_file"
            }
        }
        enum CodingKeys: String, CodingKey {
            case id, object, status, progress, report, error
            case createdAt = "created_at", finishedAt = "finished_at"
        }
    }

    private var jobs: [String: Job] = [:]
    private var tasks: [String: Task<Void, Never>] = [:]
    private var counter = 0

    public init() {}

    /// Starts a sync unless one is running, in which case that one's id comes back.
    public func startSync(on service: any RAGService) -> Job {
        if let running = jobs.values.first(where: { $0.status == .running }) { return running }
        counter += 1
        let id = "job-\(counter)"
        let job = Job(id: id, status: .running, createdAt: Date())
        jobs[id] = job
        tasks[id] = Task {
            do {
                let report = try await service.sync { p in Task { await self.update(id, p) } }
                self.finish(id, report: report, error: nil, cancelled: false)
            } catch {
                self.finish(id, report: nil, error: "\(error)", cancelled: error is CancellationError)
            }
        }
        return job
    }

    public func job(_ id: String) -> Job? { jobs[id] }

    private func update(_ id: String, _ p: IngestProgress) {
        // Progress arrives through unordered tasks: keep only news.
        guard jobs[id]?.status == .running, p.filesDone >= (jobs[id]?.progress?.filesDone ?? 0) else { return }
        jobs[id]?.progress = .init(filesDone: p.filesDone, filesTotal: p.filesTotal, chunksAdded: p.chunksAdded,
                                   bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, currentFile: p.currentFile)
    }

    private func finish(_ id: String, report: IngestReport?, error: String?, cancelled: Bool) {
        jobs[id]?.status = cancelled ? .cancelled : (error == nil ? .succeeded : .failed)
        jobs[id]?.report = report
        jobs[id]?.error = error
        jobs[id]?.finishedAt = Date()
        tasks[id] = nil
    }

    /// At shutdown: cancel running syncs and wait for them (each step of a sync is one transaction).
    public func cancelAll() async {
        let running = Array(tasks.values)
        running.forEach { $0.cancel() }
        for t in running { await t.value }
    }
}
