"""Credentials in URLs (``scheme://user:pass@host``, ``?access_token=...``) and in ADO / ODBC /
Azure connection strings (``Server=...;Password=...;``).

A database scheme or a connection string makes the finding a ``connection_string``; any other URL a
``url_credentials``. The user, host and scheme stay: the model needs them to describe the change."""

from __future__ import annotations

import re

from forge_cli.redact.keys import key_kind
from forge_cli.redact.spans import ALNUM, Claims
from forge_cli.redact.values import is_placeholder, plausible, random_looking
from forge_cli.redact.words import DB_SCHEMES, DUMMIES, URL_SECRET_PARAMS

_A = re.ASCII

_SCHEME_CHARS = ALNUM | frozenset("+.-")
_URL_REST = re.compile(r"[^\s\"'<>`\\]*")
_QUERY = re.compile(r"[?&;](?P<k>[A-Za-z0-9_.\-\[\]]+)=(?P<v>[^&#\s\"'<>]*)", _A)


def _url_kind(scheme: str) -> str:
    base = scheme.split("+", 1)[0]
    return "connection_string" if base in DB_SCHEMES else "url_credentials"


def urls(text: str, lower: str, claims: Claims) -> None:
    """Passwords in ``scheme://user:pass@host`` and credential query values; nothing else."""
    i = text.find("://")
    while i != -1:
        s = i
        while s > 0 and text[s - 1] in _SCHEME_CHARS:
            s -= 1
        scheme = lower[s:i]
        rest = _URL_REST.match(text, i + 3)
        end = rest.end() if rest else i + 3
        if scheme:
            kind = _url_kind(scheme)
            slash = text.find("/", i + 3, end)
            auth_end = slash if slash != -1 else end
            at = text.rfind("@", i + 3, auth_end)
            if at != -1:
                colon = text.find(":", i + 3, at)
                if colon != -1 and _url_password_ok(text[colon + 1 : at]):
                    claims.add(colon + 1, at, kind)
            if "=" in text[i:end]:
                for q in _QUERY.finditer(text, i + 3, end):
                    _query_value(text, q, kind, claims)
            if "hook" in lower[i:end]:
                _webhook_path(text, lower, i + 3, end, claims)
        i = text.find("://", max(end, i + 3))


_WEBHOOK = re.compile(r"/(?:webhooks?|webhookb2|hooks)/", _A)


def _webhook_path(text: str, lower: str, start: int, end: int, claims: Claims) -> None:
    """A webhook URL is its own credential: whoever has it can post. The path after a
    ``/webhook/``, ``/webhooks/`` or ``/hooks/`` segment is redacted when one of its segments is
    machine-made (``/webhookb2/<uuid>@<uuid>/IncomingWebhook/<hex>``, Discord's
    ``/api/webhooks/<id>/<token>``); ``/repos/x/hooks/12`` keeps its id."""
    m = _WEBHOOK.search(lower, start, end)
    if not m:
        return
    rest_end = end
    for stop in "?#":
        at = text.find(stop, m.end(), end)
        if at != -1:
            rest_end = min(rest_end, at)
    path = text[m.end() : rest_end].rstrip("/.,;)'\"`")
    if any(len(seg) >= 16 and random_looking(seg) for seg in re.split(r"[/@]", path)):
        claims.add(m.end(), m.end() + len(path), "url_credentials")


def _url_password_ok(pw: str) -> bool:
    """Any password but an empty one, a template (``${DB_PASSWORD}``) or a mask (``****``)."""
    if not pw or pw.lower() in DUMMIES or is_placeholder(pw):
        return False
    return len(pw) < 4 or len(set(pw.lower())) > 2


def _query_value(text: str, q: re.Match[str], kind: str, claims: Claims) -> None:
    key = q.group("k").lower()
    vs, ve = q.span("v")
    while ve > vs and text[ve - 1] in ").,;]'":
        ve -= 1
    value = text[vs:ve]
    if key in URL_SECRET_PARAMS or key_kind(q.group("k")):
        ok = plausible(value) and (len(value) >= 6 or key in ("password", "pass", "pwd"))
    elif key == "key":
        ok = len(value) >= 16 and random_looking(value)
    else:
        return
    if ok:
        claims.add(vs, ve, kind)


# ------------------------------------------------------------- ADO / ODBC connection strings

_ADO = re.compile(
    r"""(?:password|pwd|accountkey|sharedaccesskey|sharedaccesssignature|secret)[ \t]*=[ \t]*
        (?P<v>[^;"'\s]+)(?=[ \t]*(?:;|["']|$))""",
    re.M | re.X | _A,
)
_ADO_WORDS = ("password", "pwd", "accountkey", "sharedaccess", "secret=")


def connection_strings(text: str, lower: str, claims: Claims) -> None:
    """``Password=...;`` in ADO.NET, ODBC, JDBC-property and Azure connection strings."""
    if ";" not in text or not any(w in lower for w in _ADO_WORDS):
        return
    for m in _ADO.finditer(lower):
        s = m.start()
        if s and lower[s - 1] not in ";\"' \t\n":
            continue
        line_start = lower.rfind("\n", 0, s) + 1
        line_end = lower.find("\n", m.end())
        if ";" not in lower[line_start : line_end if line_end != -1 else len(lower)]:
            continue  # a lone Password=x is an .env line, judged by the assignment rules
        vs, ve = m.span("v")
        if "(" not in text[vs:ve] and plausible(text[vs:ve]):  # not Buffer.from(...)
            claims.add(vs, ve, "connection_string")
