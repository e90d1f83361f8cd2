"""Values given to secret-named keys: ``password = "..."``, ``API_KEY=...``, ``token: ...``, flags,
headers, XML, form bodies.

A key name is weak evidence, so the value must look like a literal as well (see ``values``), and an
unquoted one must not read as code: a variable, a call, a type."""

from __future__ import annotations

import re

from forge_cli.redact.keys import key_kind
from forge_cli.redact.spans import WORDISH, Claims
from forge_cli.redact.values import plausible, random_looking, token_like

_A = re.ASCII

_KEYWORDS = ("pass", "pw", "secret", "token", "key", "cred")
_KEY_CHARS = WORDISH | frozenset(".$")

# What may follow a key name, each matched right where the name ends (anchored, so cheap).
_AFTER_QUOTED = re.compile(
    r"""["'`]?\]?[ \t]*
        (?::[ \t]+[A-Za-z_][\w\[\]., |]{0,40}?[ \t]*(?==))?  # a type annotation before '='
        (?P<sep>:=|=>|==|!=|=|:)[ \t]*
        (?:[A-Za-z@]{1,2}(?=["'`]))?                         # r"", b"", f"", @"" prefixes
        (?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\r\n])*)(?P=q)""",
    re.X | _A,
)
#: what may stand before a key that opens its line: diff marker, indentation, a YAML list dash,
#: shell/Dockerfile words, an opening quote
_LINE_HEAD = re.compile(
    r"""[+\- ]?[ \t]*(?:-[ \t]+)?
        (?:(?:export|set|setx|ENV|ARG|declare(?:[ \t]+-[A-Za-z]+)?|readonly|local|typeset)[ \t]+)?
        ["']?""",
    re.X | _A,
)
_AFTER_UNQUOTED = re.compile(r"[\"']?(?P<sep>[ \t]*[=:][ \t]*)(?P<rest>[^\r\n]*)", _A)
_AFTER_FLAG = re.compile(
    r"""(?:=|[ \t]+)(?:(?P<q>["'])(?P<qv>[^"'\r\n]*)(?P=q)|(?P<v>[^\s"'\-\\][^\s"'\\]*))""", _A
)
_AFTER_HEADER = re.compile(r"[ \t]*:[ \t]*(?P<v>[^\s\"',;]+)", _A)
_AFTER_FORM = re.compile(r"=(?P<v>[^&\s\"'#<>;]+)", _A)
_AFTER_XML = re.compile(r">(?P<v>[^<\s][^<\r\n]*)</(?P<close>[\w.\-]+)>", _A)
_AFTER_XML_ADD = re.compile(r"""["'][ \t]+value=["'](?P<v>[^"'\r\n]*)["']""", re.I | _A)
#: attribute paths (self.password), calls (get_password(), frozenset(...), subscripts
#: (config["x"]), keywords
_CODEISH = re.compile(
    r"[A-Za-z_$][\w$]*(?:(?:\.[A-Za-z_$][\w$]*)+$|[\w$.]*[(\[].*$)"
    r"|(?:new|await|lambda|function|fn|func|async|yield|not)\b",
    _A,
)
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$", _A)


def _indent(text: str, start: int, end: int) -> int | None:
    """Indentation of a line (a diff marker in column 1 ignored); None for a blank line."""
    if start < end and text[start] in "+-":
        start += 1
    i = start
    while i < end and text[i] in " \t":
        i += 1
    return None if i == end or text[i] == "\r" else i - start


def _yaml_block(text: str, ls: int, le: int) -> tuple[int, int] | None:
    """The content of a YAML block scalar (``key: |`` then more-indented lines), as one span."""
    key_indent = _indent(text, ls, le) or 0
    first = last = -1
    pos = le + 1
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end == -1 else end
        indent = _indent(text, pos, end)
        if indent is not None:
            if indent <= key_indent:
                break
            if first == -1:
                first = pos + (1 if text[pos] in "+-" else 0) + indent
            last = end - 1 if text[end - 1 : end] == "\r" else end
        pos = end + 1
    return (first, last) if first != -1 and last > first else None


