"""How hard a support ticket looks: the classify task's complexity hook.

The estimate steers scheduling (complex first, so the slow items do not become the run's tail) and
pack size (complex items are packed smaller). It runs on every item on the hot path, so it is a
heuristic tuned for speed, not a classifier: a wrong guess costs a slightly worse pack, never a
wrong answer.
"""

from __future__ import annotations

import re

from forge_cli.core.models import Complexity

__all__ = ["estimate"]

_TRACE = "trace"
_CODE = "code"
_ERROR = "error"

#: reason phrases that make a bare 4xx/5xx number an HTTP status rather than a count
_HTTP_REASONS = (
    "Bad Request|Unauthorized|Payment Required|Forbidden|Not Found|Method Not Allowed|"
    "Request Timeout|Conflict|Gone|Payload Too Large|Too Many Requests|Internal Server Error|"
    "Not Implemented|Bad Gateway|Service Unavailable|Gateway Timeout"
)
#: what, just before a 4xx/5xx number, makes it a status code ("HTTP 503", "error 500", "code=429")
_HTTP_CONTEXT = (
    "HTTP ", "HTTP/1.0 ", "HTTP/1.1 ", "HTTP/2 ", "HTTP/2.0 ", "HTTP: ", "HTTP error ",
    "error ", "error: ", "Error ", "Error: ", "status ", "status: ", "status=", "code ", "code: ",
    "code=",
)  # fmt: skip


def _status(first: str) -> str:
    """A 4xx/5xx status signal anchored on its first digit, with its context as look-behinds."""
    behind = "|".join(f"(?<={re.escape(word)}{first}\\d\\d)" for word in _HTTP_CONTEXT)
    return rf"{first}\d\d(?!\d)(?: (?:{_HTTP_REASONS})|{behind})"


# Every signal starts with one literal, case-sensitive character, and the scanner merges signals by
# that character. The regex engine then builds a first-character set and skips, in C, every
# position that cannot start a signal, and at the positions that can it tries one branch per
# character instead of one per signal. A leading \b, character class or group would switch that off
# and make the scan several times slower, which is why signals are anchored on their rarest literal
# character ("(" of "Traceback (", ":" of "panic:") with the words before it as look-behinds.
_SIGNALS: tuple[tuple[str, str], ...] = (
    # stack traces: Python, JVM, JavaScript, Go, .NET
    (_TRACE, r"\((?<=Traceback \()most recent call last\)"),
    (_TRACE, r'"(?<=File ")[^"\n]{1,260}", line \d'),
    (_TRACE, r"\n[ \t]+at [\w$.<>]+ ?\("),  # "\tat com.acme.Foo.bar(" / "    at run (app.js:1:2)"
    (_TRACE, r":(?:(?<=\.java:)|(?<=\.kt:)|(?<=\.scala:)|(?<=\.cs:))\d+\)"),
    (_TRACE, r":(?<=Exception:)"),
    (_TRACE, r"Exception in thread"),
    (_TRACE, r":(?<=[a-z]Error:)"),  # TypeError:, NullReferenceError: (not a bare "Error:")
    (_TRACE, r":(?<=Caused by:)"),
    (_TRACE, r":(?<=panic:) "),
    # code: fences, statement and block line ends, definitions, SQL
    (_CODE, r"```"),
    (_CODE, r";[ \t]*\r?\n"),
    (_CODE, r"\{[ \t]*\r?\n"),
    (_CODE, r"\n[ \t]*(?:async )?(?:def|function) [\w$]+ ?\("),
    (_CODE, r"\) ?\{"),  # function f() {, if (x) {
    (_CODE, r"\)(?: -> ?[\w\[\], .]{1,40})?:[ \t]*\r?\n[ \t]+\S"),  # def f(x):⏎ + indented body
    (_CODE, r"=> ?\{"),
    (_CODE, r"SELECT (?<!\wSELECT )[^;]{1,300}? FROM "),
    (_CODE, r"#include "),
    # error codes: HTTP statuses, HRESULTs, ERR_*, E1234, Errno, CUDA_ERROR_*, POSIX, signals
    (_ERROR, _status("4")),
    (_ERROR, _status("5")),
    (_ERROR, r"0x[0-9A-Fa-f]{4,16}(?!\w)"),
    (_ERROR, r"ERR_[A-Z0-9]"),
    (_ERROR, r"_ERROR_[A-Z0-9]"),
    (_ERROR, r"E(?<!\wE)(?:\d{3,5}|CONNREFUSED|CONNRESET|TIMEDOUT|NOENT|ACCES|ADDRINUSE)(?!\w)"),
    (_ERROR, r"Errno \d"),
    (_ERROR, r"SIG(?:SEGV|KILL|ABRT|BUS)"),
    (_ERROR, r"Segmentation fault"),
)
#: signals made of common lowercase letters only: in the scanner they would stop it at every "e"
#: (about 1 µs per 300 characters); a substring test costs about 0.1 µs
_WORD_SIGNALS: tuple[tuple[str, str], ...] = ((_ERROR, "errno"),)


