"""Vendor tokens by their documented shape (``vendor_table``), and the forms that have a shape
but no prefix at their start: Azure AD client secrets (``...Q~...``), Telegram bot tokens,
Facebook app tokens (``id|secret``), Mailchimp keys (``...-us13``), New Relic license keys
(``...NRAL``), Salesforce session ids,
1Password secret keys, password hashes (``$2y$...``, ``$krb5asrep$...``) and Bundler source
credentials (``BUNDLE_HOST__COM=user:pass``).

A table of a hundred prefixes cannot be gated by a hundred substring tests (each is a scan of
the text: 7 µs on an 8 KB diff). Instead one pattern finds the start of every run of token
characters (one C-level scan; a run starts after a character that cannot continue a token), and
the first two characters of each run select the few rows worth trying there."""

from __future__ import annotations

import base64
import binascii
import re
from functools import cache

from forge_cli.redact.spans import ALNUM, WORDISH, Claims
from forge_cli.redact.values import entropy, masked, random_looking
from forge_cli.redact.vendor_table import VENDOR_TOKENS

_A = re.ASCII
_TOKEN_CHARS = WORDISH | frozenset("+/=.~")


def _index() -> dict[str, list[tuple[str, str]]]:
    by_start: dict[str, list[tuple[str, str]]] = {}
    for prefix, body in sorted(VENDOR_TOKENS, key=lambda row: -len(row[0])):
        by_start.setdefault(prefix[:2], []).append((prefix, body))
    return by_start


@cache
def _pattern(prefix: str, body: str) -> re.Pattern[str]:
    """A row's pattern, compiled the first time a run starts with its prefix: a hundred regexes
    compiled at import would cost the commit hook milliseconds on every commit."""
    return re.compile(re.escape(prefix) + "(?:" + body + ")", _A)


_BY_START = _index()


