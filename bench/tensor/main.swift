// bench-tensor: Tensor matmul against raw cblas_sgemm, and the cost of the autograd tape.
// Run: swift run -c release bench-tensor
import CBLAS
import Foundation
import Tensor

func seconds(_ body: () throws -> Void) rethrows -> Double {
    let t0 = DispatchTime.now().uptimeNanoseconds
    try body()
    return Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e9
}

/// Best of `repeats` timings of `iterations` calls, per call.
func best(repeats: Int = 5, iterations: Int, _ body: () throws -> Void) rethrows -> Double {
    var b = Double.infinity
    for _ in 0..<repeats { b = min(b, try seconds { for _ in 0..<iterations { try body() } } / Double(iterations)) }
    return b
}

Threads.use(ProcessInfo.processInfo.environment["RAG_THREADS"].flatMap { Int($0) })  // the tensor core reads no environment
print("bench-tensor  threads=\(Threads.count) (RAG_THREADS), load average \(loadAverage())")
var rng = TensorRNG(seed: 1)

print("\n## matmul [n, n] x [n, n]: Tensor.matmul vs raw cblas_sgemm (same process, alternating)")
print("   n    Tensor GFLOP/s   sgemm GFLOP/s   ratio")
for n in [256, 512, 1024, 2048] {
    let a = Tensor.randn([n, n], rng: &rng), b = Tensor.randn([n, n], rng: &rng)
    let c = Tensor(zeros: [n, n])
    let iters = max(1, 2_000_000_000 / (2 * n * n * n))
    _ = try a.matmul(b)  // warm-up (also sets BLAS threads)
    var tT = Double.infinity, tRaw = Double.infinity
    for _ in 0..<5 {
        tT = min(tT, try best(repeats: 1, iterations: iters) { _ = try noGrad { try a.matmul(b) } })
        tRaw = min(tRaw, best(repeats: 1, iterations: iters) {
            cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, Int32(n), Int32(n), Int32(n), 1,
                        a.data, Int32(n), b.data, Int32(n), 0, c.data, Int32(n))
        })
    }
    let flop = 2 * Double(n) * Double(n) * Double(n)
    print(String(format: "%5d   %10.1f      %10.1f      %.3f", n, flop / tT / 1e9, flop / tRaw / 1e9, tRaw / tT))
}

print("\n## autograd overhead: MLP 256 -> 1024 -> 256 (GELU), batch 64, one training step")
let x = Tensor.randn([64, 256], rng: &rng)
let l1 = Linear(256, 1024, rng: &rng), l2 = Linear(1024, 256, rng: &rng)
let params = l1.parameters() + l2.parameters()
let opt = AdamW(parameters: params, learningRate: 1e-3)
let forward = { () throws -> Tensor in try l2(try l1(x).gelu()) }
// The same products as raw sgemm: forward 2, backward 4 (dX, dW for each layer).
let h = Tensor(zeros: [64, 1024]), o = Tensor(zeros: [64, 256]), gw1 = Tensor(zeros: [1024, 256]), gw2 = Tensor(zeros: [256, 1024])
let step = {
    opt.zeroGrad()
    try forward().square().mean().backward()
    opt.step()
}
let rawForward = {
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 64, 1024, 256, 1, x.data, 256, l1.weight.data, 256, 0, h.data, 1024)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, 64, 256, 1024, 1, h.data, 1024, l2.weight.data, 1024, 0, o.data, 256)
}
let rawBackward = {
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 256, 1024, 64, 1, o.data, 256, h.data, 1024, 0, gw2.data, 1024)
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, 64, 1024, 256, 1, o.data, 256, l2.weight.data, 1024, 0, h.data, 1024)
    cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, 1024, 256, 64, 1, h.data, 1024, x.data, 256, 0, gw1.data, 256)
}
try step()  // warm-up
// Interleaved rounds, best of each, so a burst of load hits all variants alike.
var tForward = Double.infinity, tTaped = Double.infinity, tStep = Double.infinity
var tRawFwd = Double.infinity, tRawBwd = Double.infinity, tAdam = Double.infinity
for _ in 0..<7 {
    tAdam = min(tAdam, best(repeats: 1, iterations: 10) { opt.step() })
    tForward = min(tForward, try best(repeats: 1, iterations: 10) { _ = try noGrad { try forward() } })
    tTaped = min(tTaped, try best(repeats: 1, iterations: 10) { _ = try forward() })
    tStep = min(tStep, try best(repeats: 1, iterations: 10) { try step() })
    tRawFwd = min(tRawFwd, best(repeats: 1, iterations: 10) { rawForward() })
    tRawBwd = min(tRawBwd, best(repeats: 1, iterations: 10) { rawBackward() })
}
print(String(format: "forward, noGrad           %8.3f ms", tForward * 1e3))
print(String(format: "forward, recording tape   %8.3f ms   (x%.2f of noGrad)", tTaped * 1e3, tTaped / tForward))
print(String(format: "training step (fwd+bwd+AdamW) %8.3f ms  (of which AdamW %.3f ms for %d parameters)",
             tStep * 1e3, tAdam * 1e3, params.reduce(0) { $0 + $1.count }))
print(String(format: "raw sgemm: forward %.3f ms, backward %.3f ms, total %.3f ms -> step / raw = %.2f, forward / raw = %.2f",
             tRawFwd * 1e3, tRawBwd * 1e3, (tRawFwd + tRawBwd) * 1e3, tStep / (tRawFwd + tRawBwd), tForward / tRawFwd))

print("\n== quantized matvec (Q4_1, Q8_0) against Float32 sgemv ==")
runQuantMatvecBench()

func loadAverage() -> String {
    (try? String(contentsOfFile: "/proc/loadavg", encoding: .utf8))?.split(separator: " ").prefix(3).joined(separator: " ") ?? "?"
}
