/// A trie over UTF-8 bytes with flat arrays, for longest-prefix lookups without building Strings.
/// Node 0 is the root; the root's children sit in a 256-entry table, deeper nodes keep their
/// children as (byte, node) runs that are scanned linearly (they are short).
struct ByteTrie: Sendable {
    private var rootChildren = [Int32](repeating: -1, count: 256)
    private var values: [Int32] = [-1]                 // token id at node, -1 when none
    private var children: [[(UInt8, Int32)]] = [[]]    // used only while building
    private var childStart: [Int32] = []               // frozen layout: node -> first edge
    private var childCount: [Int32] = []
    private var edgeByte: [UInt8] = []
    private var edgeNode: [Int32] = []

    init<S: Sequence>(_ entries: S) where S.Element == (String, Int) {
        for (key, id) in entries { insert(Array(key.utf8), id: id) }
        freeze()
    }

    private mutating func insert(_ bytes: [UInt8], id: Int) {
        var node: Int32 = 0
        for (depth, byte) in bytes.enumerated() {
            var next: Int32 = -1
            if depth == 0 {
                next = rootChildren[Int(byte)]
            } else if let edge = children[Int(node)].first(where: { $0.0 == byte }) {
                next = edge.1
            }
            if next < 0 {
                next = Int32(values.count)
                values.append(-1)
                children.append([])
                if depth == 0 { rootChildren[Int(byte)] = next } else { children[Int(node)].append((byte, next)) }
            }
            node = next
        }
        if values[Int(node)] < 0 { values[Int(node)] = Int32(id) }
    }

    private mutating func freeze() {
        childStart = [Int32](repeating: 0, count: values.count)
        childCount = [Int32](repeating: 0, count: values.count)
        for (node, edges) in children.enumerated() {
            childStart[node] = Int32(edgeByte.count)
            childCount[node] = Int32(edges.count)
            for (byte, target) in edges { edgeByte.append(byte); edgeNode.append(target) }
        }
        children = []
    }

    /// Longest key that is a prefix of `bytes[start..<end]`: (token id, length in bytes), or nil.
    @inline(__always)
    func longestPrefix(_ bytes: UnsafeBufferPointer<UInt8>, from start: Int, to end: Int) -> (id: Int32, length: Int)? {
        guard start < end else { return nil }
        var node = rootChildren[Int(bytes[start])]
        var best: (Int32, Int)? = nil
        var position = start + 1
        while node >= 0 {
            let value = values[Int(node)]
            if value >= 0 { best = (value, position - start) }
            if position == end { break }
            let byte = bytes[position]
            let first = Int(childStart[Int(node)]), count = Int(childCount[Int(node)])
            var next: Int32 = -1
            var e = first
            while e < first + count {
                if edgeByte[e] == byte { next = edgeNode[e]; break }
                e += 1
            }
            node = next
            position += 1
        }
        return best
    }
}
