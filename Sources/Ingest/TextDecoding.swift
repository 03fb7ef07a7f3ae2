import Foundation

/// Decodes a text file read block by block: UTF-8 (with or without BOM) or UTF-16 LE/BE with BOM.
/// Anything else is refused with a reason naming what the bytes look like.
enum TextDecoding {
    static func decodeFile(_ url: URL, shownAs path: String) throws(IngestError) -> String {
        let reader = try BlockReader(url: url)
        guard var block = try reader.next() else {
            throw IngestError(path: path, kind: .empty, reason: "empty file")
        }
        let encoding = detectBOM(block)
        block.removeFirst(encoding.bomLength)
        switch encoding {
        case .utf8:
            return try decodeUTF8(first: block, reader: reader, path: path)
        case .utf16(let bigEndian):
            return try decodeUTF16(first: block, reader: reader, bigEndian: bigEndian, path: path)
        case .utf32:
            throw IngestError(path: path, kind: .badEncoding, reason: "UTF-32 text is not supported (convert to UTF-8)")
        }
    }

    enum Encoding: Equatable {
        case utf8(bom: Bool), utf16(bigEndian: Bool), utf32

        var bomLength: Int {
            switch self {
            case .utf8(let bom): return bom ? 3 : 0
            case .utf16: return 2
            case .utf32: return 0
            }
        }
    }

    static func detectBOM(_ b: [UInt8]) -> Encoding {
        if b.count >= 4, b[0] == 0xFF, b[1] == 0xFE, b[2] == 0, b[3] == 0 { return .utf32 }
        if b.count >= 4, b[0] == 0, b[1] == 0, b[2] == 0xFE, b[3] == 0xFF { return .utf32 }
        if b.count >= 3, b[0] == 0xEF, b[1] == 0xBB, b[2] == 0xBF { return .utf8(bom: true) }
        if b.count >= 2, b[0] == 0xFF, b[1] == 0xFE { return .utf16(bigEndian: false) }
        if b.count >= 2, b[0] == 0xFE, b[1] == 0xFF { return .utf16(bigEndian: true) }
        return .utf8(bom: false)
    }

    // MARK: UTF-8

    private static func decodeUTF8(first: [UInt8], reader: BlockReader, path: String) throws(IngestError) -> String {
        var text = ""
        var carry: [UInt8] = []   // an incomplete sequence cut by the block boundary
        var consumed = 0          // bytes of the file decoded so far (for error positions)
        var block: [UInt8]? = first
        var isFirstBlock = true
        while let current = block {
            let bytes = carry + current
            if isFirstBlock, let verdict = binaryVerdict(bytes) {
                throw IngestError(path: path, kind: .binary, reason: verdict)
            }
            isFirstBlock = false
            let next = try reader.next()
            let scan = bytes.withUnsafeBufferPointer { validateUTF8($0, isFinal: next == nil) }
            switch scan {
            case .invalid(let offset):
                if bytes.contains(0) {
                    throw IngestError(path: path, kind: .binary, reason: "binary file (NUL bytes)")
                }
                throw IngestError(path: path, kind: .badEncoding,
                                  reason: "not valid UTF-8 at byte \(consumed + offset) (\(guessEncoding(bytes)))")
            case .valid(let complete):
                if bytes[..<complete].contains(0) {
                    throw IngestError(path: path, kind: .binary, reason: "binary file (NUL bytes)")
                }
                text += String(decoding: bytes[..<complete], as: UTF8.self)
                carry = Array(bytes[complete...])
                consumed += complete
            }
            block = next
        }
        return text
    }

    enum UTF8Scan: Equatable {
        case valid(completeBytes: Int)  // bytes after it start a sequence the next block completes
        case invalid(at: Int)
    }

    /// Validates UTF-8 (RFC 3629: no overlongs, no surrogates, at most U+10FFFF).
    static func validateUTF8(_ b: UnsafeBufferPointer<UInt8>, isFinal: Bool) -> UTF8Scan {
        var i = 0
        let n = b.count
        while i < n {
            let lead = b[i]
            if lead < 0x80 { i += 1; continue }
            let length: Int
            var lo: UInt8 = 0x80, hi: UInt8 = 0xBF  // allowed range of the second byte
            switch lead {
            case 0xC2...0xDF: length = 2
            case 0xE0: length = 3; lo = 0xA0
            case 0xE1...0xEC, 0xEE...0xEF: length = 3
            case 0xED: length = 3; hi = 0x9F
            case 0xF0: length = 4; lo = 0x90
            case 0xF1...0xF3: length = 4
            case 0xF4: length = 4; hi = 0x8F
            default: return .invalid(at: i)
            }
            if i + length > n {
                // Cut by the block end: fine if what is there is a valid prefix and more may come.
                for j in 1..<(n - i) {
                    let c = b[i + j]
                    let ok = j == 1 ? (lo...hi).contains(c) : (0x80...0xBF).contains(c)
                    if !ok { return .invalid(at: i) }
                }
                return isFinal ? .invalid(at: i) : .valid(completeBytes: i)
            }
            guard (lo...hi).contains(b[i + 1]) else { return .invalid(at: i) }
            for j in 2..<length where !(0x80...0xBF).contains(b[i + j]) { return .invalid(at: i) }
            i += length
        }
        return .valid(completeBytes: n)
    }

