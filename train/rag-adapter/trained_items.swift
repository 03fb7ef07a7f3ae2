// Prints which lines of a training file `rag finetune` trained on: the held-out split and the first
// epoch's order of FinetuneLoop (Sources/Generator/Training/FinetuneLoop.swift), replayed with the same
// generator (Sources/SeededRandom/SplitMix64.swift, compiled beside this file) and the same standard
// library shuffle, so the calibration set can leave out what the adapter saw.
//
//   trained_items COUNT STEPS GROUP SEED EVAL_SPLIT   ->   "eval i j …" and "seen i j …" (0-based lines)
import Foundation

@main
enum TrainedItems {
    static func main() {
        let args = CommandLine.arguments.dropFirst().map { $0 }
        guard args.count == 5, let count = Int(args[0]), let steps = Int(args[1]), let group = Int(args[2]),
              let seed = UInt64(args[3]), let fraction = Double(args[4]) else {
            FileHandle.standardError.write(Data("usage: trained_items COUNT STEPS GROUP SEED EVAL_SPLIT\n".utf8))
            exit(2)
        }
        // FinetuneLoop.split
        var all = Array(0..<count)
        var splitRNG = SplitMix64(seed: seed ^ 0x5EED_5EED)
        all.shuffle(using: &splitRNG)
        let evalCount = fraction > 0 ? min(count - 1, max(1, Int((Double(count) * fraction).rounded()))) : 0
        let train = Array(all.dropFirst(evalCount)).sorted()
        // FinetuneLoop.run's order of epoch 0 (a run of STEPS steps of GROUP examples within one epoch)
        var orderRNG = SplitMix64(seed: seed &+ UInt64(1) &* 0x9E37_79B9_7F4A_7C15)
        let order = train.shuffled(using: &orderRNG)
        guard steps * group <= order.count else {
            FileHandle.standardError.write(Data("STEPS × GROUP is more than one epoch: every training line was seen\n".utf8))
            exit(1)
        }
        print("eval " + all.prefix(evalCount).map(String.init).joined(separator: " "))
        print("seen " + order.prefix(steps * group).map(String.init).joined(separator: " "))
    }
}
