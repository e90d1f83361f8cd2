"""What a key name says: ``password_assignment``, ``secret_assignment`` or nothing.

Judged by how the name ends once suffixes that change nothing (``_BASE``, ``_PROD``, digits) are
dropped: ``DB_PASSWORD_PROD`` holds a password, ``password_hash`` and ``public_key`` do not."""

from __future__ import annotations

import re
from functools import lru_cache

from forge_cli.redact.words import (
    ABOUT_SECRET,
    KEY_QUALIFIERS,
    NOT_LIVE,
    NOT_SECRET_KEY,
    NOT_SECRET_TOKEN,
    TAIL,
)

_A = re.ASCII

#: the words of an identifier: snake_case, kebab-case, camelCase and ACRONYMCase alike
PARTS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+", _A)
_PASSWORD_WORDS = frozenset({"password", "passwd", "pwd", "pass", "passphrase", "passcode", "pw"})
_NOT_PASSWORD_PREV = frozenset(
    {"no", "skip", "ask", "prompt", "show", "hide", "forgot", "reset", "is", "has", "use", "by"}
)


#: key names written as one word, whatever comes before: ibmcloudiamapikey, SLACCESSKEY
_FUSED_KEYS = ("apikey", "secretkey", "accesskey", "privatekey", "authkey", "authtoken")


@lru_cache(maxsize=4096)
def key_kind(key: str) -> str | None:
    """password_assignment, secret_assignment or None, judged by how the key name ends."""
    parts = [p.lower() for p in PARTS.findall(key)]
    while len(parts) > 1 and (parts[-1].isdigit() or parts[-1] in TAIL):
        parts.pop()
    if not parts or "public" in parts:
        return None  # public_key, publicKeyToken: published on purpose
    if len(parts) > 1 and parts[0] in NOT_LIVE:
        return None  # invalid_token, wrongPassword, nonMatchingToken: not a live credential
    last = parts[-1]
    prev = parts[-2] if len(parts) > 1 else ""
    if last in _PASSWORD_WORDS or last.endswith(("password", "passwd", "passphrase", "pw")):
        return None if prev in _NOT_PASSWORD_PREV else "password_assignment"
    if last.endswith("secret") or last in ("credential", "credentials", "creds"):
        return "secret_assignment"
    if last.endswith("token"):
        if prev in NOT_SECRET_TOKEN or last[:-5] in NOT_SECRET_TOKEN:
            return None
        return "secret_assignment"
    if last == "key":
        return "secret_assignment" if prev in KEY_QUALIFIERS else None
    if last.endswith(_FUSED_KEYS):
        return "secret_assignment"  # IBMCLOUDIAMAPIKEY
    if last.endswith("key") and last[:-3] in KEY_QUALIFIERS:
        return "secret_assignment"
    return None


@lru_cache(maxsize=4096)
def vendor_key(key: str) -> bool:
    """A name that ends in ``key`` after a word that is not a known qualifier (``HEROKU_KEY``,
    ``alibabaKey``, ``config.facebook.key``), ``pat`` (``ado_pat``, a personal access
    token) or ``login`` (``sonar.login``, which CI tools fill with a token): a credential only if its value is plainly machine-made, which the caller checks;
    ``primaryKey``, ``sort_key``, ``NAME_PAT`` (a pattern) never are."""
    parts = [p.lower() for p in PARTS.findall(key)]
    while len(parts) > 1 and (parts[-1].isdigit() or parts[-1] in TAIL):
        parts.pop()
    if len(parts) < 2 or "public" in parts or parts[0] in NOT_LIVE:
        return False
    return parts[-1] in ("key", "pat", "login") and parts[-2] not in NOT_SECRET_KEY


_LEADING = frozenset({"password", "passwd", "passphrase", "secret", "apikey"})


@lru_cache(maxsize=4096)
def leading_kind(key: str) -> str | None:
    """A name that starts with a secret word and goes on with words that do not make it about
    the secret (``password_super_secure``, ``apikey_myservice``; not ``password_policy``): a
    credential only if its value plainly is one, which the caller checks."""
    parts = [p.lower() for p in PARTS.findall(key)]
    first = next((i for i, p in enumerate(parts) if p in _LEADING), None)
    if first is None or first == len(parts) - 1 or any(p in ABOUT_SECRET for p in parts):
        return None
    if any(p in NOT_LIVE or p == "public" for p in parts[: first + 1]):
        return None
    return "password_assignment" if parts[first].startswith("pass") else "secret_assignment"
