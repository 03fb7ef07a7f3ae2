import Foundation

/// How an adapter trained to decline in one sentence is helped to do so: a bias added to the logit of
/// that sentence's first token when an answer starts, calibrated on questions it was not trained on
/// (`rag eval refusal`). The file lives in the adapter's folder (`answering.json`): the bias is a
/// measurement of that adapter, on that adapter's scale, and means nothing for another model.
public struct RefusalCalibration: Codable, Sendable, Equatable {
    /// The sentence the adapter was trained to answer with when the passages lack the answer.
    public var refusal: String
    /// Added to the logit of the refusal's first token before an answer's first token is chosen.
    public var bias: Float
    /// How the bias was measured (questions, rates), for the reader of the file.
    public var calibration: String?
    /// When present, decides before generating whether to decline (`AnswerabilityProbe`).
    public var probe: AnswerabilityProbe?

    public static let fileName = "answering.json"

    public init(refusal: String, bias: Float, calibration: String? = nil, probe: AnswerabilityProbe? = nil) {
        self.refusal = refusal; self.bias = bias; self.calibration = calibration; self.probe = probe
    }

    /// The calibration beside an adapter, or nil when the folder has none.
    public static func load(adapterFolder: URL) throws -> RefusalCalibration? {
        let url = adapterFolder.appendingPathComponent(fileName)
        guard FileManager.default.fileExists(atPath: url.path) else { return nil }
        let c: RefusalCalibration
        do { c = try JSONDecoder().decode(RefusalCalibration.self, from: Data(contentsOf: url)) } catch {
            throw RAGError.invalidInput("\(url.path): not a refusal calibration ({\"refusal\", \"bias\"}): \(error)")
        }
        guard !c.refusal.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty else {
            throw RAGError.invalidInput("\(url.path): field \"refusal\" is empty")
        }
        guard c.bias.isFinite, abs(c.bias) <= 100 else {
            throw RAGError.invalidInput("\(url.path): field \"bias\" (\(c.bias)) must be a finite logit offset within ±100")
        }
        if let problem = c.probe?.problem { throw RAGError.invalidInput("\(url.path): \(problem)") }
        return c
    }

    public func write(adapterFolder: URL) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys, .withoutEscapingSlashes]
        try (encoder.encode(self) + Data("\n".utf8)).write(to: adapterFolder.appendingPathComponent(Self.fileName), options: .atomic)
    }

    /// The id the refusal starts with, as the model would generate it (the BOS a prompt gets, which
    /// is what an empty text encodes to, dropped).
    func firstToken(_ generator: any TextGenerator) -> Int? {
        let bos = generator.textTokens("", parseSpecial: false)
        let ids = generator.textTokens(refusal, parseSpecial: false)
        return ids.starts(with: bos) ? ids.dropFirst(bos.count).first : ids.first
    }
}
