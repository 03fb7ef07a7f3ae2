"""Helpers the data scripts share: the answer normalisation `rag eval answers` uses (AnswerMetrics),
finding the passage that states a fact, citing it, and the one-sentence refusals."""
import re

ARTICLES = {"a", "an", "the"}


def tokens(text):
    """AnswerMetrics.normalizedTokens: lower case, letters and digits, no articles; 0.95 and 3-5 stay whole."""
    out, word = [], ""
    for ch in text.lower():
        if ch.isalpha() or ch.isnumeric():
            word += ch
        elif ch in ".,-" and word and word[-1].isdigit():
            word += ch
        else:
            if word and word not in ARTICLES:
                out.append(word)
            word = ""
    if word and word not in ARTICLES:
        out.append(word)
    return [t for t in (w.rstrip(".,-") for w in out) if t]


def contains(hay, needle):
    """Whether the token list `needle` occurs as a contiguous run in `hay`."""
    n = len(needle)
    if n == 0 or len(hay) < n:
        return False
    first = needle[0]
    return any(hay[i] == first and hay[i:i + n] == needle for i in range(len(hay) - n + 1))


def cite(answer, n):
    """Puts "[n]" before the answer's final full stop (or at its end)."""
    a = answer.rstrip()
    return a[:-1] + f" [{n}]." if a.endswith(".") else a + f" [{n}]"


# The one sentence an answer declines with; it contains "don't know", the phrase `rag eval answers`
# counts as declining. One wording, so that declining is one answer to learn, not four.
REFUSAL = "I don't know: the passages don't say."
