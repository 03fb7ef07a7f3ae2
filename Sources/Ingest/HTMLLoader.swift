/// HTML to sections: text with headings (h1–h6) as section titles; script, style and the like
/// dropped with their content; character references decoded; block elements end paragraphs.
/// A forgiving scanner, not a full HTML5 tree builder: malformed markup still yields its text.
enum HTMLLoader {
    struct Parsed {
        var title: String?
        var segments: [RawSegment]
    }

    /// Elements whose content is never text for a reader.
    static let droppedElements: Set<String> = ["script", "style", "noscript", "template", "svg", "math",
                                               "iframe", "object", "canvas", "select", "button"]
    static let blockElements: Set<String> = [
        "address", "article", "aside", "blockquote", "body", "caption", "dd", "details", "dialog", "div", "dl",
        "dt", "fieldset", "figcaption", "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header",
        "hgroup", "hr", "html", "li", "main", "nav", "ol", "p", "pre", "section", "summary", "table", "tbody",
        "thead", "tfoot", "tr", "ul", "center", "menu",
    ]

    static func parse(_ html: String) -> Parsed {
        let bytes = Array(html.utf8)
        var builder = SectionBuilder()
        var line = ""                 // text since the last break
        var title: String? = nil
        var heading: (level: Int, text: String)? = nil
        var inHead = false, inTitle = false
        var titleText = ""
        var i = 0

        func emitText(_ text: String) {
            if inTitle { titleText += text; return }
            if inHead { return }
            if heading != nil { heading?.text += text } else { line += text }
        }
        func paragraphBreak() {
            builder.appendLine(line)
            builder.appendLine("")
            line = ""
        }

        while i < bytes.count {
            guard bytes[i] == UInt8(ascii: "<") else {
                var j = i
                while j < bytes.count && bytes[j] != UInt8(ascii: "<") { j += 1 }
                emitText(HTMLEntities.decode(String(decoding: bytes[i..<j], as: UTF8.self)))
                i = j
                continue
            }
            if startsWith(bytes, i, "<!--") {
                i = indexAfter(bytes, from: i + 4, "-->") ?? bytes.count
                continue
            }
            if startsWith(bytes, i, "<![CDATA[") {
                let end = find(bytes, from: i + 9, "]]>") ?? bytes.count
                emitText(String(decoding: bytes[(i + 9)..<end], as: UTF8.self))
                i = min(end + 3, bytes.count)
                continue
            }
            guard let tag = Tag.parse(bytes, at: i) else {
                if i + 1 < bytes.count, HTMLLoader.isNameByte(bytes[i + 1]) || bytes[i + 1] == UInt8(ascii: "/"),
                   !bytes[i...].contains(UInt8(ascii: ">")) {
                    break  // a tag cut off by the end of the file: dropped, as browsers do
                }
                emitText("<")  // a lone '<' is text
                i += 1
                continue
            }
            i = tag.end
            let name = tag.name
            if tag.isDeclaration { continue }
            if droppedElements.contains(name) && !tag.isClosing && !tag.selfClosing {
                i = indexAfterClosingTag(bytes, from: i, name: name) ?? bytes.count
                continue
            }
            switch name {
            case "head": inHead = !tag.isClosing
            case "title":
                inTitle = !tag.isClosing
                if tag.isClosing, title == nil {
                    let t = TextNormalizer.normalize(titleText)
                    title = t.isEmpty ? nil : t
                }
            case "h1", "h2", "h3", "h4", "h5", "h6":
                let level = Int(name.dropFirst()) ?? 6
                if !tag.isClosing {
                    if heading == nil { paragraphBreak() }
                    heading = (level, "")
                } else if let open = heading {
                    heading = nil
                    builder.openSection(level: open.level, title: TextNormalizer.normalize(open.text))
                }
            case "br": emitText("\n")
            case "td", "th": emitText(" ")
            case "img":
                if let alt = tag.attributes["alt"], !alt.isEmpty { emitText(" \(alt) ") }
            case "body": inHead = false
            default:
                if blockElements.contains(name) {
                    if heading != nil { heading?.text += " " } else if !inHead { paragraphBreak() }
                }
            }
        }
        if let open = heading { builder.openSection(level: open.level, title: TextNormalizer.normalize(open.text)) }
        builder.appendLine(line)
        return Parsed(title: title, segments: builder.finish())
    }

    // MARK: Byte scanning

