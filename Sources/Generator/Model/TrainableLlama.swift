// The Llama decoder (Touvron et al. 2023) written on the tensor core's autograd: the reference
// definition of the model, which training differentiates and the fast inference paths
// (LlamaForward, LlamaDecodeStep) are tested against. It reads the weights a LlamaModel loaded
// (GGUF blocks or Hugging Face tensors, shared, never copied): projections stay frozen in their
// stored form (QLoRA over GGUF's quantized blocks, plain LoRA over dense F32), and LoRA updates
// are the trainable parameters.
//
//   x = embed(ids)                                             [B, T, C]
//   for each layer (recomputed in backward: only x is kept)
//     h = rmsnorm(x) · attention_norm                          [B, T, C]
//     q = rope(h Wqᵀ) [B, H, T, D]   k = rope(h Wkᵀ) [B, KVH, T, D]   v = h Wvᵀ [B, KVH, T, D]
//     a = softmax(q kᵀ / √D + causal) v                        [B, H, T, D] -> [B, T, H·D]
//     x = x + a Woᵀ                                            [B, T, C]
//     h = rmsnorm(x) · mlp_norm
//     x = x + (silu(h Wgateᵀ) ⊙ h Wupᵀ) Wdownᵀ                 [B, T, C]
//   h = rmsnorm(x) · final_norm                                [B, T, C]
//   logits = h Woutᵀ                                           [B, T, V]  (or log p of targets, fused)
//
// Each projection W y = x Wᵀ (+ scale · x Aᵀ Bᵀ where adapted). Sequences of a batch are right-
// padded to one length T; with causal attention a real token never sees the padding after it.

import Foundation
import Tensor

final class TrainableLlamaLayer: @unchecked Sendable {
    let attentionNorm: Tensor   // [C]
    let q, k, v, o: AdaptedProjection
    let mlpNorm: Tensor         // [C]
    let gate, up, down: AdaptedProjection
    /// Trained copies of the norm gains (full training, BitFit); the policy reads them. A BitFit
    /// adapter training started from keeps its gains for the reference.
    var trainedAttentionNorm: Tensor?, trainedMLPNorm: Tensor?
    var referenceAttentionNorm: Tensor?, referenceMLPNorm: Tensor?

    init(_ w: LlamaLayerWeights, index l: Int) {
        attentionNorm = w.attentionNorm
        q = AdaptedProjection(role: .q, layer: l, base: w.wq.frozen)
        k = AdaptedProjection(role: .k, layer: l, base: w.wk.frozen)
        v = AdaptedProjection(role: .v, layer: l, base: w.wv.frozen)
        o = AdaptedProjection(role: .o, layer: l, base: w.wo.frozen)
        mlpNorm = w.mlpNorm
        gate = AdaptedProjection(role: .gate, layer: l, base: w.wGate.frozen)
        up = AdaptedProjection(role: .up, layer: l, base: w.wUp.frozen)
        down = AdaptedProjection(role: .down, layer: l, base: w.wDown.frozen)
    }

    var projections: [AdaptedProjection] { [q, k, v, o, gate, up, down] }

    /// The norm gain a forward pass of `mode` uses.
    static func pick(_ mode: AdapterMode, trained: Tensor?, reference: Tensor?, base: Tensor) -> Tensor {
        switch mode {
        case .policy: return trained ?? base
        case .reference: return reference ?? base
        case .off: return base
        }
    }

