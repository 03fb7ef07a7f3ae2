/// GPT-2's reversible byte <-> printable-character mapping: bytes that are printable Latin-1
/// stand for themselves, the other 68 bytes are shifted to U+0100… so no token holds a space or a
/// control character (a space becomes "Ġ", a newline "Ċ").
enum ByteLevel {
    /// byte -> scalar value
    static let byteToScalar: [UInt32] = {
        var table = [UInt32](repeating: 0, count: 256)
        var shifted: UInt32 = 256
        for b in 0..<256 {
            let printable = (33...126).contains(b) || (161...172).contains(b) || (174...255).contains(b)
            if printable { table[b] = UInt32(b) } else { table[b] = shifted; shifted += 1 }
        }
        return table
    }()

    /// scalar value -> byte (only the 256 scalars of the mapping; others are absent)
    static let scalarToByte: [UInt32: UInt8] = {
        var map: [UInt32: UInt8] = [:]
        for (b, v) in byteToScalar.enumerated() { map[v] = UInt8(b) }
        return map
    }()

    /// The bytes a byte-level token stands for; scalars outside the mapping keep their UTF-8.
    static func bytes(ofToken token: String, into out: inout [UInt8]) {
        for scalar in token.unicodeScalars {
            if let b = scalarToByte[scalar.value] { out.append(b) } else { out.append(contentsOf: Array(String(scalar).utf8)) }
        }
    }

    static func tokenString(ofByte b: UInt8) -> String {
        String(Character(Unicode.Scalar(byteToScalar[Int(b)]) ?? "?"))
    }
}
