"""Personal data, redacted only with ``pii=True``: e-mail addresses, phone numbers, card numbers.

Numbers are looked for only inside runs of digits and separators, so ordinary text costs one cheap
scan; phones are recognised by layout, cards by issuer prefix, grouping and Luhn digit."""

from __future__ import annotations

import re
from collections.abc import Iterator

from forge_cli.redact.spans import ALNUM, Claims
from forge_cli.redact.words import NOT_TLDS

_A = re.ASCII

_CARD = re.compile(r"\d(?:[ \-]?\d){12,18}(?!\w|[.\-]\d)", _A)
_PHONE = re.compile(
    r"""\+\d{1,3}(?:[ .\-]?(?:\(\d{1,4}\)|\d{1,5})){1,6}
      | \(\d{3}\)[ .\-]?\d{3}[ .\-]\d{4}
      | \d{3}[.\-]\d{3}[.\-]\d{4}
      | 0\d(?:[ .]\d{2}){4}
      | 0\d{1,4}[ \-/]\d{3,4}[ \-]?\d{3,4}""",
    re.X | _A,
)
_NUMBER_BEFORE = ALNUM | frozenset("_./#")
_EMAIL_LOCAL = ALNUM | frozenset("._%+-")
_EMAIL_DOMAIN = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9\-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9\-]+)*\.(?P<tld>[A-Za-z]{2,24})\b", _A
)


def _luhn(digits: str) -> bool:
    total = 0
    for n, ch in enumerate(reversed(digits)):
        d = ord(ch) - 48
        if n % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _number_starts(text: str, s: int) -> bool:
    """Whether a number may start at s: not glued to a word, a version, or a sign (a diff marker
    in column 1 is not a sign)."""
    if not s:
        return True
    before = text[s - 1]
    if before in "+-":
        return s == 1 or text[s - 2] == "\n"
    if before in " -." and s > 1 and text[s - 2].isdigit():
        return False  # the tail of a longer group of numbers: "4411 0838 6249 5480"
    return before not in _NUMBER_BEFORE


#: a run of digits and separators; "[0-9]" and no optional lead keep re's fast first-character scan
_NUMBER_RUN = re.compile(r"[0-9][0-9 ./()-]{6,}[0-9]")


def numbers(text: str, lower: str, claims: Claims) -> None:
    """Card numbers, then phone numbers, looked for only inside runs of digits and separators.

    One cheap scan finds the runs; the detailed patterns then only see those few spans.
    """
    for run in _NUMBER_RUN.finditer(text):
        cs, ce = run.span()
        if cs and text[cs - 1] in "+(":
            cs -= 1
        stop = min(len(text), ce + 2)  # let the look-aheads see what follows the run
        _cards(text, _CARD.finditer(text, cs, stop), claims)
        _phones(text, _PHONE.finditer(text, cs, stop), claims)


def _cards(text: str, found: Iterator[re.Match[str]], claims: Claims) -> None:
    """13-19 digit card numbers with a known issuer prefix, consistent grouping and a valid Luhn."""
    for m in found:
        s = m.start()
        if not _number_starts(text, s):
            continue
        raw = m.group()
        seps = {c for c in raw if not c.isdigit()}
        if len(seps) > 1:
            continue
        digits = raw.replace(" ", "").replace("-", "")
        if seps:
            groups = raw.split(seps.pop())
            if len(groups[0]) != 4 or any(not 3 <= len(g) <= 6 for g in groups):
                continue
        if digits[0] not in "23456" or (digits[0] == "2" and not "22" <= digits[:2] <= "27"):
            continue
        if _luhn(digits):
            claims.add(s, m.end(), "card_number")


def _phones(text: str, found: Iterator[re.Match[str]], claims: Claims) -> None:
    """Phone numbers by their layout: international, US, and national trunk-prefix forms."""
    for m in found:
        s, e = m.span()
        if not _number_starts(text, s):
            continue
        if e < len(text) and (
            text[e] in ALNUM or (text[e] in " .-/:" and e + 1 < len(text) and text[e + 1].isdigit())
        ):
            continue
        raw = m.group()
        n = sum(c.isdigit() for c in raw)
        if raw[0] == "+" and not 8 <= n <= 15:
            continue
        if raw[0] != "+" and raw[0] != "(" and "-" in raw and "." in raw:
            continue  # 415-555.0134 is not a layout anyone writes
        claims.add(s, e, "phone")


def emails(text: str, lower: str, claims: Claims) -> None:
    """E-mail addresses; package specs (@types/x), image names (a@2x.png) and scp URLs survive."""
    i = text.find("@")
    while i != -1:
        s = i
        while s > 0 and text[s - 1] in _EMAIL_LOCAL:
            s -= 1
        while s < i and text[s] in ".-+":
            s += 1
        m = _EMAIL_DOMAIN.match(text, i + 1)
        if s < i and m and m.group("tld").lower() not in NOT_TLDS and text[s - 3 : s] != "://":
            e = m.end()
            scp = e < len(text) and text[e] == ":" and not text[e + 1 : e + 2].isspace()
            if not scp:
                claims.add(s, e, "email")
            i = text.find("@", e)
        else:
            i = text.find("@", i + 1)