    /// x: [B, T, C] -> [B, T, C].
    func callAsFunction(_ x: Tensor, config c: LlamaConfig, mode: AdapterMode) throws -> Tensor {
        let (b, t) = (x.shape[0], x.shape[1])
        let hd = c.headDim
        // attention block
        let norm1 = Self.pick(mode, trained: trainedAttentionNorm, reference: referenceAttentionNorm, base: attentionNorm)
        let norm2 = Self.pick(mode, trained: trainedMLPNorm, reference: referenceMLPNorm, base: mlpNorm)
        let h = try x.rmsNorm(weight: norm1, eps: c.rmsNormEps)                                           // [B, T, C]
        let queries = try q(h, mode: mode).reshape([b, t, c.heads, hd]).permute([0, 2, 1, 3])            // [B, H, T, D]
            .rope(theta: c.ropeTheta, rotaryDim: c.rotaryDim, layout: c.ropeLayout)
        let keys = try k(h, mode: mode).reshape([b, t, c.kvHeads, hd]).permute([0, 2, 1, 3])             // [B, KVH, T, D]
            .rope(theta: c.ropeTheta, rotaryDim: c.rotaryDim, layout: c.ropeLayout)
        let values = try v(h, mode: mode).reshape([b, t, c.kvHeads, hd]).permute([0, 2, 1, 3])           // [B, KVH, T, D]
        let a = try Tensor.attention(query: queries, key: keys, value: values, causal: true)              // [B, H, T, D]
        let merged = try a.permute([0, 2, 1, 3]).contiguous().reshape([b, t, c.heads * hd])               // [B, T, H·D]
        let x1 = try x + o(merged, mode: mode)                                                            // [B, T, C]
        // MLP block
        let h2 = try x1.rmsNorm(weight: norm2, eps: c.rmsNormEps)                                         // [B, T, C]
        let act = try gate(h2, mode: mode).silu() * up(h2, mode: mode)                                    // [B, T, hidden]
        return try x1 + down(act, mode: mode)                                                             // [B, T, C]
    }
}

public final class TrainableLlama: @unchecked Sendable {
    public let model: LlamaModel
    public var config: LlamaConfig { model.config }
    let layers: [TrainableLlamaLayer]
    let finalNorm: Tensor
    let head: FrozenMatrix
    /// Keep only each layer's input and recompute the rest in backward (far less memory for one
    /// more forward pass). On by default.
    public var recomputeLayers = true
    /// How the frozen weights' products (projections and head, forward and backward) are computed:
    /// Float32 (the default) or bf16 with Float32 sums (`--bf16`). Trainable parameters, norms and
    /// attention stay Float32.
    public var frozenPrecision: FrozenPrecision = .float32 {
        didSet { for p in projections { p.precision = frozenPrecision } }
    }
    /// The LoRA settings of the adapter being trained (nil: none yet).
    public private(set) var lora: LoRAOptions?
    /// A reward model's scalar head `score.weight` [1, C] (ValueHead.swift); nil for a language model.
    var valueHead: Tensor?
    /// PPO's critic `v_head.weight` [1, C] on the policy's hidden states (CriticHead.swift).
    var criticHead: Tensor?
    /// Full-parameter training (FullParameters.swift): the trained embedding [V, C], output head
    /// [V, C] (the same tensor when tied) and final norm [C] (also BitFit's); nil when training an adapter.
    var embeddingTable: Tensor?, headTable: Tensor?, trainedFinalNorm: Tensor?
    var referenceFinalNorm: Tensor?
    /// Prompt tuning's virtual tokens [N, C] (PromptTuning.swift), and those training started from.
    var promptEmbeddings: Tensor?, promptStart: Tensor?
    /// What is trained: a LoRA adapter (also before any is added), (IA)³, BitFit, prompt tuning, every weight.
    public internal(set) var method: PEFTMethod = .lora

    public init(_ model: LlamaModel) {
        self.model = model
        layers = model.weights.layers.enumerated().map { TrainableLlamaLayer($1, index: $0) }
        finalNorm = model.weights.finalNorm
        head = model.weights.output.frozen
    }

    var projections: [AdaptedProjection] { layers.flatMap(\.projections) }

    /// The id that right-pads a batch: the tokenizer's padding token, else its eos, else 0
    /// (padding is never a target, and causal attention keeps it out of the real tokens).
    var padID: Int { model.tokenizer.special.padding ?? model.tokenizer.special.eos ?? 0 }

    // MARK: - adapters

