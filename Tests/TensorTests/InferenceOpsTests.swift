import CKernels
import Foundation
import XCTest
@testable import Tensor

/// The inference ops and kernels against the autograd ops they replace (and against double-precision
/// references), at odd sizes, on both the AVX2 and the portable kernel variants, split over 1-3 threads.
final class InferenceOpsTests: XCTestCase {
    override func tearDown() { _ = ck_act_set_simd_level(-1) }

    /// Runs `body` once per kernel variant this CPU has (portable always).
    func forEachKernelVariant(_ body: (Int) throws -> Void) rethrows {
        let best = Int(ck_act_set_simd_level(-1))
        for level in 0...best {
            XCTAssertEqual(Int(ck_act_set_simd_level(Int32(level))), level)
            try body(level)
        }
        _ = ck_act_set_simd_level(-1)
    }

    func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
        XCTAssertEqual(a.count, b.count)
        return zip(a, b).map { abs($0 - $1) }.max() ?? 0
    }

    func testBiasGELUMatchesErfReference() throws {
        forEachKernelVariant { level in
            for (rows, cols) in [(1, 1), (3, 7), (2, 8), (5, 13), (2, 1536)] {
                let x = randomTensor([rows, cols], seed: UInt64(cols), std: 3), bias = randomTensor([cols], seed: 7)
                var y = x.toArray()
                y.withUnsafeMutableBufferPointer { p in bias.toArray().withUnsafeBufferPointer { b in
                    ck_bias_gelu_f32(p.baseAddress, b.baseAddress, rows, cols)
                } }
                let xs = x.toArray(), bs = bias.toArray()
                for i in 0..<(rows * cols) {
                    let v = Double(xs[i] + bs[i % cols])
                    let ref = 0.5 * v * (1 + erf(v / 2.0.squareRoot()))
                    XCTAssertEqual(Double(y[i]), ref, accuracy: 2e-6 * max(1, abs(ref)), "level \(level) [\(rows), \(cols)] element \(i)")
                }
            }
        }
        // Far tails: exactly x above, exactly 0 below (as erf saturates).
        var tails: [Float] = [-30, -9, 9, 30]
        ck_bias_gelu_f32(&tails, nil, 1, 4)
        XCTAssertEqual(tails, [0, 0, 9, 30].map { Float($0) * 1 }, "tails \(tails)")
    }

    func testTensorGELUForwardAndGradientStillExact() throws {
        let x = randomTensor([3, 11], seed: 3, std: 2)
        let y = x.gelu().toArray(), xs = x.toArray()
        for i in xs.indices {
            XCTAssertEqual(y[i], 0.5 * xs[i] * (1 + erff(xs[i] * 0.70710678)), accuracy: 1e-6)
        }
        try assertGradients([x]) { x.gelu() }
    }

    func testSoftmaxKernelMatchesDoubleReference() throws {
        forEachKernelVariant { level in
            for n in [1, 3, 8, 9, 17, 255] {
                let scale: Float = n == 9 ? 40 : 4   // wide rows: most weights underflow
                let x = randomTensor([n], seed: UInt64(n), std: scale).toArray()
                var y = x
                ck_softmax_f32(&y, n)
                let m = Double(x.max() ?? 0)
                let e = x.map { Foundation.exp(Double($0) - m) }, s = e.reduce(0, +)
                for i in 0..<n {
                    XCTAssertEqual(Double(y[i]), e[i] / s, accuracy: 1e-6 * max(1e-3, e[i] / s) + 1e-12, "level \(level) n \(n) i \(i)")
                }
                // Unnormalised: exp(x - max) and 1 / sum returned.
                var u = x
                let inverse = ck_softmax_unnormalized_f32(&u, n)
                XCTAssertEqual(Double(inverse), 1 / s, accuracy: 1e-6 / s)
                for i in 0..<n { XCTAssertEqual(Double(u[i]), e[i], accuracy: 1e-6 * max(1e-3, e[i]) + 1e-12) }
            }
            var allMasked = [Float](repeating: -.infinity, count: 9)
            XCTAssertEqual(ck_softmax_unnormalized_f32(&allMasked, 9), 0)
            XCTAssertEqual(allMasked, [Float](repeating: 0, count: 9))
            var masked = [Float](repeating: -.infinity, count: 10)
            ck_softmax_f32(&masked, 10)
            XCTAssertEqual(masked, [Float](repeating: 0, count: 10), "a fully masked row has no weight")
            var partial: [Float] = [0, -.infinity, 0, -.infinity, 1, 2, 3, 4, 5, -.infinity]
            ck_softmax_f32(&partial, 10)
            XCTAssertEqual(partial[1], 0); XCTAssertEqual(partial[9], 0)
            XCTAssertEqual(partial.reduce(0, +), 1, accuracy: 1e-6)
        }
    }

    func testAddLayerNormMatchesAutogradLayerNorm() throws {
        try forEachKernelVariant { level in
            for (rows, cols) in [(1, 8), (3, 13), (4, 384)] {
                let x = randomTensor([rows, cols], seed: 11, std: 2), y = randomTensor([rows, cols], seed: 12)
                let yb = randomTensor([cols], seed: 13), w = randomTensor([cols], seed: 14), b = randomTensor([cols], seed: 15)
                let ref = try (x + y + yb).layerNorm(weight: w, bias: b, eps: 1e-12).toArray()
                let out = x.denseCopy()
                Inference.addLayerNorm(out.data, adding: y.data, yBias: yb.data, weight: w.data, bias: b.data,
                                       eps: 1e-12, rows: rows, cols: cols)
                XCTAssertLessThan(maxAbsDiff(out.toArray(), ref), 2e-5, "level \(level) [\(rows), \(cols)]")
                let plain = x.denseCopy()   // without the residual: plain LayerNorm
                Inference.addLayerNorm(plain.data, adding: nil, yBias: nil, weight: w.data, bias: b.data,
                                       eps: 1e-12, rows: rows, cols: cols)
                let plainRef = try x.layerNorm(weight: w, bias: b, eps: 1e-12).toArray()
                XCTAssertLessThan(maxAbsDiff(plain.toArray(), plainRef), 2e-5, "level \(level) plain [\(rows), \(cols)]")
            }
        }
    }

    func testLinearMatchesAutogradLinearOnAnyThreadCount() throws {
        for (rows, inF, outF) in [(1, 5, 3), (37, 24, 40), (70, 33, 129)] {
            let x = randomTensor([rows, inF], seed: 21), w = randomTensor([outF, inF], seed: 22), b = randomTensor([outF], seed: 23)
            let plainRef = try Tensor.linear(x, weight: w, bias: b).toArray()
            let geluRef = try Tensor.linear(x, weight: w, bias: b).gelu().toArray()
            for threads in 1...3 {
                let y = Tensor(repeating: .nan, shape: [rows, outF])   // the op must overwrite everything
                Inference.linear(x.data, rows: rows, weight: w.data, inFeatures: inF, outFeatures: outF, bias: b.data,
                                 into: y.data, threads: threads)
                XCTAssertLessThan(maxAbsDiff(y.toArray(), plainRef), 1e-4, "[\(rows), \(inF)] -> \(outF), \(threads) threads")
                Inference.linear(x.data, rows: rows, weight: w.data, inFeatures: inF, outFeatures: outF, bias: b.data,
                                 activation: .gelu, into: y.data, threads: threads)
                XCTAssertLessThan(maxAbsDiff(y.toArray(), geluRef), 1e-4, "gelu, \(threads) threads")
            }
            // Into the middle columns of a wider buffer (ldy): the other columns stay untouched.
            let wide = Tensor(repeating: 7, shape: [rows, outF + 4])
            Inference.linear(x.data, rows: rows, weight: w.data, inFeatures: inF, outFeatures: outF, bias: b.data,
                             into: wide.data + 2, ldy: outF + 4)
            let inner = try wide.slice(axis: 1, 2..<(outF + 2)).toArray()
            XCTAssertLessThan(maxAbsDiff(inner, plainRef), 1e-4)
            XCTAssertEqual(try wide.slice(axis: 1, 0..<2).toArray(), [Float](repeating: 7, count: rows * 2))
        }
    }

    /// Runs `body` once per GEMM kernel variant this CPU has (portable always).
    func forEachGEMMVariant(_ body: (Int) throws -> Void) rethrows {
        defer { _ = ck_gemm_set_simd_level(-1) }
        for level in 0...Int(ck_gemm_set_simd_level(-1)) {
            XCTAssertEqual(Int(ck_gemm_set_simd_level(Int32(level))), level)
            try body(level)
        }
    }

    func testPackedSgemmMatchesDoubleReference() throws {
        // Odd m (not whole 6-row tiles), n not whole 16-column panels, k over one 384 slice, row strides
        // wider than the matrices; B packed from rows (W [n, k]) and from columns (B [k, n]). From 64
        // columns on, A is copied into micro-panels (the last two cases: two row blocks of the AVX2 tile,
        // two k slices; two row blocks of the AVX-512 14 x 32 tile, an odd number of panels).
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (13, 48, 385), (50, 33, 800), (101, 70, 400), (130, 100, 50)] {
            let (lda, ldc) = (k + 3, n + 5)
            let a = randomTensor([m, lda], seed: UInt64(m)), w = randomTensor([n, k], seed: 2), bias = randomTensor([n], seed: 3)
            let wt = try w.transpose(0, 1).contiguous()   // [k, n]
            let (av, wv, bv) = (a.toArray(), w.toArray(), bias.toArray())
            let fromRows = InferenceWorkspace(), fromCols = InferenceWorkspace()
            let packedRows = fromRows.buffer(0, count: ck_sgemm_packed_size(n, k))
            let packedCols = fromCols.buffer(0, count: ck_sgemm_packed_size(n, k))
            ck_sgemm_pack_rows(w.data, k, n, k, 0.5, packedRows)
            ck_sgemm_pack_cols(wt.data, n, n, k, packedCols)
            forEachGEMMVariant { level in
                for (packed, alpha, useBias) in [(packedRows, 0.5, true), (packedCols, 1.0, false)] {
                    let c = Tensor(repeating: 9, shape: [m, ldc])
                    ck_sgemm_packed(m, n, k, a.data, lda, packed, useBias ? bias.data : nil, c.data, ldc)
                    let cv = c.toArray()
                    for i in 0..<m {
                        for j in 0..<n {
                            var ref = useBias ? Double(bv[j]) : 0
                            for p in 0..<k { ref += alpha * Double(av[i * lda + p]) * Double(wv[j * k + p]) }
                            XCTAssertEqual(Double(cv[i * ldc + j]), ref, accuracy: 1e-4 * max(1, abs(ref)),
                                           "level \(level) [\(m), \(k)] x [\(k), \(n)] at \(i), \(j)")
                        }
                        XCTAssertEqual(Array(cv[(i * ldc + n)..<((i + 1) * ldc)]), [Float](repeating: 9, count: ldc - n),
                                       "columns past n untouched")
                    }
                }
                // Row-scaled (attention's P V with the softmax's 1 / sum): row i times scales[i], no bias.
                let scales = (0..<m).map { Float($0 % 5) * 0.5 - 0.75 }
                let c = Tensor(repeating: 9, shape: [m, ldc])
                ck_sgemm_packed_row_scaled(m, n, k, a.data, lda, packedCols, scales, c.data, ldc)
                let cv = c.toArray()
                for i in 0..<m {
                    for j in 0..<n {
                        var ref = 0.0
                        for p in 0..<k { ref += Double(av[i * lda + p]) * Double(wv[j * k + p]) }
                        ref *= Double(scales[i])
                        XCTAssertEqual(Double(cv[i * ldc + j]), ref, accuracy: 1e-4 * max(1, abs(ref)), "level \(level) row-scaled at \(i), \(j)")
                    }
                }
            }
        }
    }

    func testBF16x3GEMMMatchesDoubleReference() throws {
        // The AMX GEMM (level 3, where the CPU has it) and its portable loop: odd m (partial 16-row
        // groups, an odd number of them), n past whole 16-column panels, k not a multiple of 32 and
        // deeper than one tile step, row strides wider than the matrices. B packed from rows (W [n, k],
        // scaled) and from columns (B [k, n]); epilogues bias, GELU, row scale. The last case is deep
        // enough that A is packed in three blocks of rows (64, 64, 22).
        for (m, n, k) in [(1, 1, 1), (7, 17, 5), (13, 48, 70), (50, 33, 385), (101, 70, 64), (150, 20, 1600)] {
            let (lda, ldc) = (k + 3, n + 5)
            let a = randomTensor([m, lda], seed: UInt64(m)), w = randomTensor([n, k], seed: 2), bias = randomTensor([n], seed: 3)
            let wt = try w.transpose(0, 1).contiguous()   // [k, n]
            let (av, wv, bv) = (a.toArray(), w.toArray(), bias.toArray())
            let scales = (0..<m).map { Float($0 % 5) * 0.5 - 0.75 }
            let size = ck_sgemm_bf16x3_packed_size(n, k)
            let fromRows = InferenceWorkspace(), fromCols = InferenceWorkspace()
            let packedRows = UnsafeMutableRawPointer(fromRows.buffer(0, count: (size + 1) / 2)).assumingMemoryBound(to: UInt16.self)
            let packedCols = UnsafeMutableRawPointer(fromCols.buffer(0, count: (size + 1) / 2)).assumingMemoryBound(to: UInt16.self)
            ck_sgemm_bf16x3_pack_rows(w.data, k, n, k, 0.5, packedRows)
            ck_sgemm_bf16x3_pack_cols(wt.data, n, n, k, packedCols)
            forEachGEMMVariant { level in
                let cases: [(UnsafeMutablePointer<UInt16>, Double, Bool, Bool, Bool)] = [
                    (packedRows, 0.5, true, false, false), (packedRows, 0.5, true, true, false), (packedCols, 1, false, false, true),
                ]
                for (packed, alpha, useBias, gelu, scaled) in cases {
                    let c = Tensor(repeating: 9, shape: [m, ldc])
                    ck_sgemm_bf16x3(m, n, k, a.data, lda, packed, useBias ? bias.data : nil, scaled ? scales : nil, gelu ? 1 : 0,
                                    c.data, ldc)
                    let cv = c.toArray()
                    for i in 0..<m {
                        for j in 0..<n {
                            var dot = 0.0, magnitude = 0.0
                            for p in 0..<k {
                                let term = alpha * Double(av[i * lda + p]) * Double(wv[j * k + p])
                                dot += term; magnitude += abs(term)
                            }
                            var ref = (scaled ? Double(scales[i]) : 1) * dot + (useBias ? Double(bv[j]) : 0)
                            if gelu { ref = 0.5 * ref * (1 + erf(ref / 2.0.squareRoot())) }
                            // bf16x3 keeps about 16 bits of each operand: error ~1e-5 of the terms' magnitude
                            XCTAssertEqual(Double(cv[i * ldc + j]), ref, accuracy: 2e-5 * max(1, magnitude),
                                           "level \(level) [\(m), \(k)] x [\(k), \(n)] gelu \(gelu) scaled \(scaled) at \(i), \(j)")
                        }
                        XCTAssertEqual(Array(cv[(i * ldc + n)..<((i + 1) * ldc)]), [Float](repeating: 9, count: ldc - n),
                                       "columns past n untouched")
                    }
                }
            }
        }
    }

    func testPackedLinearMatchesUnpackedLinear() throws {
        // (20, 500, 40): k over one 384 slice, so GELU waits for the last one.
        for (rows, inF, outF) in [(1, 5, 3), (97, 24, 40), (301, 33, 129), (20, 500, 40)] {
            let x = randomTensor([rows, inF], seed: 41), w = randomTensor([outF, inF], seed: 42), b = randomTensor([outF], seed: 43)
            for layout in [PackedMatrix.Layout.float32Panels, .bf16x3Tiles] {
                let packed = PackedMatrix(weight: w.data, outFeatures: outF, inFeatures: inF, layout: layout)
                for activation in [Inference.Activation.none, .gelu] {
                    let ref = Tensor(repeating: .nan, shape: [rows, outF])
                    Inference.linear(x.data, rows: rows, weight: w.data, inFeatures: inF, outFeatures: outF, bias: b.data,
                                     activation: activation, into: ref.data)
                    forEachGEMMVariant { level in
                        for threads in 1...3 {
                            let y = Tensor(repeating: .nan, shape: [rows, outF])
                            Inference.linear(x.data, rows: rows, packed: packed, bias: b.data, activation: activation, into: y.data,
                                             threads: threads)
                            // bf16x3 keeps about 16 bits of each operand (sums of 500 products here)
                            XCTAssertLessThan(maxAbsDiff(y.toArray(), ref.toArray()), layout == .bf16x3Tiles ? 5e-4 : 1e-4,
                                              "\(layout) level \(level) \(activation): [\(rows), \(inF)] -> \(outF), \(threads) threads")
                        }
                    }
                }
            }
        }
        // Stacked weights: one GEMM gives the same columns as the separate ones.
        let x = randomTensor([10, 16], seed: 44), w1 = randomTensor([8, 16], seed: 45), w2 = randomTensor([24, 16], seed: 46)
        let stacked = PackedMatrix(stacking: [w1, w2]), y = Tensor(zeros: [10, 32])
        Inference.linear(x.data, rows: 10, packed: stacked, bias: nil, into: y.data)
        let ref = try Tensor.linear(x, weight: Tensor.concat([w1, w2], axis: 0), bias: nil).toArray()
        XCTAssertLessThan(maxAbsDiff(y.toArray(), ref), stacked.layout == .bf16x3Tiles ? 2e-4 : 1e-5)
    }

    func testOwnSgemmMatchesDoubleReference() throws {
        // ck_sgemm (what Threads.sgemm runs for large products): every transpose combination, alpha
        // and beta as BLAS takes them (beta 0 ignores C, even NaN), row strides wider than the matrices.
        for (m, n, k) in [(17, 70, 33), (40, 18, 400), (130, 100, 20)] {
            for (transA, transB) in [(false, false), (false, true), (true, false), (true, true)] {
                let (lda, ldb, ldc) = ((transA ? m : k) + 2, (transB ? k : n) + 3, n + 1)
                let a = randomTensor([transA ? k : m, lda], seed: 51), b = randomTensor([transB ? n : k, ldb], seed: 52)
                let (av, bv) = (a.toArray(), b.toArray())
                for (alpha, beta) in [(Float(1), Float(0)), (-0.7, 1), (0.5, 0.25)] {
                    forEachGEMMVariant { level in
                        let c0 = randomTensor([m, ldc], seed: 53)
                        if beta == 0 { for i in 0..<m { c0.data[i * ldc] = .nan } }
                        let before = c0.toArray()
                        XCTAssertEqual(ck_sgemm(transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a.data, lda, b.data, ldb, beta,
                                                c0.data, ldc), 0)
                        let cv = c0.toArray()
                        for i in 0..<m {
                            for j in 0..<n {
                                var dot = 0.0
                                for p in 0..<k {
                                    let x = transA ? av[p * lda + i] : av[i * lda + p]
                                    let y = transB ? bv[j * ldb + p] : bv[p * ldb + j]
                                    dot += Double(x) * Double(y)
                                }
                                let ref = Double(alpha) * dot + (beta == 0 ? 0 : Double(beta) * Double(before[i * ldc + j]))
                                XCTAssertEqual(Double(cv[i * ldc + j]), ref, accuracy: 1e-4 * max(1, abs(ref)),
                                               "level \(level) trans \(transA) \(transB) alpha \(alpha) beta \(beta) [\(m), \(n), \(k)] at \(i), \(j)")
                            }
                            XCTAssertEqual(cv[i * ldc + n], before[i * ldc + n], "column past n untouched")
                        }
                    }
                }
            }
        }
    }

    func testSgemmSplitsAgreeWithOneThread() throws {
        // by rows (m large), by columns (m small), and transposed operands
        for (m, n, k, ta, tb) in [(301, 67, 129, false, true), (3, 517, 200, false, false), (131, 95, 77, true, true)] {
            let a = randomTensor(ta ? [k, m] : [m, k], seed: 31), b = randomTensor(tb ? [n, k] : [k, n], seed: 32)
            var results: [[Float]] = []
            for threads in 1...3 {
                let c = Tensor(repeating: 1, shape: [m, n])
                Threads.sgemm(transA: ta, transB: tb, m: m, n: n, k: k, alpha: 0.5, a: a.data, lda: ta ? m : k,
                              b: b.data, ldb: tb ? k : n, beta: 2, c: c.data, ldc: n, threads: threads)
                results.append(c.toArray())
            }
            let at = ta ? try a.transpose(0, 1) : a, bt = tb ? try b.transpose(0, 1) : b
            let ref = try (at.matmul(bt) * 0.5 + 2).toArray()
            for (i, r) in results.enumerated() {
                XCTAssertLessThan(maxAbsDiff(r, ref), 1e-3, "\(i + 1) threads, m \(m) n \(n) k \(k)")
            }
        }
    }

    func testAttentionOverOneSequenceMatchesTensorAttention() throws {
        for (n, heads, d) in [(1, 1, 4), (7, 3, 8), (33, 2, 13)] {
            let width = heads * d
            let qkv = randomTensor([n, 3 * width], seed: UInt64(n))
            func heads4(_ part: Int) throws -> Tensor {   // [n, H*D] columns of part -> [1, H, n, D]
                try qkv.slice(axis: 1, (part * width)..<((part + 1) * width)).reshape([1, n, heads, d]).permute([0, 2, 1, 3])
            }
            let ref = try Tensor.attention(query: heads4(0), key: heads4(1), value: heads4(2), causal: false)
                .permute([0, 2, 1, 3]).contiguous().reshape([n, width]).toArray()
            forEachGEMMVariant { level in
                let out = Tensor(repeating: .nan, shape: [n, width])
                let ws = InferenceWorkspace()
                let scratch = ws.buffer(0, count: Inference.attentionScratchCount(length: n, headDim: d))
                Inference.attention(qkv: qkv.data, length: n, heads: heads, headDim: d, into: out.data, scratch: scratch)
                withExtendedLifetime(ws) {}
                // level 3: both products on AMX tiles in bf16x3 (about 16 bits of each operand)
                XCTAssertLessThan(maxAbsDiff(out.toArray(), ref), level == 3 ? 5e-5 : 1e-5, "level \(level): n \(n), \(heads) heads of \(d)")
            }
        }
    }

    func testWorkspaceBuffersGrowAndKeepTheirSlots() {
        let ws = InferenceWorkspace()
        let a = ws.buffer(0, count: 10)
        a[9] = 42
        XCTAssertEqual(ws.buffer(0, count: 5), a, "a smaller request reuses the buffer")
        XCTAssertEqual(ws.buffer(0, count: 10)[9], 42)
        let b = ws.buffer(3, count: 1000)
        b[999] = 1
        XCTAssertNotEqual(ws.buffer(2, count: 1), b)
        let pool = WorkspacePool()
        let first = pool.withWorkspace { ObjectIdentifier($0) }
        XCTAssertEqual(pool.withWorkspace { ObjectIdentifier($0) }, first, "returned workspaces are reused")
    }

    func testAdamWStateRestoresAnInterruptedRun() throws {
        func run(interruptAt cut: Int?) throws -> [Float] {
            let w = randomTensor([3, 4], seed: 41), b = randomTensor([4], seed: 42)
            w.requiresGrad = true; b.requiresGrad = true
            var adam = AdamW(parameters: [w, b], learningRate: 0.05, weightDecay: 0.1)
            for step in 0..<6 {
                if step == cut {   // save, rebuild the optimizer, restore
                    let saved = adam.state(names: ["w", "b"]).map { ($0.0, $0.1.denseCopy()) }
                    let lookup = Dictionary(uniqueKeysWithValues: saved)
                    let stepCount = adam.stepCount
                    adam = AdamW(parameters: [w, b], learningRate: 0.05, weightDecay: 0.1)
                    try adam.restore(step: stepCount, names: ["w", "b"]) { name in
                        guard let t = lookup[name] else { throw TensorError.checkpoint("no \(name)") }
                        return t
                    }
                }
                let loss = try ((w.matmul(b.reshape([4, 1])) - 1).square()).sum()
                loss.backward()
                adam.step()
                adam.zeroGrad()
            }
            return w.toArray() + b.toArray()
        }
        XCTAssertEqual(try run(interruptAt: 3), try run(interruptAt: nil))
        let adam = AdamW(parameters: [Tensor(zeros: [2])])
        XCTAssertThrowsError(try adam.restore(step: 1, names: ["p"]) { _ in Tensor(zeros: [3]) })
    }
}