def _unquoted_value(sep: str, rest: str) -> tuple[int, bool] | None:
    """(length, looks_like_code) of the value at the start of the rest of a ``key<sep>`` line."""
    spaced = "=" in sep and sep != "="
    yaml = ":" in sep
    if not rest or rest[0] in "\"'`=" or (yaml and not sep.endswith((" ", "\t"))):
        return None  # quoted (the quoted form handles it), "==", ":=", or "a:b" (not YAML)
    if (yaml and rest[0] in "|>&*!{[") or (spaced and rest[0] in "{[("):
        return None  # a YAML block, anchor, alias or tag; a code literal or expression
    body = rest
    hash_at = body.find(" #")
    if hash_at != -1:
        body = body[:hash_at]
    body = body.rstrip()
    code = body.endswith((",", ";"))
    if code:
        body = body[:-1].rstrip()
    if not body:
        return None
    if not yaml and not spaced:
        body = body.split()[0]  # shell and .env: the value ends at whitespace
    elif " " in body or "\t" in body:
        return None  # prose after "Password:" or an expression after " = "
    return len(body), code or spaced


def _literal_unquoted(value: str, key: str, code_context: bool, yaml: bool) -> bool:
    """Whether an unquoted value is a literal, not a variable, a call or a type."""
    if _CODEISH.match(value) and (
        code_context or "(" in value or "[" in value or not any(c.isdigit() for c in value)
    ):
        return False  # settings.DB_PASSWORD, get_password(); but PASSWORD=Summer2026.Fun in .env
    if _IDENT.match(value) and not any(c.isdigit() for c in value):
        low = value.lower()
        if code_context and not yaml:
            return False  # password = new_password
        if code_context or any(w in low for w in _KEYWORDS) or value == key:
            return False  # token: authToken,   password: password
    if code_context and not yaml and _IDENT.match(value):
        return len(value) >= 6 and random_looking(value)  # password = hunter2x9 (INI)
    return True


def _value_ok(value: str, kind: str, compared: bool = False) -> bool:
    """A literal given to a secret-named key: any plausible one for a password, a token-like one
    for a token or key (and for ``token == "..."``, which in parsers compares token kinds)."""
    if not plausible(value):
        return False
    return (kind == "password_assignment" and not compared) or token_like(value.strip())


def _key_spans(text: str, lower: str) -> list[tuple[int, int]]:
    """(start, end) of every identifier that contains a key word, in text order."""
    n = len(text)
    spans: set[tuple[int, int]] = set()
    for word in _KEYWORDS:
        i = lower.find(word)
        while i != -1:
            s, e = i, i + len(word)
            while s and text[s - 1] in _KEY_CHARS:
                s -= 1
            while e < n and text[e] in _KEY_CHARS:
                e += 1
            spans.add((s, e))
            i = lower.find(word, e)
    return sorted(spans)


