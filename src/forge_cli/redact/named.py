"""What a value given to a secret-named key must look like, by how strong the name is.

A password name (``DB_PASSWORD``) takes any plausible literal; a ``secret`` or ``credentials``
name a token or a password-like string; a token or key name a token; a weak name
(``HEROKU_KEY``, ``password_super_secure``) only a value that plainly is a credential."""

from __future__ import annotations

import re

from forge_cli.redact.keys import key_kind, leading_kind, vendor_key
from forge_cli.redact.values import passphrase, plausible, strong_token, token_like


def name_kind(key: str) -> str | None:
    """What the name says: a password or a secret, strongly (``DB_PASSWORD``) or weakly
    (``HEROKU_KEY``, ``password_super_secure``: then ``_value_ok`` asks more of the value)."""
    kind = key_kind(key) or leading_kind(key)
    return kind or ("secret_assignment" if vendor_key(key) else None)


def value_ok(
    value: str,
    kind: str,
    key: str,
    compared: bool = False,
    quoted: bool = False,
    names: bool = True,
) -> bool:
    """A literal given to a secret-named key: any plausible one for a password (quoted, a
    passphrase of plain words too); for a ``secret`` or ``credentials`` name one that is
    token-like or has a symbol a password would (``development#product``); a token-like one for a
    token or key (and for ``token == "..."``, which in parsers compares token kinds); a plainly
    machine-made one for a name that ends in ``key`` after an unknown word (``HEROKU_KEY``)."""
    if not plausible(value, phrases=quoted, names=names) or value != value.strip():
        return False  # (" --username=" + user: a piece of a string being built)
    v = value.strip()
    if kind == "password_assignment" and key_kind(key):
        return True
    if key_kind(key) is None:
        if leading_kind(key):  # password_super_secure: a token, a password of symbols, a phrase
            return token_like(v) or _symbols(v) >= 3 or (quoted and passphrase(v))
        return strong_token(v)  # vendor_key: HEROKU_KEY, alibabaKey
    if token_like(v) or _symbols(v) >= 3:
        return True  # machine-made, or a password of symbols ("m{{h}o)p${e]nob(...")
    if _UUID.fullmatch(v) and key_kind(key):
        return True  # npm's _authToken, Postmark, Heroku: tokens issued as UUIDs
    if v.isdigit() and len(v) >= 16 and len(set(v)) >= 6 and key.lower().endswith("token"):
        return True  # a numeric token (Asana, Discord): too long for a count or a port
    if compared or not key.lower().endswith(_LOOSE_NAMES):
        return False
    return (quoted and passphrase(v)) or _symbols(v) > 0


def _symbols(value: str) -> int:
    """How many characters of a value are symbols a password holds and a word does not."""
    return sum(c in _SYMBOLS for c in value) if " " not in value else 0


#: names whose value may be any string (a signing secret, a credentials string), not only a
#: machine-made token
_LOOSE_NAMES = ("secret", "secrets", "credential", "credentials", "creds")
_UUID = re.compile(r"[0-9a-fA-F]{8}-(?:[0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}", re.ASCII)
_SYMBOLS = frozenset("!#$%&*+@^~|?=<>;(){}[]")
