/// Text-layout repairs for PDF pages (lines as poppler gives them, without blank lines).
enum PageCleanup {
    /// Lines at the top or bottom of a page that recur on most pages (page numbers may vary)
    /// are running headers or footers: they are removed.
    static let edgeWindow = 3

    static func removeRunningHeadersAndFooters(_ pages: [[String]]) -> [[String]] {
        let nonEmpty = pages.filter { !$0.isEmpty }
        guard nonEmpty.count >= 3 else { return pages }
        let topKeys = recurringKeys(nonEmpty.map { Array($0.prefix(edgeWindow)) }, pageCount: nonEmpty.count)
        let bottomKeys = recurringKeys(nonEmpty.map { Array($0.suffix(edgeWindow)) }, pageCount: nonEmpty.count)
        if topKeys.isEmpty && bottomKeys.isEmpty { return pages }
        return pages.map { lines in
            var start = 0, end = lines.count
            while start < end, start < edgeWindow, topKeys.contains(lineKey(lines[start])) { start += 1 }
            while end > start, lines.count - end < edgeWindow, bottomKeys.contains(lineKey(lines[end - 1])) { end -= 1 }
            return Array(lines[start..<end])
        }
    }

    /// Keys found in more than half of the pages' edge windows (and on at least 3 pages).
    private static func recurringKeys(_ windows: [[String]], pageCount: Int) -> Set<String> {
        var pagesWithKey: [String: Int] = [:]
        for window in windows {
            for key in Set(window.map(lineKey)) where !key.isEmpty { pagesWithKey[key, default: 0] += 1 }
        }
        let needed = max(3, pageCount / 2 + 1)
        return Set(pagesWithKey.filter { $0.value >= needed }.map(\.key))
    }

    /// A line with digit runs replaced by "#" and spacing collapsed, so "Page 3" and "Page 14" agree.
    static func lineKey(_ line: String) -> String {
        var key = ""
        var inDigits = false, inSpace = false
        for ch in line.lowercased() {
            if ch.isNumber {
                if !inDigits { key.append("#") }
                inDigits = true
                inSpace = false
            } else if ch.isWhitespace {
                inSpace = !key.isEmpty
                inDigits = false
            } else {
                if inSpace { key.append(" ") }
                key.append(ch)
                inDigits = false
                inSpace = false
            }
        }
        return key
    }

    /// Poppler gives one line per text line and no blank lines; a paragraph ends where a line is
    /// clearly shorter than the page's full lines and the next one starts a new sentence (upper-case,
    /// digit or bullet). A blank line is inserted there.
    static func markParagraphs(_ lines: [String]) -> [String] {
        guard lines.count > 1 else { return lines }
        let lengths = lines.map(\.count).sorted()
        let fullLine = lengths[min(lengths.count - 1, lengths.count * 9 / 10)]  // a full-width line
        var out: [String] = []
        out.reserveCapacity(lines.count * 2)
        for (i, line) in lines.enumerated() {
            out.append(line)
            guard i + 1 < lines.count else { break }
            let next = lines[i + 1].drop(while: { $0 == " " })
            let short = line.count * 4 < fullLine * 3
            let nextStarts = next.first.map { $0.isUppercase || $0.isNumber || "•–—-*(\"“".contains($0) } ?? false
            let endsDashed = line.last == "-"
            if short && nextStarts && !endsDashed { out.append("") }
        }
        return out
    }
}