    static func startsWith(_ b: [UInt8], _ i: Int, _ s: String) -> Bool {
        var j = i
        for c in s.utf8 {
            guard j < b.count else { return false }
            let x = b[j] | (c >= 0x61 && c <= 0x7A ? 0x20 : 0)  // case-insensitive for letters
            guard x == c else { return false }
            j += 1
        }
        return true
    }

    static func find(_ b: [UInt8], from start: Int, _ s: String) -> Int? {
        var i = start
        while i < b.count {
            if startsWith(b, i, s) { return i }
            i += 1
        }
        return nil
    }

    static func indexAfter(_ b: [UInt8], from start: Int, _ s: String) -> Int? {
        find(b, from: start, s).map { $0 + s.utf8.count }
    }

    /// Skips raw content up to and including `</name ...>`.
    static func indexAfterClosingTag(_ b: [UInt8], from start: Int, name: String) -> Int? {
        var i = start
        while let at = find(b, from: i, "</" + name) {
            let after = at + 2 + name.utf8.count
            if after >= b.count || !isNameByte(b[after]) {
                guard let close = b[after...].firstIndex(of: UInt8(ascii: ">")) else { return b.count }
                return close + 1
            }
            i = after
        }
        return nil
    }

    static func isNameByte(_ c: UInt8) -> Bool {
        (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5A) || (c >= 0x61 && c <= 0x7A) || c == 0x2D || c == 0x3A
    }
}

/// One start or end tag (or `<!DOCTYPE ...>` / `<?...?>`), with lower-cased name and attributes.
struct Tag {
    var name: String
    var isClosing: Bool
    var selfClosing: Bool
    var isDeclaration: Bool
    var attributes: [String: String]
    var end: Int  // index after '>'

    static func parse(_ b: [UInt8], at start: Int) -> Tag? {
        var i = start + 1
        guard i < b.count else { return nil }
        if b[i] == UInt8(ascii: "!") || b[i] == UInt8(ascii: "?") {
            guard let close = b[i...].firstIndex(of: UInt8(ascii: ">")) else { return nil }
            return Tag(name: "", isClosing: false, selfClosing: true, isDeclaration: true, attributes: [:], end: close + 1)
        }
        var closing = false
        if b[i] == UInt8(ascii: "/") {
            closing = true
            i += 1
        }
        guard i < b.count, (b[i] | 0x20) >= 0x61 && (b[i] | 0x20) <= 0x7A else { return nil }
        let nameStart = i
        while i < b.count && HTMLLoader.isNameByte(b[i]) { i += 1 }
        let name = String(decoding: b[nameStart..<i], as: UTF8.self).lowercased()
        var attributes: [String: String] = [:]
        var selfClosing = false
        while i < b.count {
            let c = b[i]
            if c == UInt8(ascii: ">") {
                return Tag(name: name, isClosing: closing, selfClosing: selfClosing, isDeclaration: false,
                           attributes: attributes, end: i + 1)
            }
            if c == UInt8(ascii: "/") { selfClosing = true; i += 1; continue }
            if c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C { i += 1; continue }
            selfClosing = false
            let keyStart = i
            while i < b.count, !isSpace(b[i]), b[i] != UInt8(ascii: "="), b[i] != UInt8(ascii: ">"),
                  b[i] != UInt8(ascii: "/") || i == keyStart { i += 1 }
            let key = String(decoding: b[keyStart..<i], as: UTF8.self).lowercased()
            while i < b.count && isSpace(b[i]) { i += 1 }
            var value = ""
            if i < b.count && b[i] == UInt8(ascii: "=") {
                i += 1
                while i < b.count && isSpace(b[i]) { i += 1 }
                if i < b.count, b[i] == UInt8(ascii: "\"") || b[i] == UInt8(ascii: "'") {
                    let quote = b[i]
                    let valueStart = i + 1
                    guard let valueEnd = b[valueStart...].firstIndex(of: quote) else { return nil }
                    value = String(decoding: b[valueStart..<valueEnd], as: UTF8.self)
                    i = valueEnd + 1
                } else {
                    let valueStart = i
                    while i < b.count, !isSpace(b[i]), b[i] != UInt8(ascii: ">") { i += 1 }
                    value = String(decoding: b[valueStart..<i], as: UTF8.self)
                }
            }
            attributes[key] = HTMLEntities.decode(value)
        }
        return nil  // no closing '>'
    }

    private static func isSpace(_ c: UInt8) -> Bool { c == 0x20 || c == 0x09 || c == 0x0A || c == 0x0D || c == 0x0C }
}
