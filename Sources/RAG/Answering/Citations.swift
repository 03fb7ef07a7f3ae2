/// Finds the passage numbers an answer cites: "[2]", "[1, 3]", "[1][4]", "[2-3]".
public enum Citations {
    public static func cited(in answer: String, passageCount: Int) -> [Int] {
        var found: [Int] = []
        var seen = Set<Int>()
        func add(_ n: Int) {
            if n >= 1, n <= passageCount, seen.insert(n).inserted { found.append(n) }
        }
        let chars = Array(answer)
        var i = 0
        while i < chars.count {
            guard chars[i] == "[", let close = chars[i...].firstIndex(of: "]"), close - i <= 24 else { i += 1; continue }
            let inside = String(chars[(i + 1)..<close])
            let parts = inside.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " })
            let allNumeric = !parts.isEmpty && parts.allSatisfy { $0.allSatisfy { $0.isNumber || $0 == "-" } }
            if allNumeric {
                for part in parts {
                    let ends = part.split(separator: "-").compactMap { Int($0) }
                    if ends.count == 2, ends[0] <= ends[1], ends[1] - ends[0] < 32 {
                        for n in ends[0]...ends[1] { add(n) }
                    } else if ends.count == 1 {
                        add(ends[0])
                    }
                }
            }
            i = close + 1
        }
        return found
    }
}
