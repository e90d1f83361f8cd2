"""Values given to secret-named keys: ``password = "..."``, ``API_KEY=...``, ``token: ...``, flags,
headers, XML, form bodies.

A key name is weak evidence, so the value must look like a literal as well (see ``values``), and an
unquoted one must not read as code: a variable, a call, a type."""

from __future__ import annotations

import re

from forge_cli.redact.named import name_kind, value_ok
from forge_cli.redact.spans import WORDISH, Claims
from forge_cli.redact.values import (
    random_looking,
    strong_token,
)

_A = re.ASCII

_KEYWORDS = ("pass", "pw", "secret", "token", "key", "cred", "pat", "login")
_KEY_CHARS = WORDISH | frozenset(".$")

# What may follow a key name, each matched right where the name ends (anchored, so cheap).
_AFTER_QUOTED = re.compile(
    r"""["'`]?\]?(?:\[[0-9]*\])?[ \t]*                 # "key", ['key'], key[], key[25]
        (?::[ \t]+[A-Za-z_][\w\[\]., |]{0,40}?[ \t]*(?==))?  # a type annotation before '='
        (?P<sep>:{1,3}=|===|!==|=>|==|!=|\?\?=|\?=|\.=|\+=|=|:)[ \t]*  # also Make, PHP, Go
        (?:[A-Za-z@]{1,2}(?=["'`]))?                         # r"", b"", f"", @"" prefixes
        (?:(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\r\n])*)(?P=q)
          |\\(?P<eq>["'])(?P<ev>[^\\"'\r\n]*)\\(?P=eq))          # \"...\" inside a string""",
    re.X | _A,
)
#: what may stand before a key that opens its line: diff marker, indentation, a comment mark
#: (``# API_KEY=...`` left in a file is still a key), a YAML list dash, shell/Dockerfile words, an
#: opening quote
_LINE_HEAD = re.compile(
    r"""[+\- ]?[ \t]*(?:(?:\#+|//|;)[ \t]*)?(?:-[ \t]+)?  # a commented-out line counts too
        (?:(?:export|set|setx|ENV|ARG|declare(?:[ \t]+-[A-Za-z]+)?|readonly|local|typeset)[ \t]+)?
        ["']?""",
    re.X | _A,
)
_AFTER_UNQUOTED = re.compile(
    r"[\"']?(?P<sep>[ \t]*(?::{1,3}=|\?=|[=:])[ \t]*)(?P<rest>[^\r\n]*)", _A
)
_AFTER_FLAG = re.compile(
    r"""(?:=|[ \t]+)(?:(?P<q>["'])(?P<qv>[^"'\r\n]*)(?P=q)|(?P<v>[^\s"'\-\\][^\s"'\\]*))""", _A
)
_AFTER_HEADER = re.compile(r"[ \t]*:[ \t]*(?P<v>[^\s\"',;]+)", _A)
_AFTER_FORM = re.compile(r"=(?P<v>[^&\s\"'#<>;]+)", _A)
_AFTER_XML = re.compile(r">\s*(?P<v>[^<\s][^<\r\n]*?)\s*</(?P<close>[\w.\-]+)>", _A)
#: ``var apiToken string = "..."`` (Go): a type between the name and '='
_AFTER_TYPE = re.compile(
    r"""[ \t]+[A-Za-z_][\w.]*(?:\[\])?[ \t]*=[ \t]*(?P<q>["'`])(?P<v>[^"'`\r\n]*)(?P=q)""", _A
)
#: ``password "value"`` (Chef, Puppet, Gradle DSLs): the name, a space, one string, end of line
_AFTER_SPACE = re.compile(
    r"""[ \t]+(?P<q>["'])(?P<v>[^"'\r\n]*)(?P=q)[ \t]*[;,]?[ \t]*(?=$|\r|\n|\#|//)""", _A
)
#: ``setProperty("API_TOKEN", "value")``, ``env('TWILIO_API', 'SK...')``: the name as one argument,
#: the value as the next
_AFTER_COMMA = re.compile(
    r"""["'`][ \t]*,[ \t]*(?P<q>["'`])(?P<v>(?:\\.|(?!(?P=q))[^\\\r\n])*)(?P=q)""", _A
)
#: ``"Token: 3fea6af1"``: a header written inside a string (curl -H, a header list)
_AFTER_HEADER_IN_STRING = re.compile(r""":[ \t]*(?P<v>[^\s"'`,;]+)(?=["'`])""", _A)
#: ``if ("value" == password)``: a literal compared with a secret-named variable, before it
_BEFORE_COMPARE = re.compile(
    r"""(?P<q>["'`])(?P<v>[^"'`\r\n]*)(?P=q)[ \t]*(?:===?|!==?)[ \t]*$""", _A
)
#: ``std::string password("value");``, ``QString token("value")``: a declaration whose
#: constructor takes the literal (the type before the name is checked with _DECLARED)
_AFTER_CTOR = re.compile(r"""\((?P<q>["'])(?P<v>[^"'\r\n]*)(?P=q)\)[ \t]*[;,]""", _A)
_DECLARED = re.compile(
    r"(?<![\w:<>])(?!(?:return|throw|yield|await|new|delete|else|case|print|echo|not|and|or|in|is)"
    r"[ \t])[A-Za-z_][\w:<>]*[ \t]+(?:const[ \t]+)?$",
    _A,
)
_AFTER_XML_ADD = re.compile(r"""["'][ \t]+value=["'](?P<v>[^"'\r\n]*)["']""", re.I | _A)
#: attribute paths (self.password), calls (get_password(), frozenset(...), subscripts
#: (config["x"]), keywords
_CODEISH = re.compile(
    r"[A-Za-z_$][\w$]*(?:(?:\.[A-Za-z_$][\w$]*)+$|[\w$.]*[(\[].*$)"
    r"|(?:new|await|lambda|function|fn|func|async|yield|not)\b",
    _A,
)
_IDENT = re.compile(r"^[A-Za-z_$][\w$]*$", _A)
_KEBAB = re.compile(r"^[A-Za-z_]\w*(?:-[A-Za-z_]\w*)+$", _A)


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
    yaml = ":" in sep and "=" not in sep
    if yaml and not sep.endswith((" ", "\t")) and rest and rest[0] not in "\"'`=":
        body = rest.split()[0].rstrip(",;")
        return (len(body), False) if len(body) >= 16 and strong_token(body) else None  # apikey:x
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
    if code_context and not yaml and _KEBAB.match(value) and not any(c.isdigit() for c in value):
        return False  # password = shorter-version: a subtraction in code
    if code_context and not yaml and _IDENT.match(value):
        return len(value) >= 6 and random_looking(value)  # password = hunter2x9 (INI)
    return True


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
    for s, e in _key_spans(text, lower):
        dashes = 0
        while s < e and text[s] in "-$":
            dashes += text[s] == "-"
            s += 1
        while e > s and text[e - 1] in ".-":
            e -= 1
        if dashes == 1 and e - s > 2 and text[s] == "D" and text[s + 1].islower():
            s += 1  # -Dsonar.login=...: a Java system property, named after the D
        key = text[s:e]
        kind = name_kind(key) if key else None
        if kind is None or text[s - 10 : s] == "[REDACTED:":
            continue
        le = text.find("\n", e)
        le = len(text) if le == -1 else le
        j = e
        while j < le and text[j] in " \t":
            j += 1
        ls = text.rfind("\n", 0, s) + 1
        if (
            ("==" in text[ls:s] or "!=" in text[ls:s])
            and (m := _BEFORE_COMPARE.search(text, ls, s - (1 if text[s - 1 : s] == "(" else 0)))
            and value_ok(m.group("v"), kind, key, compared=True, quoted=True)
        ):
            claims.add(*m.span("v"), kind)
        if dashes == 2 or (
            j < le and text[j] in "\"'`]:=!>?.+[," and not (j > e and text[j] in "\"'")
        ):
            _key_value(text, lower, s, e, ls, le, dashes, key, kind, claims)
        elif j == e < le and text[e] == "(" and (m := _AFTER_CTOR.match(text, e, le)):
            if _DECLARED.search(text, ls, s) and value_ok(m.group("v"), kind, key, quoted=True):
                claims.add(*m.span("v"), kind)  # std::string secret("..."): C++ direct init
        elif j < le and j > e:  # "password 'x'" (a DSL), "var apiToken string = 'x'" (Go)
            head = _LINE_HEAD.fullmatch(text, ls, s)
            m = (_AFTER_SPACE if head else _AFTER_TYPE).match(text, e, le)
            declared = head or "var " in text[ls:s] or "const " in text[ls:s]
            if m and declared and value_ok(m.group("v"), kind, key, quoted=True):
                claims.add(*m.span("v"), kind)


