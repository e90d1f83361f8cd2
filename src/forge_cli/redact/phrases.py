"""Credentials recognised by a fixed phrase rather than a key name: ``Authorization:`` headers,
bearer tokens, SQL ``IDENTIFIED BY``, netrc entries, ``curl -u user:pass``, a user and password
passed together (``NetworkCredential("u", "p")``), Vault unseal keys, and prose ("the password
is 'x'")."""

from __future__ import annotations

import re

from forge_cli.redact.spans import ALNUM, WORDISH, Claims
from forge_cli.redact.values import masked, plausible, random_looking, token_like

_A = re.ASCII

# Matched on the lower-cased text, so each pattern starts with a literal that re can search for
# quickly.
#: ``Authorization: <scheme> <credentials>`` for any scheme (Bearer, Basic, SSWS, Api-Token ...)
#: or the credentials alone (``Authorization: 5eb4223e-...``, ``Authorization:rubygems_...``)
_AUTH = re.compile(
    r"""authorization["']?[ \t]*[:=][ \t]*["']?
        (?:[a-z][a-z0-9-]{1,20}[ \t]+)?
        (?P<v>[a-z0-9\-._~+/=:@]{8,})""",
    re.X | _A,
)
#: prose: "the password is 'x'", "the default password for the user 'u' is "x""
_PROSE = re.compile(
    r"""password(?:[ \t]+(?:for|of)[ \t]+[^.\n]{1,40}?)?[ \t]+is[ \t]+
        (?P<q>["'])(?P<v>[^"'\r\n]{2,64})(?P=q)""",
    re.X | _A,
)
#: a user and a password given together: NetworkCredential("u", "p"), HTTPBasicAuth("u", "p"),
#: auth=("u", "p")
_PAIR = re.compile(
    r"""(?:credentials?|basicauth|passwordauthentication|auth)[ \t]*=?[ \t]*\(?[ \t]*\(
        [ \t]*(?P<q1>["'])[^"'\r\n]*(?P=q1)[ \t]*,[ \t]*(?P<q>["'])(?P<v>[^"'\r\n]+)(?P=q)""",
    re.X | _A,
)
#: Vault unseal keys as printed by ``vault operator init`` and typed into ``vault operator unseal``
_UNSEAL = re.compile(r"unseal(?:[ \t]+key[ \t]+\d+:)?[ \t]+(?P<v>[a-z0-9+/]{30,}={0,2})", _A)
_BEARER = re.compile(r"bearer[ \t]+(?P<v>[a-z0-9\-._~+/]{20,}=*)", _A)
_SQL = re.compile(
    r"""(?:identified[ \t]+by(?:[ \t]+password)?|password)[ \t]+
        (?P<q>['"])(?P<v>[^'"\r\n]+)(?P=q)""",
    re.X | _A,
)
_NETRC = re.compile(r"login[ \t]+\S+\s+password[ \t]+(?P<v>[^\s\"']+)", _A)
#: ``-u user:pass`` with the quoting shells allow: the whole pair quoted, each half quoted
#: (``kevin:'p4ss'``, ``"id":"secret"``), an empty user (``-u ":p4ss"``) or an empty password (a
#: token given as the user, ``-u "sk_live_...:"``)
_CURL_USER = re.compile(
    r"""(?:-u|--user)[ \t]+(?P<q>["']?)(?P<uq>["']?)(?P<u>[^\s:"'$<>]*)(?P=uq)
        :(?P<pq>["']?)(?P<v>[^\s"'<>]*)(?P=pq)(?P=q)(?=\s|$)""",
    re.X | _A,
)


def context_forms(text: str, lower: str, claims: Claims) -> None:
    """Forms recognised by a fixed phrase rather than a key name: headers, SQL, netrc, curl -u."""
    if "authorization" in lower:
        for m in _AUTH.finditer(lower):
            value = text[m.start("v") : m.end("v")]
            if not masked(value) and (token_like(value) or "+" in value or "=" in value):
                claims.add(*m.span("v"), "secret_assignment")
    if "password" in lower and " is " in lower:
        for m in _PROSE.finditer(lower):
            if plausible(text[m.start("v") : m.end("v")]):
                claims.add(*m.span("v"), "password_assignment")
    if "(" in text and ("credential" in lower or "auth(" in lower or "auth=" in lower):
        for m in _PAIR.finditer(lower):
            if plausible(text[m.start("v") : m.end("v")]):
                claims.add(*m.span("v"), "password_assignment")
    if "unseal" in lower:
        for m in _UNSEAL.finditer(lower):
            if random_looking(text[m.start("v") : m.end("v")]):
                claims.add(*m.span("v"), "secret_assignment")
    if "bearer" in lower:
        for m in _BEARER.finditer(lower):
            s = m.start()
            if (not s or lower[s - 1] not in ALNUM) and random_looking(m.group("v")):
                claims.add(*m.span("v"), "secret_assignment")
    if "identified" in lower or "password '" in lower or 'password "' in lower:
        for m in _SQL.finditer(lower):
            s = m.start()
            line = lower[lower.rfind("\n", 0, s) + 1 : s]
            if (
                (not s or lower[s - 1] not in WORDISH)
                and any(w in line for w in ("user", "role", "login"))  # not "identified by 'name'"
                and plausible(text[m.start("v") : m.end("v")])
            ):
                claims.add(*m.span("v"), "password_assignment")
    if "login" in lower:
        for m in _NETRC.finditer(lower):
            if plausible(text[m.start("v") : m.end("v")]):
                claims.add(*m.span("v"), "password_assignment")
    if "-u " in text or "--user " in text:
        for m in _CURL_USER.finditer(text):
            s = m.start()
            if s and not text[s - 1].isspace():
                continue
            if m.group("v") and plausible(m.group("v")):
                claims.add(*m.span("v"), "password_assignment")
            elif not m.group("v") and token_like(m.group("u")):
                claims.add(*m.span("u"), "password_assignment")
