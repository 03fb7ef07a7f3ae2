/// A shell-style glob matched against a `/`-separated path relative to the scan root.
///
/// `*` any run of characters except `/`; `?` one character except `/`; `**` any run including `/`
/// (`**/` also matches no folder at all, so `**/*.md` matches `a.md`); `[abc]`, `[a-z]`, `[!a-z]`
/// or `[^a-z]` one character of (or not of) a class; `\x` a literal `x`.
/// A pattern without `/` is matched against the file name alone (like .gitignore), so `*.md`
/// selects Markdown files in every folder; `docs/*.md` only those directly in `docs`.
public struct Glob: Sendable, Equatable {
    enum Token: Sendable, Equatable {
        case literal(Character)
        case anyOne                 // ?
        case star                   // *
        case globstar(slashOptional: Bool)  // ** (followed by '/' when slashOptional)
        case charClass(items: [ClassItem], negated: Bool)
    }

    enum ClassItem: Sendable, Equatable {
        case single(Character)
        case range(Character, Character)
    }

    public let pattern: String
    let tokens: [Token]
    let matchesNameOnly: Bool

    public init(_ pattern: String) {
        self.pattern = pattern
        self.tokens = Glob.compile(Array(pattern))
        self.matchesNameOnly = !pattern.contains("/")
    }

    /// True if `relativePath` (e.g. "docs/guide/intro.md") matches.
    public func matches(_ relativePath: String) -> Bool {
        let subject: Substring
        if matchesNameOnly, let slash = relativePath.lastIndex(of: "/") {
            subject = relativePath[relativePath.index(after: slash)...]
        } else {
            subject = relativePath[...]
        }
        var matcher = Matcher(tokens: tokens, text: Array(subject))
        return matcher.match(0, 0)
    }

    private static func compile(_ p: [Character]) -> [Token] {
        var tokens: [Token] = []
        var i = 0
        while i < p.count {
            let c = p[i]
            switch c {
            case "*":
                if i + 1 < p.count, p[i + 1] == "*" {
                    var j = i + 2
                    while j < p.count, p[j] == "*" { j += 1 }
                    let atSegmentStart = i == 0 || p[i - 1] == "/"
                    if atSegmentStart, j < p.count, p[j] == "/" {
                        tokens.append(.globstar(slashOptional: true))
                        j += 1
                    } else {
                        tokens.append(.globstar(slashOptional: false))
                    }
                    i = j
                } else {
                    tokens.append(.star)
                    i += 1
                }
            case "?":
                tokens.append(.anyOne)
                i += 1
            case "[":
                if let (token, next) = compileClass(p, from: i) {
                    tokens.append(token)
                    i = next
                } else {
                    tokens.append(.literal("["))  // unterminated: a literal bracket
                    i += 1
                }
            case "\\" where i + 1 < p.count:
                tokens.append(.literal(p[i + 1]))
                i += 2
            default:
                tokens.append(.literal(c))
                i += 1
            }
        }
        return tokens
    }

    /// Parses `[...]` starting at `start`; nil if there is no closing `]`.
    private static func compileClass(_ p: [Character], from start: Int) -> (Token, Int)? {
        var i = start + 1
        var negated = false
        if i < p.count, p[i] == "!" || p[i] == "^" {
            negated = true
            i += 1
        }
        var items: [ClassItem] = []
        var first = true
        while i < p.count {
            var c = p[i]
            if c == "]" && !first { return (.charClass(items: items, negated: negated), i + 1) }
            first = false
            if c == "\\", i + 1 < p.count {
                i += 1
                c = p[i]
            }
            if i + 2 < p.count, p[i + 1] == "-", p[i + 2] != "]" {
                items.append(.range(c, p[i + 2]))
                i += 3
            } else {
                items.append(.single(c))
                i += 1
            }
        }
        return nil
    }
}

/// Backtracking matcher with a memo table, so patterns with many stars stay linear-ish.
private struct Matcher {
    let tokens: [Glob.Token]
    let text: [Character]
    var memo: [Int8]  // 0 unknown, 1 false, 2 true; index pi * (text.count + 1) + ti

    init(tokens: [Glob.Token], text: [Character]) {
        self.tokens = tokens
        self.text = text
        self.memo = Array(repeating: 0, count: (tokens.count + 1) * (text.count + 1))
    }

    mutating func match(_ pi: Int, _ ti: Int) -> Bool {
        let key = pi * (text.count + 1) + ti
        if memo[key] != 0 { return memo[key] == 2 }
        let result = compute(pi, ti)
        memo[key] = result ? 2 : 1
        return result
    }

    private mutating func compute(_ pi: Int, _ ti: Int) -> Bool {
        guard pi < tokens.count else { return ti == text.count }
        switch tokens[pi] {
        case .literal(let c):
            return ti < text.count && text[ti] == c && match(pi + 1, ti + 1)
        case .anyOne:
            return ti < text.count && text[ti] != "/" && match(pi + 1, ti + 1)
        case .charClass(let items, let negated):
            guard ti < text.count, text[ti] != "/" else { return false }
            let inClass = items.contains { item in
                switch item {
                case .single(let c): return text[ti] == c
                case .range(let lo, let hi): return lo <= text[ti] && text[ti] <= hi
                }
            }
            return inClass != negated && match(pi + 1, ti + 1)
        case .star:
            var t = ti
            while true {
                if match(pi + 1, t) { return true }
                guard t < text.count, text[t] != "/" else { return false }
                t += 1
            }
        case .globstar(let slashOptional):
            if slashOptional {
                // "**/": zero folders, or any run ending just after a '/'.
                if match(pi + 1, ti) { return true }
                var t = ti
                while t < text.count {
                    if text[t] == "/", match(pi + 1, t + 1) { return true }
                    t += 1
                }
                return false
            }
            var t = ti
            while true {
                if match(pi + 1, t) { return true }
                guard t < text.count else { return false }
                t += 1
            }
        }
    }
}