def _key_value(
    text: str,
    lower: str,
    s: int,
    e: int,
    ls: int,
    le: int,
    dashes: int,
    key: str,
    kind: str,
    claims: Claims,
) -> None:
    """The forms that start with an operator, a quote or a bracket right after the key."""
    add = claims.add
    opened = text[s - 1] if s and text[s - 1] in "\"'`" else ""
    after = text[e] if e < len(text) else ""
    if opened and after in "=:":
        _in_string(text, e, le, opened, key, kind, claims)
        if after == "=":
            return
    if (
        opened
        and after == opened
        and ("_" in key or key.isupper())  # a setting's name: DISCORD_TOKEN, not "password"
        and _call_argument(text, s - 1)
        and (m := _AFTER_COMMA.match(text, e, le))
    ):
        if value_ok(m.group("v"), kind, key, quoted=True):
            add(*m.span("v"), kind)
        return
    # a quoted key must be all of its string: "AWS::IAM::AccessKey" names a resource type
    m = _AFTER_QUOTED.match(text, e, le) if not (after and after in "\"'`" and not opened) else None
    if m and not (opened and after != opened and m.group("q") == opened):
        # (a key inside a string that goes on past it: the next quote of that kind closes the
        # string, it does not open a value: "MasterUserPassword: " + getPassword())
        group = "v" if m.group("q") else "ev"
        compared = m.group("sep") in ("==", "!=", "===", "!==")
        if value_ok(m.group(group), kind, key, compared, quoted=True):
            add(*m.span(group), kind)
    if dashes < 2 and _LINE_HEAD.fullmatch(text, ls, s):
        _line_value(text, ls, le, e, key, kind, claims)
    if dashes == 2 and (m := _AFTER_FLAG.match(text, e, le)):
        group = "qv" if m.group("qv") is not None else "v"
        value = m.group(group)
        spaced = after != "="  # "--password options" in prose: a word is not a value
        if value_ok(value, kind, key) and not (spaced and value.isalpha() and value.islower()):
            add(*m.span(group), kind)
    if (
        "-" in key
        and (m := _AFTER_HEADER.match(text, e, le))
        and value_ok(m.group("v"), kind, key)
        and not _CODEISH.match(m.group("v"))
    ):
        add(*m.span("v"), kind)
    if after == "=" and s > ls and (m := _AFTER_FORM.match(text, e, le)):
        _form_value(text, m, s, le, key, kind, claims)
    if (
        s
        and text[s - 1] == "<"
        and (m := _AFTER_XML.match(text, e, min(len(text), e + 4096)))
        and m.group("close") == key
        and value_ok(m.group("v"), kind, key)
    ):
        add(*m.span("v"), kind)
    if (
        s >= 5
        and lower[s - 5 : s - 1] in ("key=", "ame=")  # key="...", name="..."
        and (m := _AFTER_XML_ADD.match(text, e, le))
        and value_ok(m.group("v"), kind, key, names=False)  # value="..." holds no variable
    ):
        add(*m.span("v"), kind)


