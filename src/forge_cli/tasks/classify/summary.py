"""The offline classifier's one-line summary of a ticket: its first meaningful sentence.

Apart from the scoring because it shares nothing with it: it reads the raw text, not the tokens, and
no cue table. It runs on every ticket of the offline benchmarks, so it looks at the head of the text
only and finds sentence ends with ``str.find``, in C.
"""

from __future__ import annotations

import re

_GREETING = re.compile(
    r"\s*(?i:hi|hello|hey|dear|hola|bonjour|hallo|greetings|good\s+(?:morning|afternoon|evening)"
    r"|guten\s+(?:tag|morgen)|buenos\s+d[ií]as)"
    r"(?:[ \t]+(?:[A-Z][\w.'/-]*|team|all|there|support|folks|everyone|sir|madam|guys|zusammen"
    r"|equipo|à|tous|billing|forge)){0,4}[ \t]*(?:[,!:.]+|(?=\n))"
)
#: what ends a sentence: a line break, or terminal punctuation followed by a space
_BOUNDARIES: tuple[str, ...] = ("\n", ". ", "? ", "! ")
_EXCEPTION_LINE = re.compile(r"^[A-Za-z_][\w.]*(?:Error|Exception)\b.*$", re.M)
#: "e.g." and friends at the end of a would-be sentence: the sentence goes on
_ABBREVIATION_END = re.compile(r"(?<![^\W\d_])(?i:e\.g|i\.e|etc|vs|approx|incl|no|mr|dr)\.\Z")
_SUMMARY_SCAN = 600
_SUMMARY_MAX = 120


def summary(text: str) -> str:
    """First meaningful sentence, greeting stripped, whitespace collapsed, at most 120 chars.

    Why the first sentence: in tickets the ask comes first far more often than not, and a summary
    that quotes the customer cannot invent anything. "Meaningful" = at least three words; a lone
    "Thanks!" or "URGENT" is used only when nothing better follows.
    """
    head = text[:_SUMMARY_SCAN]
    greeting = _GREETING.match(head)
    if greeting:
        head = head[greeting.end() :]
    if head.find("Traceback", 0, 40) != -1:
        exc = _EXCEPTION_LINE.search(text, 0, 8000)
        if exc:
            head = exc.group(0)
    first = ""
    pos = 0
    size = len(head)
    while pos < size:
        scan = pos
        limit = min(size, pos + 2 * _SUMMARY_MAX)  # a longer sentence is cut anyway
        while True:
            end = limit
            for mark in _BOUNDARIES:  # str.find runs in C; each hit narrows the next search
                k = head.find(mark, scan, end)
                if k != -1:
                    end = k + 1
            if (
                end < limit
                and head[end - 1] == "."
                and _ABBREVIATION_END.search(head, max(pos, end - 8), end)
            ):
                scan = end
                continue
            break
        part = head[pos:end].strip()
        pos = end
        if not part:
            continue
        if not first:
            first = part
        if part.count(" ") >= 2:
            first = part
            break
    # only the first ~120 visible chars survive: collapse no more text than can fill them, and
    # skip the split/join entirely for the common sentence that has nothing to collapse
    clipped = len(first) > 2 * _SUMMARY_MAX
    if clipped:
        first = first[: 2 * _SUMMARY_MAX]
    line = " ".join(first.split()) if "  " in first or not first.isprintable() else first
    if clipped and len(line) <= _SUMMARY_MAX:
        line = line[: _SUMMARY_MAX - 1].rstrip(" ,;:-") + "…"
    elif len(line) > _SUMMARY_MAX:
        cut = line.rfind(" ", 0, _SUMMARY_MAX)
        if cut < _SUMMARY_MAX // 2:
            cut = _SUMMARY_MAX - 1
        line = line[:cut].rstrip(" ,;:-") + "…"
    return line