    /// A reason if the first block does not look like text at all.
    static func binaryVerdict(_ bytes: [UInt8]) -> String? {
        let sample = bytes.prefix(8192)
        guard !sample.isEmpty else { return nil }
        let nuls = sample.reduce(0) { $0 + ($1 == 0 ? 1 : 0) }
        if nuls > 0 {
            // ASCII text as UTF-16 has a NUL in every other byte.
            let evenNuls = stride(from: 0, to: sample.count, by: 2).filter { sample[sample.startIndex + $0] == 0 }.count
            let oddNuls = nuls - evenNuls
            let half = sample.count / 2
            if half > 8, max(evenNuls, oddNuls) * 10 >= half * 7, min(evenNuls, oddNuls) * 10 < half {
                return "binary file (looks like UTF-16 without a byte-order mark)"
            }
            return "binary file (NUL bytes)"
        }
        let controls = sample.reduce(0) { count, byte in
            count + (byte < 0x20 && ![0x09, 0x0A, 0x0C, 0x0D, 0x1B].contains(byte) || byte == 0x7F ? 1 : 0)
        }
        return controls * 10 > sample.count ? "binary file (control bytes)" : nil
    }

    /// Names a likely single-byte encoding for bytes that are not UTF-8.
    static func guessEncoding(_ bytes: [UInt8]) -> String {
        let high = bytes.filter { $0 >= 0x80 }
        if high.contains(where: { (0x80...0x9F).contains($0) }) {
            return "looks like Windows-1252"
        }
        return high.isEmpty ? "unknown encoding" : "looks like Latin-1/Windows-1252"
    }

    // MARK: UTF-16

    private static func decodeUTF16(first: [UInt8], reader: BlockReader, bigEndian: Bool,
                                    path: String) throws(IngestError) -> String {
        let name = bigEndian ? "UTF-16BE" : "UTF-16LE"
        var text = ""
        var carry: [UInt8] = []       // an odd trailing byte
        var pendingHigh: UInt16? = nil  // a high surrogate waiting for its pair
        var consumed = 2              // the BOM
        var block: [UInt8]? = first
        while let current = block {
            let bytes = carry + current
            let evenCount = bytes.count & ~1
            var scalars = String.UnicodeScalarView()
            var i = 0
            while i < evenCount {
                let unit = bigEndian ? UInt16(bytes[i]) << 8 | UInt16(bytes[i + 1])
                                     : UInt16(bytes[i + 1]) << 8 | UInt16(bytes[i])
                if let high = pendingHigh {
                    guard (0xDC00...0xDFFF).contains(unit) else {
                        throw IngestError(path: path, kind: .badEncoding,
                                          reason: "not valid \(name): unpaired surrogate at byte \(consumed + i - 2)")
                    }
                    let value = 0x10000 + (UInt32(high - 0xD800) << 10) + UInt32(unit - 0xDC00)
                    if let scalar = Unicode.Scalar(value) { scalars.append(scalar) }
                    pendingHigh = nil
                } else if (0xD800...0xDBFF).contains(unit) {
                    pendingHigh = unit
                } else if let scalar = Unicode.Scalar(unit), unit != 0 {
                    scalars.append(scalar)
                } else if unit == 0 {
                    throw IngestError(path: path, kind: .binary, reason: "binary file (NUL characters in \(name))")
                } else {
                    throw IngestError(path: path, kind: .badEncoding,
                                      reason: "not valid \(name): unpaired surrogate at byte \(consumed + i)")
                }
                i += 2
            }
            text += String(scalars)
            carry = Array(bytes[evenCount...])
            consumed += evenCount
            block = try reader.next()
        }
        if pendingHigh != nil || !carry.isEmpty {
            throw IngestError(path: path, kind: .badEncoding, reason: "not valid \(name): truncated at the end")
        }
        return text
    }
}