def _pem_in_base64(token: str) -> bool:
    """``LS0tLS1CRUdJTi...`` counts only if it decodes to a PRIVATE KEY header."""
    head = token[:64]
    try:
        return b"PRIVATE KEY" in base64.b64decode(head[: len(head) // 4 * 4])
    except (binascii.Error, ValueError):
        return False


#: every character that cannot be part of a token becomes a space, so ``str.split`` (in C)
#: yields the runs of token characters
_NOT_TOKEN = {c: " " for c in range(128) if not (chr(c).isalnum() or chr(c) in "_.~-")}


#: the text ``token_runs`` last read and what it found: vendor_tokens and the keyword detector
#: (``nearby``) read the same runs of the same text, one after the other, so the second is free.
#: The text itself is kept (so its id cannot pass to another string while it is cached), and the
#: pair is read and replaced whole, so threads redacting at once never mix two texts' runs.
_last: tuple[str, list[tuple[int, str]]] = ("", [])


def token_runs(text: str) -> list[tuple[int, str]]:
    """(start, run) of every run of token characters of 20 or more that starts with a letter,
    digit or underscore: translate, split and look each long run up again, which is cheaper
    than a regex over every position of the text. The last text's runs are kept."""
    global _last
    seen, found = _last
    if seen is text:
        return found
    runs: list[tuple[int, str]] = []
    cursor = 0
    for run in [w for w in text.translate(_NOT_TOKEN).split() if len(w) >= 20]:
        at = text.find(run, cursor)
        cursor = at + len(run)
        lead = len(run) - len(run.lstrip(".~-"))
        if len(run) - lead >= 20:
            runs.append((at + lead, run[lead:]))
    _last = (text, runs)
    return runs


#: a vendor's way of writing a token it did not document here: a short prefix of one to three
#: words ending in a separator (``abc_``, ``xyz-live-``, ``dp.pt.``), then a long random body
_PREFIXED = re.compile(
    r"(?P<prefix>(?:[a-z]{2,10}|[A-Z]{2,10})(?:[_\-.](?:[a-z]{1,10}|[A-Z]{1,10}|v\d)){0,2}[_\-.])"
    r"(?P<body>[A-Za-z0-9_\-]{24,})",
    _A,
)
#: prefixes of things that are not credentials: content hashes (sha512-... in lock files)
_NOT_PREFIXES = frozenset(
    ["sha1", "sha256", "sha384", "sha512", "md5", "sha", "data", "blob", "tree", "commit"]
)
_LOWER_WORD = re.compile(r"[a-z]{9,}")


def _readable_base64(body: str) -> bool:
    """Base64 of printable text ("bedrock.amazonaws.co"): encoded words, not a random key."""
    try:
        decoded = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return bool(decoded) and all(32 <= b < 127 for b in decoded)


def _prefixed(token: str) -> bool:
    """A token of an unknown vendor: a short prefix and a body that no person typed: letters of
    both cases and digits with 4 bits of entropy a character or more, or 32+ lower-case letters
    and digits above what hex can reach (4.3 bits), and no lower-case word of nine letters."""
    m = _PREFIXED.fullmatch(token)
    if m is None or m.group("prefix")[:-1].lower() in _NOT_PREFIXES:
        return False
    body = m.group("body")
    if body.isalpha() or body.isdigit() or len(set(body)) < 14 or _LOWER_WORD.search(body):
        return False  # cheapest tests first: most runs are words, paths and names
    if not any(c.isdigit() for c in body):
        return False
    mixed = not body.islower() and not body.isupper()
    if not (entropy(body) >= 4.0 if mixed else len(body) >= 32 and entropy(body) >= 4.3):
        return False
    return not (masked(body) or _readable_base64(body))


def vendor_tokens(text: str, lower: str, claims: Claims) -> None:
    """Tokens that start with a vendor's prefix and have the shape the vendor issues, and
    tokens of an unknown vendor written the way vendors write them (``_prefixed``)."""
    for s, run in token_runs(text):
        if claims.overlaps(s, s + len(run)):
            continue  # a provider token (ghp_, AKIA) already claimed by a stronger detector
        rows = _BY_START.get(run[:2])
        if not rows:
            token = run.rstrip(".-_~")
            if run[0] in "MNO" and token.count(".") == 2 and _DISCORD.fullmatch(token):
                claims.add(s, s + len(token), "api_token")
                continue
            if _prefixed(token):
                claims.add(s, s + len(token), "api_token")
            continue
        for prefix, body in rows:
            if not text.startswith(prefix, s):
                continue
            m = _pattern(prefix, body).match(text, s)
            if m is None:
                continue
            end = m.end()
            if end < len(text) and text[end] in WORDISH:
                continue  # the token goes on: not this shape
            body = m.group()[len(prefix) :]
            if masked(body) or (prefix.startswith("LS0t") and not _pem_in_base64(m.group())):
                continue
            claims.add(s, end, "api_token")
            break


# ------------------------------------------------------------------ forms without a prefix

#: a Discord bot token: the bot's numeric id in base64 (so it starts M, N or O), a timestamp, an
#: HMAC; checked in the run loop above, where the run is already cut out
_DISCORD = re.compile(r"[MNO][\w-]{23,25}\.[\w-]{6}\.[\w-]{27,40}", _A)
_AZURE = re.compile(r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.\-]{31,34}", _A)
_TELEGRAM = re.compile(r"\d{5,16}:A[A-Za-z0-9_\-]{33,34}", _A)
_FACEBOOK = re.compile(r"\d{15,16}\|[A-Za-z0-9_\-]{27}", _A)
_MAILCHIMP = re.compile(r"[0-9a-f]{32}-us\d{1,2}", _A)
#: an Azure DevOps personal access token (the 84-character kind, "AZDO" at a fixed place)
_AZURE_DEVOPS = re.compile(r"[A-Za-z0-9]{76}AZDO[A-Za-z0-9]{4}", _A)
_NEWRELIC_LICENSE = re.compile(r"[A-Za-z0-9]{36}NRAL", _A)
_TERRAFORM = re.compile(r"[a-z0-9]{14}\.atlasv1\.[a-z0-9\-_=]{60,70}", _A)
_MAXMIND = re.compile(r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk", _A)
_FIREBASE = re.compile(r"AAAA[A-Za-z0-9_\-]{7}:[A-Za-z0-9_\-]{140}", _A)
_SALESFORCE = re.compile(r"00[A-Za-z0-9]{13}![A-Za-z0-9_.]{80,}", _A)
_ONEPASSWORD = re.compile(
    r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}",
    _A,
)
#: crypt(3) and friends: MD5, bcrypt, SHA-crypt, scrypt (Cisco $8$/$9$), yescrypt, Argon2; and
#: Kerberos hashes that crack offline
_PWHASH = re.compile(
    r"\$(?:1|2[abxy]?|5|6|7|8|9|y|gy|apr1|argon2(?:id|i|d)|scrypt|pbkdf2[\w-]*|krb5asrep|krb5tgs)\$"
    r"[^\s'\"`]{20,}",
    _A,
)
_BUNDLER = re.compile(
    r"""bundle_(?:[a-z0-9-]+__)+[a-z0-9-]+["']?[ \t]*[=:][ \t]*["']?
        (?P<v>[^\s"';:&]+:[^\s"';&]+)""",
    re.X | _A,
)


def _claim_all(
    pattern: re.Pattern[str], text: str, claims: Claims, kind: str, check: bool = False
) -> None:
    for m in pattern.finditer(text):
        s, e = m.span()
        if (s and text[s - 1] in ALNUM) or (e < len(text) and text[e] in ALNUM):
            continue
        if check and not random_looking(m.group()):
            continue
        claims.add(s, e, kind)


def shaped_tokens(text: str, lower: str, claims: Claims) -> None:
    """Secrets known by their shape, each gated by a substring its shape must hold."""
    if "Q~" in text:
        _claim_all(_AZURE, text, claims, "api_token")
    if ":A" in text:
        for m in _TELEGRAM.finditer(text):
            s, e = m.span()
            if (s and text[s - 1] in WORDISH) or (e < len(text) and text[e] in _TOKEN_CHARS):
                continue  # "bot123:AA..." in a URL is still claimed by the URL path rule
            if random_looking(m.group()[m.group().index(":") + 2 :]):
                claims.add(s, e, "api_token")
    if "|" in text:
        _claim_all(_FACEBOOK, text, claims, "api_token", check=True)
    if "-us" in text:
        _claim_all(_MAILCHIMP, text, claims, "api_token")
    if "atlasv1." in text:
        _claim_all(_TERRAFORM, text, claims, "api_token")
    if "_mmk" in text:
        _claim_all(_MAXMIND, text, claims, "api_token")
    if "AAAA" in text:
        _claim_all(_FIREBASE, text, claims, "api_token")
    if "AZDO" in text:
        _claim_all(_AZURE_DEVOPS, text, claims, "api_token", check=True)
    if "NRAL" in text:
        _claim_all(_NEWRELIC_LICENSE, text, claims, "api_token", check=True)
    if "!" in text:
        _claim_all(_SALESFORCE, text, claims, "api_token")
    if "A3-" in text:
        _claim_all(_ONEPASSWORD, text, claims, "api_token")
    if "$" in text:
        for m in _PWHASH.finditer(text):
            claims.add(*m.span(), "password_hash")
    if "bundle_" in lower:
        for m in _BUNDLER.finditer(lower):
            claims.add(*m.span("v"), "url_credentials")