    /// Puts a fresh LoRA update (A random, B zero: the model is unchanged) on the selected
    /// projections. Deterministic for a given seed.
    public func addLoRA(_ options: LoRAOptions, seed: UInt64) throws {
        let names = try options.selectedProjections()
        var rng = TensorRNG(seed: seed)
        for p in projections where names.contains(p.role.projectionName ?? "") {
            guard try options.adapts(layer: p.layer, of: layers.count) else { continue }
            p.lora = LoRA(inFeatures: p.base.cols, outFeatures: p.base.rows, rank: options.rank, alpha: options.alpha,
                          dropout: options.dropout, rng: &rng)
        }
        lora = options
    }

    /// Starts from a saved PEFT adapter: its weights become the trainable update (same modules,
    /// rank and scale) and a frozen copy of them the reference (`AdapterMode.reference`).
    /// `dropout` applies to the trainable update.
    public func loadLoRA(from directory: URL, dropout: Float, seed: UInt64) throws {
        let peft: PEFTAdapter
        do { peft = try PEFTAdapter(directory: directory) } catch let error as TensorError {
            throw GeneratorError.invalidWeights(error.description)
        }
        let bound = try LlamaAdapter(peft, config: config)   // checks every module against this model
        var rng = TensorRNG(seed: seed)
        var ranks = Set<Int>(), names = Set<String>(), adapted = Set<Int>(), alpha: Float = 0
        for (l, layer) in layers.enumerated() {
            for p in layer.projections {
                guard let u = bound.layers[l][p.role] else { continue }
                let trained = LoRA(inFeatures: p.base.cols, outFeatures: p.base.rows, rank: u.rank, alpha: u.scale * Float(u.rank),
                                   dropout: dropout, rng: &rng)
                trained.a.assignValues(u.a); trained.b.assignValues(u.b)
                let frozen = LoRA(inFeatures: p.base.cols, outFeatures: p.base.rows, rank: u.rank, alpha: u.scale * Float(u.rank),
                                  dropout: 0, rng: &rng)
                frozen.a.assignValues(u.a); frozen.b.assignValues(u.b)
                frozen.setTrainable(false)
                p.lora = trained
                p.reference = frozen
                ranks.insert(u.rank); names.insert(p.role.projectionName ?? ""); adapted.insert(l); alpha = u.scale * Float(u.rank)
            }
        }
        guard ranks.count == 1, let rank = ranks.first else {
            throw GeneratorError.invalidWeights("\(directory.path): adapters with several ranks (\(ranks.sorted())) cannot be trained further here")
        }
        lora = LoRAOptions(rank: rank, alpha: alpha, dropout: dropout,
                           targets: LoRAOptions.projectionNames.filter { names.contains($0) },
                           layers: adapted.count == layers.count ? nil : adapted.sorted())
    }

    /// Overwrites the trainable updates with a saved adapter's weights (resuming a checkpoint of
    /// this same run); every adapted module must be in it with the same shapes.
    public func restoreLoRAWeights(from directory: URL) throws {
        let peft: PEFTAdapter
        do { peft = try PEFTAdapter(directory: directory) } catch let error as TensorError {
            throw GeneratorError.invalidWeights(error.description)
        }
        let bound = try LlamaAdapter(peft, config: config)
        for (l, layer) in layers.enumerated() {
            for p in layer.projections {
                guard let lora = p.lora else { continue }
                guard let u = bound.layers[l][p.role], u.a.shape == lora.a.shape, u.b.shape == lora.b.shape else {
                    throw GeneratorError.invalidWeights("\(directory.path): no matching update for \(p.path) (rank \(lora.rank))")
                }
                lora.a.assignValues(u.a); lora.b.assignValues(u.b)
            }
        }
        if valueHead != nil { try loadValueHead(from: directory) }
    }