def _compile(signals: tuple[tuple[str, str], ...]) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """One alternation, merged by first character; each signal ends in an empty group.

    Returns the pattern and, by group number, the kind of signal whose empty group it is, so that
    ``match.lastindex`` names what was found without a second look at the text.
    """
    by_first: dict[str, list[tuple[str, str]]] = {}
    for kind, rx in signals:
        first = rx[:2] if rx.startswith("\\") else rx[:1]
        by_first.setdefault(first, []).append((kind, rx[len(first) :]))
    kinds: list[str] = [""]  # group 0 is the whole match
    branches = []
    for first, members in by_first.items():
        alternatives = []
        for kind, rest in members:
            kinds.extend([""] * re.compile(rest).groups)  # the signal's own groups, if any
            kinds.append(kind)
            alternatives.append(f"{rest}()")
        body = alternatives[0] if len(alternatives) == 1 else f"(?:{'|'.join(alternatives)})"
        branches.append(first + body)
    return re.compile("|".join(branches)), tuple(kinds)


_SCANNER, _KIND_BY_GROUP = _compile(_SIGNALS)

#: points each signal adds to the score (each counted once however often it occurs)
_POINTS = {_TRACE: 4, _CODE: 2, _ERROR: 2}
_QUESTION_POINTS = 1  # three or more "?": several things to answer
_PARAGRAPH_POINTS = 1  # three or more paragraphs
_MEDIUM = 2
_COMPLEX = 4
#: length bands: shorter than _SHORT scores 0, than _MIDDLING 1, than _LONG 2; longer is complex
_SHORT = 300
_MIDDLING = 800
_LONG = 1500
#: never scan further than this; long texts are settled by their length before any scan
_SCAN_LIMIT = 2000


def estimate(text: str) -> Complexity:
    """Simple, medium or complex, from a score of cheap signals.

    Score: length (< 300 chars: 0, < 800: 1, < 1500: 2, longer: complex outright), + 4 for a stack
    trace, + 2 for code, + 2 for an error code (HTTP 4xx/5xx, 0x8007045D, ERR_*, E1234, errno,
    CUDA_ERROR_*, ECONNREFUSED...), + 1 for three or more question marks, + 1 for three or more
    paragraphs. Each kind of signal counts once. Score >= 4: complex; >= 2: medium; else simple.
    So a trace alone makes a ticket complex, an error code or a snippet alone makes it medium, and
    a long plain message drifts from simple to medium by length.

    Cost: one pass of a precompiled alternation over at most ``_SCAN_LIMIT`` characters that stops
    as soon as the score reaches complex, plus a few ``str.count`` / ``in`` tests. Measured with
    ``timeit`` (best of 5 x 20,000 calls, CPython 3.11.7, a shared 2-core box): 1.9-2.7 µs for
    300-character plain tickets (six different ones), about 2.7 µs for 300 characters with error
    codes in them, 0.15 µs for anything over 1,500 characters (decided by length alone). Of that,
    the regex scan is about 0.9 µs; the rest is call and bookkeeping overhead.
    """
    size = len(text)
    if size >= _LONG:
        return Complexity.COMPLEX
    score = 0 if size < _SHORT else 1 if size < _MIDDLING else 2
    if text.count("?") >= 3:
        score += _QUESTION_POINTS
    # two blank lines need four newlines; the one-character count is the cheaper test
    if text.count("\n") >= 4 and text.count("\n\n") + text.count("\n\r\n") >= 2:
        score += _PARAGRAPH_POINTS
    if score < _COMPLEX:
        seen: set[str] = set()
        for match in _SCANNER.finditer(text, 0, _SCAN_LIMIT):
            kind = _KIND_BY_GROUP[match.lastindex or 0]
            if kind not in seen:
                seen.add(kind)
                score += _POINTS[kind]
                if score >= _COMPLEX:
                    break
        else:
            for kind, word in _WORD_SIGNALS:
                if kind not in seen and word in text:
                    seen.add(kind)
                    score += _POINTS[kind]
    if score >= _COMPLEX:
        return Complexity.COMPLEX
    if score >= _MEDIUM:
        return Complexity.MEDIUM
    return Complexity.SIMPLE
