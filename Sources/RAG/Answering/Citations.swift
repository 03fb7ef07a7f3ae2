/// Finds the passage numbers an answer cites: "[2]", "[1, 3]", "[1][4]", "[2-3]".
public enum Citations {
    /// A citation marker is at most this many characters after its "[" up to its "]".
    static let maxMarkerLength = 24

    public static func cited(in answer: String, passageCount: Int) -> [Int] {
        var found: [Int] = []
        var seen = Set<Int>()
        let chars = Array(answer)
        var i = 0
        while i < chars.count {
            guard chars[i] == "[", let close = chars[i...].firstIndex(of: "]"), close - i <= maxMarkerLength else { i += 1; continue }
            for n in numbers(inMarker: String(chars[i...close])) ?? [] where n >= 1 && n <= passageCount {
                if seen.insert(n).inserted { found.append(n) }
            }
            i = close + 1
        }
        return found
    }

    /// The numbers of one marker ("[1, 3]", "[2-4]"), in order; nil when it is not a citation ("[sic]").
    static func numbers(inMarker marker: String) -> [Int]? {
        let inside = marker.dropFirst().dropLast()
        let parts = inside.split(whereSeparator: { $0 == "," || $0 == ";" || $0 == " " })
        guard !parts.isEmpty, parts.allSatisfy({ $0.allSatisfy { $0.isNumber || $0 == "-" } }) else { return nil }
        var numbers: [Int] = []
        for part in parts {
            let ends = part.split(separator: "-").compactMap { Int($0) }
            if ends.count == 2, ends[0] <= ends[1], ends[1] - ends[0] < 32 {
                numbers += Array(ends[0]...ends[1])
            } else if ends.count == 1 {
                numbers.append(ends[0])
            }
        }
        return numbers.isEmpty ? nil : numbers
    }
}