    /// The trainable parameters under their PEFT names (`base_model.model.<module>.lora_A.weight`),
    /// in model order.
    public var trainableParameters: [(String, Tensor)] {
        let heads = (valueHead.map { [(Self.valueHeadKey, $0)] } ?? []) + (criticHead.map { [(Self.criticHeadKey, $0)] } ?? [])
        switch method {
        case .full: return fullParameters + heads
        case .ia3: return projections.compactMap { p in p.ia3.map { ("base_model.model.\(p.path).ia3_l", $0) } } + heads
        case .bitfit: return bitFitTensors + heads
        case .prompt: return (promptEmbeddings.map { [(Self.promptEmbeddingsKey, $0)] } ?? []) + heads
        case .lora, .qlora: break
        }
        return projections.flatMap { p -> [(String, Tensor)] in
            guard let lora = p.lora else { return [] }
            return lora.namedParameters().map { ("base_model.model.\(p.path).\($0.0)", $0.1) }
        } + heads
    }

    /// Dropout of the trainable updates on (training) or off (evaluation).
    public func setTraining(_ on: Bool) {
        for p in projections { p.lora?.training = on }
    }

    /// Writes the trainable updates as a PEFT adapter (adapter_config.json + adapter_model.safetensors)
    /// in Hugging Face row order (GGUF's q/k permutation undone), loadable by `rag --adapter` and peft.
    public func saveAdapter(to directory: URL, baseModelName: String) throws {
        guard let options = lora else { throw GeneratorError.invalidOptions("the model has no LoRA adapter to save") }
        var tensors: [(String, Tensor)] = []
        var targets: [String] = []
        for p in projections {
            guard let lora = p.lora else { continue }
            var b = lora.b.denseIfNeeded
            if config.ropeLayout == .interleaved, p.role == .q || p.role == .k {
                b = LlamaAdapter.halveRotaryRows(b, heads: p.role == .q ? config.heads : config.kvHeads, headDim: config.headDim)
            }
            tensors.append(("base_model.model.\(p.path).lora_A.weight", lora.a.denseIfNeeded))
            tensors.append(("base_model.model.\(p.path).lora_B.weight", b))
            if let name = p.role.projectionName, !targets.contains(name) { targets.append(name) }
        }
        let adapterConfig: [String: Any] = [
            "peft_type": "LORA", "task_type": "CAUSAL_LM", "r": options.rank, "lora_alpha": options.alpha,
            "lora_dropout": options.dropout, "target_modules": targets, "bias": "none", "fan_in_fan_out": false,
            "inference_mode": true, "use_rslora": false, "use_dora": false, "init_lora_weights": true,
            "base_model_name_or_path": baseModelName, "modules_to_save": NSNull(),
            "rank_pattern": [String: Any](), "alpha_pattern": [String: Any](),
            "layers_to_transform": options.layers.map { $0 as Any } ?? NSNull(),
        ]
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let json = try JSONSerialization.data(withJSONObject: adapterConfig, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: directory.appendingPathComponent(PEFTAdapter.configFile), options: .atomic)
        try SafeTensors.write(tensors, to: directory.appendingPathComponent(PEFTAdapter.weightsFile))
        try saveValueHead(to: directory)
    }

    // MARK: - forward

