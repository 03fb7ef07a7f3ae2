/// Markdown to sections: headings (ATX `#` and setext underlines) open sections and give their
/// titles; front matter (YAML `---` or TOML `+++` at the top) is dropped; fenced code is kept as
/// text, but `#` lines inside it are not headings; links and images keep their text; list items
/// and table rows become paragraphs of their own.
enum MarkdownLoader {
    struct Parsed {
        var title: String?
        var segments: [RawSegment]
    }

    static func parse(_ source: String) -> Parsed {
        var lines = source.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" || $0 == "\r" })
            .map(String.init)
        lines.removeFirst(frontMatterLength(lines))

        var builder = SectionBuilder()
        var fence: (marker: Character, length: Int)? = nil
        var inComment = false
        var paragraph: [String] = []  // lines of the current paragraph (a setext underline may turn it into a heading)

        func flushParagraph() {
            for line in paragraph { builder.appendLine(line) }
            paragraph.removeAll()
        }

        for line in lines {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            if let open = fence {
                if let close = fenceMarker(trimmed), close.marker == open.marker, close.length >= open.length,
                   trimmed.drop(while: { $0 == open.marker }).trimmingCharacters(in: .whitespaces).isEmpty {
                    fence = nil
                    builder.appendLine("")
                } else {
                    builder.appendLine(line)
                }
                continue
            }
            if inComment {
                if trimmed.contains("-->") { inComment = false }
                continue
            }
            if trimmed.hasPrefix("<!--") {
                if !trimmed.contains("-->") { inComment = true }
                continue
            }
            if let marker = fenceMarker(trimmed), leadingSpaces(line) < 4 {
                flushParagraph()
                fence = marker
                builder.appendLine("")
                continue
            }
            if leadingSpaces(line) < 4, let (level, title) = atxHeading(trimmed) {
                flushParagraph()
                builder.openSection(level: level, title: cleanInline(title))
                continue
            }
            if !paragraph.isEmpty, leadingSpaces(line) < 4, let level = setextLevel(trimmed) {
                let title = paragraph.map { $0.trimmingCharacters(in: .whitespaces) }.joined(separator: " ")
                paragraph.removeAll()
                builder.openSection(level: level, title: cleanInline(title))
                continue
            }
            if trimmed.isEmpty {
                flushParagraph()
                builder.appendLine("")
                continue
            }
            if isLinkDefinition(trimmed) || isTableSeparator(trimmed) { continue }
            if isThematicBreak(trimmed) && paragraph.isEmpty {
                builder.appendLine("")
                continue
            }
            var content = trimmed
            while content.hasPrefix(">") { content = content.dropFirst().trimmingCharacters(in: .whitespaces) }
            content = cleanInline(content)
            if startsBlockOfItsOwn(trimmed) {  // list item or table row: a paragraph of its own
                if let first = content.first, "-*+".contains(first), content.dropFirst().first == " " {
                    content = String(content.dropFirst(2))  // the bullet itself says nothing
                }
                flushParagraph()
                builder.appendLine("")
                builder.appendLine(content)
                builder.appendLine("")
            } else {
                paragraph.append(content)
            }
        }
        flushParagraph()
        return Parsed(title: builder.firstTopTitle, segments: builder.finish())
    }

    // MARK: Block syntax

    static func frontMatterLength(_ lines: [String]) -> Int {
        guard let first = lines.first?.trimmingCharacters(in: .whitespaces), first == "---" || first == "+++" else { return 0 }
        for i in 1..<min(lines.count, 500) {
            let t = lines[i].trimmingCharacters(in: .whitespaces)
            if t == first || (first == "---" && t == "...") { return i + 1 }
        }
        return 0
    }

    private static func leadingSpaces(_ line: String) -> Int {
        var n = 0
        for ch in line {
            if ch == " " { n += 1 } else if ch == "\t" { n += 4 } else { break }
        }
        return n
    }

    private static func fenceMarker(_ trimmed: String) -> (marker: Character, length: Int)? {
        guard let first = trimmed.first, first == "`" || first == "~" else { return nil }
        let length = trimmed.prefix(while: { $0 == first }).count
        return length >= 3 ? (first, length) : nil
    }

    static func atxHeading(_ trimmed: String) -> (Int, String)? {
        let level = trimmed.prefix(while: { $0 == "#" }).count
        guard (1...6).contains(level) else { return nil }
        var rest = trimmed.dropFirst(level)
        guard rest.isEmpty || rest.first == " " || rest.first == "\t" else { return nil }
        rest = rest.drop(while: { $0 == " " || $0 == "\t" })
        // An optional closing run of '#' preceded by a space.
        var text = String(rest).trimmingCharacters(in: .whitespaces)
        let closing = text.reversed().prefix(while: { $0 == "#" }).count
        if closing > 0 {
            let head = text.dropLast(closing)
            if head.isEmpty || head.last == " " { text = head.trimmingCharacters(in: .whitespaces) }
        }
        return (level, text)
    }