def assignments(text: str, lower: str, claims: Claims) -> None:
    """Values given to secret-named keys in code, JSON, YAML, .env, shell, XML, flags, headers.

    Each identifier holding a key word is judged by its name first (most are ``key``, ``tokens``,
    ``password_hash``: rejected at once), then the forms that may follow it are matched where
    it ends, so no line is ever scanned position by position.
    """
    add = claims.add
    for s, e in _key_spans(text, lower):
        dashes = 0
        while s < e and text[s] in "-$":
            dashes += text[s] == "-"
            s += 1
        while e > s and text[e - 1] in ".-":
            e -= 1
        key = text[s:e]
        kind = key_kind(key) if key else None
        if kind is None or text[s - 10 : s] == "[REDACTED:":
            continue
        le = text.find("\n", e)
        le = len(text) if le == -1 else le
        j = e
        while j < le and text[j] in " \t":
            j += 1
        if dashes != 2 and (j == le or text[j] not in "\"'`]:=!>"):
            continue  # "if token is None", "token.refresh()": nothing is assigned here
        ls = text.rfind("\n", 0, s) + 1
        opened = text[s - 1] if s and text[s - 1] in "\"'`" else ""
        after = text[e] if e < len(text) else ""
        if opened and after == "=":
            # KEY=value inside a string ("-e", "DB_PASSWORD=..."); the quote after "KEY=" in
            # "GITHUB_TOKEN=" + prefix closes the string, it does not open a value
            m = _AFTER_FORM.match(text, e, le)
            if m and text[m.end() : m.end() + 1] == opened:
                value = m.group("v")
                if _value_ok(value, kind) and _literal_unquoted(value, key, False, False):
                    add(*m.span("v"), kind)
            continue
        # a quoted key must be all of its string: "AWS::IAM::AccessKey" names a resource type
        m = (
            _AFTER_QUOTED.match(text, e, le)
            if not (after and after in "\"'`" and not opened)
            else None
        )
        if m and m.group("sep") != "!=" and _value_ok(m.group("v"), kind, m.group("sep") == "=="):
            add(*m.span("v"), kind)
        if dashes < 2 and _LINE_HEAD.fullmatch(text, ls, s):
            _line_value(text, ls, le, e, key, kind, claims)
        if dashes == 2 and (m := _AFTER_FLAG.match(text, e, le)):
            group = "qv" if m.group("qv") is not None else "v"
            value = m.group(group)
            spaced = after != "="  # "--password options" in prose: a word is not a value
            if _value_ok(value, kind) and not (spaced and value.isalpha() and value.islower()):
                add(*m.span(group), kind)
        if (
            "-" in key
            and (m := _AFTER_HEADER.match(text, e, le))
            and _value_ok(m.group("v"), kind)
            and not _CODEISH.match(m.group("v"))
        ):
            add(*m.span("v"), kind)
        if after == "=" and s > ls and (m := _AFTER_FORM.match(text, e, le)):
            _form_value(text, m, s, le, key, kind, claims)
        if (
            s
            and text[s - 1] == "<"
            and (m := _AFTER_XML.match(text, e, le))
            and m.group("close") == key
            and _value_ok(m.group("v"), kind)
        ):
            add(*m.span("v"), kind)
        if (
            s >= 5
            and lower[s - 5 : s - 1] == "key="
            and (m := _AFTER_XML_ADD.match(text, e, le))
            and _value_ok(m.group("v"), kind)
        ):
            add(*m.span("v"), kind)


def _line_value(text: str, ls: int, le: int, e: int, key: str, kind: str, claims: Claims) -> None:
    """``KEY=value`` (.env, shell, properties), ``key: value`` (YAML), ``key = value`` (INI)."""
    m = _AFTER_UNQUOTED.match(text, e, le)
    if not m:
        return
    sep, rest = m.group("sep"), m.group("rest")
    if ":" in sep and rest[:1] in ("|", ">"):
        block = _yaml_block(text, ls, le)
        if block and _value_ok("".join(text[block[0] : block[1]].split()), kind):
            claims.add(*block, kind)
        return
    found = _unquoted_value(sep, rest)
    if found:
        n, code = found
        vs = m.start("rest")
        value = text[vs : vs + n]
        if _value_ok(value, kind) and _literal_unquoted(value, key, code, ":" in sep):
            claims.add(vs, vs + n, kind)


def _form_value(
    text: str, m: re.Match[str], s: int, le: int, key: str, kind: str, claims: Claims
) -> None:
    """``a=1&client_secret=...`` (a form body) or ``api_key=... retries=3`` (logfmt, kwargs)."""
    vs, ve = m.span("v")
    value = m.group("v")
    before = text[s - 1]
    if before in "?&" or (ve < le and text[ve] == "&"):
        ok = _value_ok(value, kind)
    elif before in " \t,":
        value = value.rstrip("),:")
        ve = vs + len(value)
        ok = _value_ok(value, kind) and _literal_unquoted(value, key, True, False)
    else:
        return
    if ok:
        claims.add(vs, ve, kind)
