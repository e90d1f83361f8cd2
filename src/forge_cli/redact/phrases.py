"""Credentials recognised by a fixed phrase rather than a key name: ``Authorization:`` headers,
bearer tokens, SQL ``IDENTIFIED BY``, netrc lines, ``curl -u user:pass``."""

from __future__ import annotations

import re

from forge_cli.redact.spans import ALNUM, WORDISH, Claims
from forge_cli.redact.values import masked, plausible, random_looking

_A = re.ASCII

# Matched on the lower-cased text, so each pattern starts with a literal that re can search for
# quickly.
_AUTH = re.compile(
    r"""authorization["']?[ \t]*[:=][ \t]*["']?
        (?:bearer|basic|token|bot|digest|apikey|api-key|sso-key)[ \t]+
        (?P<v>[a-z0-9\-._~+/=:]{6,})""",
    re.X | _A,
)
_BEARER = re.compile(r"bearer[ \t]+(?P<v>[a-z0-9\-._~+/]{20,}=*)", _A)
_SQL = re.compile(
    r"""(?:identified[ \t]+by(?:[ \t]+password)?|password)[ \t]+
        (?P<q>['"])(?P<v>[^'"\r\n]+)(?P=q)""",
    re.X | _A,
)
_NETRC = re.compile(r"login[ \t]+\S+[ \t]+password[ \t]+(?P<v>[^\s\"']+)", _A)
_CURL_USER = re.compile(r"(?:-u|--user)[ \t]+[\"']?[^\s:\"'$]+:(?P<v>[^\s\"']+?)[\"']?(?=\s|$)", _A)


def context_forms(text: str, lower: str, claims: Claims) -> None:
    """Forms recognised by a fixed phrase rather than a key name: headers, SQL, netrc, curl -u."""
    if "authorization" in lower:
        for m in _AUTH.finditer(lower):
            if not masked(text[m.start("v") : m.end("v")]):
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
            if (not s or text[s - 1].isspace()) and plausible(m.group("v")):
                claims.add(*m.span("v"), "password_assignment")