    /// The final hidden states h = rmsnorm(x) · final_norm for `ids` ([B·T], row-major): [B, T, C].
    public func hiddenStates(_ ids: [Int], batch b: Int, length t: Int, mode: AdapterMode = .policy) throws -> Tensor {
        let c = config
        guard b > 0, t > 0, ids.count == b * t else {
            throw GeneratorError.invalidOptions("\(ids.count) token ids for a batch of \(b) × \(t)")
        }
        let virtual = mode == .policy ? promptEmbeddings : mode == .reference ? promptStart : nil
        guard t + (virtual?.shape[0] ?? 0) <= c.contextLength else {
            throw GeneratorError.contextOverflow(promptTokens: t + (virtual?.shape[0] ?? 0), contextLength: c.contextLength)
        }
        if let bad = ids.first(where: { $0 < 0 || $0 >= c.vocabSize }) {
            throw GeneratorError.invalidOptions("token id \(bad) is outside the vocabulary (0 ..< \(c.vocabSize))")
        }
        var x: Tensor                                                                                // [B, T, C]
        if mode == .policy, let table = embeddingTable {
            x = try Tensor.embedding(table, ids: ids, shape: [b, t])
        } else {
            x = Tensor(zeros: [b, t, c.dim])
            for (i, id) in ids.enumerated() { try model.weights.embedding.row(id, into: x.data + i * c.dim) }
        }
        let (withVirtual, n) = try prependingVirtualTokens(x, mode: mode)                          // [B, N + T, C]
        x = withVirtual
        for layer in layers {
            let params = layer.projections.flatMap { ($0.lora?.parameters() ?? []) + [$0.full, $0.ia3].compactMap { $0 } }
                + [layer.trainedAttentionNorm, layer.trainedMLPNorm].compactMap { $0 }
            guard recomputeLayers, GradMode.isEnabled else {
                x = try layer(x, config: c, mode: mode)
                continue
            }
            // Replay the same dropout masks when the layer is recomputed in backward.
            let loras = layer.projections.compactMap(\.lora)
            let seeds = loras.map(\.rng)
            x = try Tensor.recomputed(x, parameters: params) { input in
                for (l, s) in zip(loras, seeds) { l.rng = s }
                return try layer(input, config: c, mode: mode)
            }
        }
        let h = try x.rmsNorm(weight: TrainableLlamaLayer.pick(mode, trained: trainedFinalNorm, reference: referenceFinalNorm, base: finalNorm),
                              eps: c.rmsNormEps)
        return n == 0 ? h : try h.slice(axis: 1, n..<(n + t)).contiguous()                      // [B, T, C]: the virtual tokens dropped
    }

    /// logits [B, T, V] (for evaluation and tests; training uses `targetLogProbs`).
    public func logits(_ ids: [Int], batch: Int, length: Int, mode: AdapterMode = .policy) throws -> Tensor {
        let h = try hiddenStates(ids, batch: batch, length: length, mode: mode)
        if mode == .policy, let table = headTable { return try Tensor.linear(h, weight: table) }
        return try Tensor.linear(h, frozen: head, precision: frozenPrecision)
    }

    /// log p(targets[i] | ids[..i]) for every position, [B, T]; 0 where the target is -100.
    /// The head and log-softmax are fused (no [B, T, V] logits are held).
    public func targetLogProbs(_ ids: [Int], targets: [Int], batch: Int, length: Int, mode: AdapterMode = .policy) throws -> Tensor {
        try tokenLogProbs(try hiddenStates(ids, batch: batch, length: length, mode: mode), targets: targets, mode: mode)
    }

    /// log softmax(h Wᵀ)[target] per row of h [..., C] (0 where the target is -100): the fused
    /// head of the frozen W, or, for a fully trained policy, logits through its trained head
    /// (which then gets a gradient too).
    func tokenLogProbs(_ h: Tensor, targets: [Int], mode: AdapterMode) throws -> Tensor {
        guard mode == .policy, let table = headTable else { return try Tensor.targetLogProbs(h, head: head, targets: targets, precision: frozenPrecision) }
        let logp = try Tensor.linear(h, weight: table).logSoftmax()                                  // [..., V]
        let picked = try logp.pick(targets.map { $0 == -100 ? 0 : $0 })                              // [...]
        let kept = try Tensor(targets.map { $0 == -100 ? 0 : 1 }, shape: picked.shape)
        return try picked * kept
    }
}

extension Tensor {
    /// Copies `src`'s values (same shape) into this parameter, outside autograd.
    func assignValues(_ src: Tensor) {
        let s = src.denseIfNeeded
        data.update(from: s.data, count: Swift.min(count, s.count))
        storage.markModified()
    }
}

extension Tensor {
    /// Self when dense, else a dense copy (no autograd).
    var denseIfNeeded: Tensor { isContiguous ? self : denseCopy() }
}

extension TrainableLlama {
    /// Seeds every adapter's dropout from (seed, step, micro-batch): a run, and a resumed run,
    /// draw the same masks.
    func reseedDropout(seed: UInt64, step: Int, micro: Int) {
        for (i, p) in projections.enumerated() {
            p.lora?.rng = TensorRNG(seed: seed &+ UInt64(step) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(micro) &* 0xBF58_476D_1CE4_E5B9 &+ UInt64(i))
        }
    }
}