    private static func setextLevel(_ trimmed: String) -> Int? {
        guard let first = trimmed.first, first == "=" || first == "-" else { return nil }
        return trimmed.allSatisfy({ $0 == first }) ? (first == "=" ? 1 : 2) : nil
    }

    private static func isThematicBreak(_ trimmed: String) -> Bool {
        let marks = trimmed.filter { $0 != " " }
        guard let first = marks.first, "-*_".contains(first), marks.count >= 3 else { return false }
        return marks.allSatisfy { $0 == first }
    }

    private static func isLinkDefinition(_ trimmed: String) -> Bool {
        guard trimmed.hasPrefix("["), let close = trimmed.firstIndex(of: "]") else { return false }
        return trimmed[trimmed.index(after: close)...].hasPrefix(":")
    }

    private static func isTableSeparator(_ trimmed: String) -> Bool {
        trimmed.contains("-") && trimmed.contains("|") && trimmed.allSatisfy { "|-: ".contains($0) }
    }

    private static func startsBlockOfItsOwn(_ trimmed: String) -> Bool {
        if trimmed.hasPrefix("|") { return true }
        if let first = trimmed.first, "-*+".contains(first), trimmed.dropFirst().first == " " { return true }
        let digits = trimmed.prefix(while: { $0.isASCII && $0.isNumber })
        if !digits.isEmpty, digits.count <= 9 {
            let after = trimmed.dropFirst(digits.count)
            if after.hasPrefix(". ") || after.hasPrefix(") ") { return true }
        }
        return false
    }

    // MARK: Inline syntax

    /// Links and images keep their text, autolinks their address; code spans lose their backticks;
    /// `**`/`__` emphasis markers go. Single `*`/`_` stay (they are too often literal).
    static func cleanInline(_ text: String) -> String {
        guard text.contains(where: { "[]`*_<".contains($0) }) else { return text }
        let chars = Array(text)
        var out = ""
        var i = 0
        while i < chars.count {
            let c = chars[i]
            if c == "!" && i + 1 < chars.count && chars[i + 1] == "[", let (label, next) = linkAt(chars, i + 1) {
                out += label
                i = next
            } else if c == "[", let (label, next) = linkAt(chars, i) {
                out += label
                i = next
            } else if c == "<", let close = chars[(i + 1)...].firstIndex(of: ">"),
                      String(chars[(i + 1)..<close]).contains("://") {
                out += String(chars[(i + 1)..<close])
                i = close + 1
            } else if c == "`" {
                i += 1
            } else if (c == "*" || c == "_") && i + 1 < chars.count && chars[i + 1] == c {
                i += 2
            } else {
                out.append(c)
                i += 1
            }
        }
        return out
    }

    /// `[label](target)` or `[label][ref]` starting at `start`: the label and the index after it.
    private static func linkAt(_ chars: [Character], _ start: Int) -> (String, Int)? {
        var depth = 0
        var i = start
        while i < chars.count {
            if chars[i] == "[" { depth += 1 }
            if chars[i] == "]" {
                depth -= 1
                if depth == 0 { break }
            }
            i += 1
        }
        guard i < chars.count, i + 1 < chars.count else { return nil }
        let label = cleanInline(String(chars[(start + 1)..<i]))
        let closer: Character
        switch chars[i + 1] {
        case "(": closer = ")"
        case "[": closer = "]"
        default: return nil
        }
        guard let end = chars[(i + 2)...].firstIndex(of: closer) else { return nil }
        return (label, end + 1)
    }
}

/// Collects lines into sections with heading paths (shared by the Markdown and HTML loaders).
struct SectionBuilder {
    private(set) var segments: [RawSegment] = []
    private var lines: [String] = []
    private var stack: [(level: Int, title: String)] = []
    private(set) var firstTopTitle: String? = nil
    private var hasBody = false  // a heading directly followed by another one makes no segment

    mutating func appendLine(_ line: String) {
        lines.append(line)
        if !hasBody && !line.allSatisfy(\.isWhitespace) { hasBody = true }
    }

    mutating func openSection(level: Int, title: String) {
        flush()
        while let last = stack.last, last.level >= level { stack.removeLast() }
        let shown = title.isEmpty ? "(untitled)" : title
        stack.append((level, shown))
        if level == 1 && firstTopTitle == nil && !title.isEmpty { firstTopTitle = title }
        if !title.isEmpty {
            lines.append(title)  // the heading stays in the text, as the section's first paragraph
            lines.append("")
        }
    }

    private mutating func flush() {
        let text = lines.joined(separator: "\n")
        lines.removeAll()
        defer { hasBody = false }
        if hasBody {
            segments.append(RawSegment(text: text, sectionPath: stack.map(\.title)))
        }
    }

    mutating func finish() -> [RawSegment] {
        flush()
        return segments
    }
}
