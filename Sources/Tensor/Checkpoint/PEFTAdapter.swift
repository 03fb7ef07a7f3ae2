import Foundation

// A LoRA adapter in the PEFT layout (Hu et al. 2021; the Hugging Face `peft` library's files):
//
//   DIR/adapter_config.json        {"peft_type": "LORA", "r", "lora_alpha", "target_modules",
//                                    "use_rslora", "rank_pattern", "alpha_pattern", "bias", ...}
//   DIR/adapter_model.safetensors  base_model.model.<module>.lora_A.weight  [r, in]
//                                  base_model.model.<module>.lora_B.weight  [out, r]
//
// For each adapted module: y = W x + scale · B (A x), with scale = alpha / r (alpha / √r with rsLoRA).
// What a model does with the pairs (which module is which weight) is the model's business; this
// reads, checks and returns them by module path (`model.layers.3.self_attn.q_proj`).

public struct PEFTAdapter: Sendable {
    /// One adapted module: its low-rank pair and the factor its product is scaled by.
    public struct Pair: @unchecked Sendable {
        public let a: Tensor      // [r, in]
        public let b: Tensor      // [out, r]
        public let scale: Float
        public var rank: Int { a.shape[0] }
    }

    public let directory: URL
    /// The folder's name: how users and servers refer to the adapter.
    public var name: String { directory.lastPathComponent }
    public let baseModel: String?
    /// Module path (without PEFT's `base_model.model.` prefix) -> its pair.
    public let modules: [String: Pair]

    public static let configFile = "adapter_config.json"
    public static let weightsFile = "adapter_model.safetensors"

    public init(directory: URL) throws {
        self.directory = directory
        let configURL = directory.appendingPathComponent(Self.configFile)
        let weightsURL = directory.appendingPathComponent(Self.weightsFile)
        for needed in [configURL, weightsURL] where !FileManager.default.fileExists(atPath: needed.path) {
            throw TensorError.checkpoint("\(directory.path): not a PEFT adapter folder (no \(needed.lastPathComponent))")
        }
        let config = try AdapterConfig(url: configURL)
        baseModel = config.baseModel
        let file = try SafeTensorsFile(url: weightsURL)
        modules = try Self.pairs(in: file, config: config)
        guard !modules.isEmpty else {
            throw TensorError.checkpoint("\(weightsURL.path): no lora_A/lora_B tensors")
        }
    }

    /// Groups `…<module>.lora_A.weight` / `…<module>.lora_B.weight` by module and checks their shapes.
    static func pairs(in file: SafeTensorsFile, config: AdapterConfig) throws -> [String: Pair] {
        var halves: [String: (a: String?, b: String?)] = [:]
        for name in file.names {
            for (suffix, isA) in [(".lora_A.weight", true), (".lora_B.weight", false)] where name.hasSuffix(suffix) {
                var module = String(name.dropLast(suffix.count))
                if module.hasPrefix("base_model.model.") { module.removeFirst("base_model.model.".count) }
                if isA { halves[module, default: (nil, nil)].a = name } else { halves[module, default: (nil, nil)].b = name }
            }
            if name.hasSuffix(".lora_magnitude_vector") || name.hasSuffix(".lora_magnitude_vector.weight") {
                throw TensorError.checkpoint("\(file.url.path): '\(name)' is a DoRA tensor; DoRA adapters are not supported")
            }
        }
        var result: [String: Pair] = [:]
        for (module, half) in halves {
            guard let aName = half.a, let bName = half.b else {
                throw TensorError.checkpoint("\(file.url.path): module '\(module)' has lora_\(half.a == nil ? "B" : "A") but no lora_\(half.a == nil ? "A" : "B")")
            }
            let a = try file.tensor(aName), b = try file.tensor(bName)
            guard a.shape.count == 2, b.shape.count == 2, b.shape[1] == a.shape[0] else {
                throw TensorError.checkpoint("\(file.url.path): '\(aName)' \(a.shape) and '\(bName)' \(b.shape) are not [r, in] and [out, r]")
            }
            guard a.shape[0] == config.rank(of: module) else {
                throw TensorError.checkpoint("\(file.url.path): '\(aName)' has rank \(a.shape[0]) but adapter_config.json says r = \(config.rank(of: module))")
            }
            result[module] = Pair(a: a, b: b, scale: config.scale(of: module))
        }
        return result
    }
}

/// The fields of adapter_config.json that change the arithmetic; anything we cannot honour is an error.
struct AdapterConfig {
    let rank: Int
    let alpha: Float
    let rsLoRA: Bool
    let rankPattern: [String: Int]
    let alphaPattern: [String: Float]
    let baseModel: String?

    init(url: URL) throws {
        let object: Any
        do { object = try JSONSerialization.jsonObject(with: Data(contentsOf: url)) } catch {
            throw TensorError.checkpoint("\(url.path): not valid JSON (\(error.localizedDescription))")
        }
        guard let json = object as? [String: Any] else { throw TensorError.checkpoint("\(url.path): not a JSON object") }
        func fail(_ field: String, _ why: String) -> TensorError { .checkpoint("\(url.path): field '\(field)' \(why)") }
        let type = json["peft_type"] as? String ?? "LORA"
        guard type == "LORA" else { throw fail("peft_type", "is '\(type)'; only LORA adapters are supported") }
        guard let r = json["r"].flatMap(jsonInt), r > 0 else { throw fail("r", "must be a positive integer") }
        rank = r
        guard let a = (json["lora_alpha"] as? NSNumber)?.floatValue, a.isFinite else { throw fail("lora_alpha", "must be a number") }
        alpha = a
        rsLoRA = json["use_rslora"] as? Bool ?? false
        if json["use_dora"] as? Bool == true { throw fail("use_dora", "is true; DoRA adapters are not supported") }
        if json["fan_in_fan_out"] as? Bool == true { throw fail("fan_in_fan_out", "is true; only Linear layers (false) are supported") }
        if let bias = json["bias"] as? String, bias != "none" { throw fail("bias", "is '\(bias)'; only 'none' is supported") }
        if let saved = json["modules_to_save"] as? [Any], !saved.isEmpty {
            throw fail("modules_to_save", "is not empty; adapters that replace whole modules are not supported")
        }
        rankPattern = ((json["rank_pattern"] as? [String: Any]) ?? [:]).compactMapValues(jsonInt)
        alphaPattern = ((json["alpha_pattern"] as? [String: Any]) ?? [:]).compactMapValues { ($0 as? NSNumber)?.floatValue }
        baseModel = json["base_model_name_or_path"] as? String
    }

    /// r of one module: `rank_pattern` overrides `r` for modules whose path ends with its key.
    func rank(of module: String) -> Int { Self.lookup(rankPattern, module) ?? rank }

    /// alpha / r (or alpha / √r with rsLoRA), with the same per-module overrides.
    func scale(of module: String) -> Float {
        let r = Float(rank(of: module)), a = Self.lookup(alphaPattern, module) ?? alpha
        return rsLoRA ? a / r.squareRoot() : a / r
    }

    private static func lookup<V>(_ pattern: [String: V], _ module: String) -> V? {
        pattern.first { module == $0.key || module.hasSuffix("." + $0.key) }?.value
    }
}
