// Holds back streamed text that might be the start of a stop string until it is decided.
// Works on UTF-8 bytes: in valid UTF-8 a match can only start at a character boundary, so what
// is released is always whole characters.
//
//   push("Hello <") → "Hello "   ("<" could begin "</s>")
//   push("/s>")     → stop: nothing more is released, the stop text is dropped

struct StopStringFilter {
    private let stops: [[UInt8]]
    private var pending: [UInt8] = []
    /// Set once a stop string has been seen; nothing is released after it.
    private(set) var stopped = false

    init(stop: [String]) { stops = stop.map { Array($0.utf8) } }

    /// Adds decoded text; returns what can be released now.
    mutating func push(_ text: String) -> String {
        guard !stopped else { return "" }
        pending.append(contentsOf: text.utf8)
        guard !stops.isEmpty else { return release(pending.count) }
        if let start = firstMatch() {
            stopped = true
            let out = String(decoding: pending[..<start], as: UTF8.self)
            pending.removeAll()
            return out
        }
        return release(pending.count - longestHeldSuffix())
    }

    /// Generation ended for another reason: whatever is held back is plain text after all.
    mutating func finish() -> String {
        guard !stopped else { return "" }
        return release(pending.count)
    }

    private mutating func release(_ count: Int) -> String {
        guard count > 0 else { return "" }
        let out = String(decoding: pending[..<count], as: UTF8.self)
        pending.removeFirst(count)
        return out
    }

    /// Earliest byte offset in `pending` where a whole stop string occurs.
    private func firstMatch() -> Int? {
        var best: Int?
        for stop in stops where stop.count <= pending.count {
            var i = 0
            while i + stop.count <= pending.count, i < (best ?? Int.max) {
                if pending[i] == stop[0], pending[i..<(i + stop.count)].elementsEqual(stop) { best = i; break }
                i += 1
            }
        }
        return best
    }

    /// Length of the longest suffix of `pending` that is a proper prefix of some stop string.
    private func longestHeldSuffix() -> Int {
        var longest = 0
        for stop in stops {
            var n = min(stop.count - 1, pending.count)
            while n > longest {
                if pending[(pending.count - n)...].elementsEqual(stop[..<n]) { longest = n; break }
                n -= 1
            }
        }
        return longest
    }
}
