// The model's weights as BlockMatrix views, when every matrix a decode step multiplies is Q8_0 or
// Q4_1 (SmolLM2's GGUF: Q4_1 layers, Q8_0 embedding/output). Otherwise nil: decode then goes
// through WeightMatrix.apply like prefill.

struct DecodeLayerMatrices: Sendable {
    let wq: BlockMatrix, wk: BlockMatrix, wv: BlockMatrix, wo: BlockMatrix
    let wGate: BlockMatrix, wUp: BlockMatrix, wDown: BlockMatrix
}

struct DecodeMatrices: Sendable {
    let layers: [DecodeLayerMatrices]
    let output: BlockMatrix

    init?(_ weights: LlamaWeights) {
        func block(_ w: WeightMatrix) -> BlockMatrix? {
            guard case .quantized(let m) = w else { return nil }
            return BlockMatrix(m)
        }
        var layers: [DecodeLayerMatrices] = []
        for l in weights.layers {
            guard let wq = block(l.wq), let wk = block(l.wk), let wv = block(l.wv), let wo = block(l.wo),
                  let wGate = block(l.wGate), let wUp = block(l.wUp), let wDown = block(l.wDown) else { return nil }
            layers.append(DecodeLayerMatrices(wq: wq, wk: wk, wv: wv, wo: wo, wGate: wGate, wUp: wUp, wDown: wDown))
        }
        guard let output = block(weights.output) else { return nil }
        self.layers = layers
        self.output = output
    }
}
