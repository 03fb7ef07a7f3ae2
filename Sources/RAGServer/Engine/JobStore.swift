import Foundation
import RAG

/// Background jobs (folder re-syncs) with their progress and final report, for GET /v1/jobs/{id}.
///
/// Each job's record is also kept in the knowledge base (`RAGService.saveJob`): when it starts, as
/// its progress moves (at most about once a second) and when it ends. So with several servers on
/// one PostgreSQL base, any of them answers for a job another started; ids are random so that
/// servers never reuse each other's.
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
    private var services: [String: any RAGService] = [:]
    private var savedAt: [String: Date] = [:]
    private var saving: [String: Task<Void, Never>] = [:]

    public init() {}

    /// Starts a sync unless one is running, in which case that one's id comes back.
    public func startSync(on service: any RAGService) -> Job {
        if let running = jobs.values.first(where: { $0.status == .running }) { return running }
        let id = "job-" + UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(16).lowercased()
        let job = Job(id: id, status: .running, createdAt: Date())
        jobs[id] = job
        services[id] = service
        save(id)
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

    /// This server's job, or one another server on the same base recorded.
    public func job(_ id: String, on service: (any RAGService)?) async -> Job? {
        if let local = jobs[id] { return local }
        guard let service, let data = try? await service.job(id: id) else { return nil }
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601  // as JSONCoding encodes
        return try? decoder.decode(Job.self, from: data)
    }

    /// Writes the job's record to the base (in the background: a failed write only means other
    /// servers see an older state).
    private func save(_ id: String) {
        guard let job = jobs[id], let service = services[id], let data = try? JSONCoding.encoder().encode(job) else { return }
        savedAt[id] = Date()
        // One write after the other, so an earlier state never lands after a later one.
        let previous = saving[id]
        saving[id] = Task {
            await previous?.value
            try? await service.saveJob(id: id, record: data)
        }
    }

    private func update(_ id: String, _ p: IngestProgress) {
        // Progress arrives through unordered tasks: keep only news.
        guard jobs[id]?.status == .running, p.filesDone >= (jobs[id]?.progress?.filesDone ?? 0) else { return }
        jobs[id]?.progress = .init(filesDone: p.filesDone, filesTotal: p.filesTotal, chunksAdded: p.chunksAdded,
                                   bytesDone: p.bytesDone, bytesTotal: p.bytesTotal, currentFile: p.currentFile)
        if Date().timeIntervalSince(savedAt[id] ?? .distantPast) >= 1 { save(id) }
    }

    private func finish(_ id: String, report: IngestReport?, error: String?, cancelled: Bool) {
        jobs[id]?.status = cancelled ? .cancelled : (error == nil ? .succeeded : .failed)
        jobs[id]?.report = report
        jobs[id]?.error = error
        jobs[id]?.finishedAt = Date()
        tasks[id] = nil
        save(id)
        services[id] = nil
    }

    /// At shutdown: cancel running syncs and wait for them (each step of a sync is one transaction).
    public func cancelAll() async {
        let running = Array(tasks.values)
        running.forEach { $0.cancel() }
        for t in running { await t.value }
        for t in Array(saving.values) { await t.value }  // the jobs' last records reach the base
    }
}
