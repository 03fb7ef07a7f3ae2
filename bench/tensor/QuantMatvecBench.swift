// Quantized matvec speed: GB/s of weights read by QuantizedMatrix.matvec on Q4_1 and Q8_0 blocks
// against Float32 cblas_sgemv on the same shape, single thread and Threads.count, measured in
// the same run. Shapes are SmolLM2-135M's MLP: 576×1536 (rows × cols) and 1536×576, which stay in
// cache as Float32, and its output matrix 49152×576, which does not (113 MB as Float32).

import CBLAS
import CKernels
import Dispatch
import Foundation
import Tensor

/// Random but valid blocks: half-float scales in a sane range, random codes.
private func randomBlocks(_ type: GGMLType, rows: Int, cols: Int, seed: UInt64) -> [UInt8] {
    var state = seed
    func next() -> UInt64 {
        state = state &* 6364136223846793005 &+ 1442695040888963407
        return state >> 24
    }
    let blockBytes = type == .q8_0 ? 34 : 20
    var bytes = (0..<(rows * cols / 32 * blockBytes)).map { _ in UInt8(truncatingIfNeeded: next()) }
    let scale: UInt16 = 0x2000 /* ≈ 0.0078 in half */, offset: UInt16 = 0xA400 /* ≈ -0.0156 */
    for b in stride(from: 0, to: bytes.count, by: blockBytes) {
        bytes[b] = UInt8(scale & 0xFF); bytes[b + 1] = UInt8(scale >> 8)
        if type == .q4_1 { bytes[b + 2] = UInt8(offset & 0xFF); bytes[b + 3] = UInt8(offset >> 8) }
    }
    return bytes
}

/// Seconds per call: the fastest of 15 batches of ≥ 5 ms each. On a shared machine the fastest
/// batch is the one least disturbed by other processes, so it is the best estimate of the kernel.
private func secondsPerCall(_ body: () -> Void) -> Double {
    var reps = 1
    while true {  // calibrate
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { body() }
        let dt = Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9
        if dt > 0.005 { break }
        reps *= 2
    }
    var best = Double.infinity
    for _ in 0..<15 {
        let t0 = DispatchTime.now().uptimeNanoseconds
        for _ in 0..<reps { body() }
        best = min(best, Double(DispatchTime.now().uptimeNanoseconds - t0) * 1e-9 / Double(reps))
    }
    return best
}

public func runQuantMatvecBench() {
    let simd = ["portable", "AVX2+FMA", "AVX-512"][Int(ck_quant_simd_level())]
    print("quantized matvec: y[rows] = W[rows, cols] x; kernel \(simd); Threads.count = \(Threads.count)")
    print("load average: \(loadAverage()) on \(ProcessInfo.processInfo.activeProcessorCount) cores; fastest of 15 batches")
    print("threads  shape       type  µs/call   GB/s(weights)  | sgemv µs  GB/s   | time sgemv/quant")
    for (rows, cols) in [(576, 1536), (1536, 576), (49152, 576)] {  // MLP down, MLP up, tied embedding (output)
        var x = [Float](repeating: 0, count: cols)
        for i in 0..<cols { x[i] = Float(sin(Double(i) * 0.37)) }
        var y = [Float](repeating: 0, count: rows)
        let dense = (0..<(rows * cols)).map { Float(sin(Double($0) * 0.011)) * 0.05 }
        for threads in Array(Set([1, Threads.count])).sorted() {
            openblas_set_num_threads(Int32(threads))
            let sgemv = secondsPerCall {
                cblas_sgemv(CblasRowMajor, CblasNoTrans, blasint(rows), blasint(cols), 1, dense, blasint(cols), x, 1, 0, &y, 1)
            }
            let sgemvGBs = Double(rows * cols * 4) / sgemv / 1e9
            for type in [GGMLType.q4_1, .q8_0] {
                let bytes = randomBlocks(type, rows: rows, cols: cols, seed: UInt64(rows + cols))
                let m: QuantizedMatrix
                do {
                    m = try bytes.withUnsafeBytes { try QuantizedMatrix(name: "bench", type: type, rows: rows, cols: cols, copying: $0) }
                } catch {
                    print("cannot build matrix: \(error)")
                    return
                }
                let t = secondsPerCall { m.matvec(x, into: &y, threads: threads) }
                let gbs = Double(bytes.count) / t / 1e9
                print(String(format: "%7d  %4d×%-5d  %-4@  %8.1f  %8.1f       | %8.1f  %5.1f  | %5.2f×",
                             threads, rows, cols, type.name, t * 1e6, gbs, sgemv * 1e6, sgemvGBs, sgemv / t))
            }
        }
    }
    openblas_set_num_threads(Int32(Threads.count))
}