def _call_argument(text: str, quote: int) -> bool:
    """The string that opens at ``quote`` is a call's first argument (``setProperty("KEY", ...``,
    ``env('KEY', ...``), not an item of a list or a set (``['pass', 'raise']``)."""
    i = quote - 1
    while i >= 0 and text[i] in " \t":
        i -= 1
    return i >= 0 and text[i] == "("


def _in_string(
    text: str, e: int, le: int, opened: str, key: str, kind: str, claims: Claims
) -> None:
    """``"DB_PASSWORD=..."`` (docker -e, a list of env strings) and ``"Token: ..."`` (a header
    in a string). The quote after ``"GITHUB_TOKEN="`` followed by ``+ prefix`` closes the
    string, it does not open a value."""
    if text[e] == "=":
        m = _AFTER_FORM.match(text, e, le)
        if m and text[m.end() : m.end() + 1] == opened:
            value = m.group("v")
            if value_ok(value, kind, key) and _literal_unquoted(value, key, False, False):
                claims.add(*m.span("v"), kind)
    elif (m := _AFTER_HEADER_IN_STRING.match(text, e, le)) and text[m.end()] == opened:
        value = m.group("v")
        word = value.isalpha() and value.islower()  # "passwd:gecos": a name, not a value
        if not word and value_ok(value, kind, key) and not _CODEISH.match(value):
            claims.add(*m.span("v"), kind)


def _line_value(text: str, ls: int, le: int, e: int, key: str, kind: str, claims: Claims) -> None:
    """``KEY=value`` (.env, shell, properties), ``key: value`` (YAML), ``key = value`` (INI)."""
    m = _AFTER_UNQUOTED.match(text, e, le)
    if not m:
        return
    sep, rest = m.group("sep"), m.group("rest")
    yaml = ":" in sep and "=" not in sep
    if yaml and rest[:1] in ("|", ">"):
        block = _yaml_block(text, ls, le)
        if block and value_ok("".join(text[block[0] : block[1]].split()), kind, key):
            claims.add(*block, kind)
        return
    found = _unquoted_value(sep, rest)
    if found:
        n, code = found
        vs = m.start("rest")
        value = text[vs : vs + n]
        if value_ok(value, kind, key) and _literal_unquoted(value, key, code, yaml):
            claims.add(vs, vs + n, kind)


def _form_value(
    text: str, m: re.Match[str], s: int, le: int, key: str, kind: str, claims: Claims
) -> None:
    """``a=1&client_secret=...`` (a form body), ``api_key=... retries=3`` (logfmt, kwargs) or
    ``//registry.npmjs.org/:_authToken=...`` (.npmrc)."""
    vs, ve = m.span("v")
    value = m.group("v")
    before = text[s - 1]
    if before in "?&" or (ve < le and text[ve] == "&"):
        ok = value_ok(value, kind, key)
    elif before in " \t,:" or (before == "D" and text[s - 2 : s - 1] == "-"):
        value = value.rstrip("),:")
        ve = vs + len(value)
        ok = value_ok(value, kind, key) and _literal_unquoted(value, key, True, False)
    else:
        return
    if ok:
        claims.add(vs, ve, kind)
