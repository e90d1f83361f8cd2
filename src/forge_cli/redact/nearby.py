"""A machine-made value right after a credential word, whatever the syntax between them:
``vendor SECRET 3k14...``, ``apolloAPIKEY 1Z2y...``, ``Fastly token: fgsb...``, ``datadog-secrettoken-
0024a...``, ``eventbrite private access key`` then the key on the next line.

Why: the key-driven forms (``assignments``) read a value only where the syntax says it is one
(``=``, ``:``, a flag, a header), and vendor prefixes cover only the vendors listed. Scanners'
"keyword then token" rules (Kingfisher, TruffleHog) show secrets are often written any way at all
near a word that says what they are; so this detector asks nothing of the syntax and much of the
value instead: 16+ characters (20+ after the weaker words ``access``, ``private``, ``auth``, and
after a ``-`` or ``.`` that glues it to the word), letters and digits, at least 3 bits of entropy
a character (3.3 without an ``=`` or ``:``), no mask, no path, no file name, no run of plain words;
pure hex needs 32+ characters (a GPG key id or a short hash is not a key). The words in front
decide too: ``public``, ``id``, ``cache``, ``page``, ``hash``, ``fingerprint``, ``commit`` and the
like say the value is a name, a cursor or a digest, not a credential.

It runs after every other secret detector, so a stronger one names what both find.
Cost: gated by a substring test per word; each hit matches one anchored pattern."""

from __future__ import annotations

import base64
import binascii
import re

from forge_cli.redact.keys import PARTS
from forge_cli.redact.spans import Claims
from forge_cli.redact.values import entropy, is_placeholder, masked
from forge_cli.redact.vendors import token_runs
from forge_cli.redact.words import NOT_LIVE, NOT_SECRET_TOKEN

_A = re.ASCII

#: the credential words looked for; the weaker ones ask a longer value
_WORDS = ("secret", "token", "key", "tkn", "cred", "access", "private", "auth")
_WEAK = frozenset({"access", "private", "auth"})
_IDENT = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")
_IDENT_JOIN = _IDENT | frozenset("-.")
#: more words of the same phrase after the first (``private access key``, ``SECRET key=``)
_MORE = re.compile(
    r"[ \t_\-.]+[A-Za-z0-9]*(?:secret|token|key|access|private|auth|code|api|pat|tkn)[A-Za-z0-9]*"
    r"(?=[\s\"'`:=\-.,])",
    re.I | _A,
)
#: what may stand between the phrase and the value: quotes (escaped too: JSON inside a string),
#: an operator, spaces, one line break
_SEP = re.compile(
    r"""\\?["'`]?\]?[ \t]*(?::{1,2}=?|=>|->|==?)?[ \t]*(?:\r?\n[ \t]*)?\\?["'`]?""",
    re.X | _A,
)
_VALUE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_\-+/=.~]*", _A)
_HEX = re.compile(r"[0-9a-fA-F\-]+", _A)
_FILE_END = re.compile(r"\.[A-Za-z][A-Za-z0-9]{1,4}$", _A)
_UUID = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}", _A
)
#: words that, before ``key``, make it a credential's name (otherwise a bare ``key`` may name an
#: object, a stream or a row, and its value must be more plainly a key)
_KEY_QUALIFIERS = ("secret", "token", "api", "access", "private", "auth", "cred", "tkn", "license")
#: words of the phrase that make the value a name, a cursor, a digest or a setting
_NOT_CREDENTIAL = (
    frozenset(
        str.split(
            """public id ids uuid name names hash hashed digest checksum fingerprint sha md5 commit cache
    page next cursor continuation sort primary foreign partition idempotency routing shard index
    lookup csrf xsrf nonce file path dir url uri endpoint type kind length len size max min count
    version format header prefix suffix policy expires expiry expiration ttl timeout rotation ref
    arn alias label field column table attr attribute event map dict hot short cut keyboard
    button row vault certificate cert certs usage pub pubkey signature sig"""
        )
    )
    | NOT_LIVE
    | (NOT_SECRET_TOKEN - {"access", "auth"})
)


def _phrase_ok(phrase: str) -> bool:
    """The words before the value do not make it a name, a cursor or a digest, nor a
    collection (``keyVaultToStoreSecrets``)."""
    words = [p.lower() for p in PARTS.findall(phrase)]
    if words and words[-1] in ("secrets", "tokens", "keys", "credentials"):
        return False
    return not any(w in _NOT_CREDENTIAL for w in words)


def _value_ok(value: str, *, long: bool, spaced: bool) -> bool:
    """Plainly machine-made: see the module docstring for the thresholds."""
    n = len(value)
    if n < (20 if long else 16) or n > 512:
        return False
    if not any(c.isdigit() for c in value) or not any(c.isalpha() for c in value):
        return False
    if _HEX.fullmatch(value) and len(value.replace("-", "")) < 32:
        return False
    if entropy(value) < (3.3 if spaced else 3.0) or masked(value) or is_placeholder(value):
        return False
    if _FILE_END.search(value) and not value[-4:].isupper():
        return False  # keys/service-account-2024.json: a file, not a key
    if "/" in value and sum(p.isalpha() and len(p) >= 3 for p in value.split("/")) >= 2:
        return False  # a path of words
    if "-" in value or "." in value or "/" in value:
        pieces = re.split(r"[\-./]", value)
        if sum(p.isalpha() and p.islower() and len(p) >= 2 for p in pieces) >= 2:
            return False  # key-rotation-2024-v2, openai/gpt-4o-mini: words, not a key
        if "." in value and sum(p.strip("_").isalpha() and len(p) >= 2 for p in pieces) >= 2:
            return False  # self._lib.NID_aes_256_cbc: an attribute path in code
    if any(p.lower() in _NAME_PARTS for p in re.split(r"[_\-.]", value)) or any(
        p.lower() in _NAME_PARTS for p in PARTS.findall(value) if len(p) >= 3
    ):
        return False  # TR31_P1_PIN_GENERATION_KEY, Ed25519PrivateKey: a name with the word in it
    return _HEX.fullmatch(value) is not None or not _name_like(value)  # hex is never a name


def _readable_base64(value: str) -> bool:
    """Base64 that decodes to printable text: encoded words, not a random key."""
    if len(value) % 4 == 1 or not value.rstrip("=").isalnum():
        return False
    try:
        decoded = base64.b64decode(value + "=" * (-len(value) % 4), validate=True)
    except (binascii.Error, ValueError):
        return False
    return len(decoded) >= 12 and all(32 <= b < 127 for b in decoded)


def _name_like(value: str) -> bool:
    """Most of the letters are words (``struct_X509_pubkey_st``, ``SalesResults-1.2``,
    ``Ed25519.BlindKeySignatures``): a name in code, not a random token, whose letters fall
    into short fragments."""
    letters = sum(c.isalpha() for c in value)
    words = [p for p in PARTS.findall(value) if len(p) >= 4 and p.isalpha()]
    return sum(len(w) for w in words if _wordish(w)) * 10 >= letters * 6


_NAME_PARTS = frozenset(
    {"key", "keys", "token", "tokens", "secret", "secrets", "password", "auth", "private", "public"}
)
_PLAIN = re.compile(r"[A-Za-z][A-Za-z_\-]*", _A)
_CONSONANT_RUN = re.compile(r"[bcdfghjklmnpqrstvwxz]{4,}", _A)


def _wordish(part: str) -> bool:
    """Reads as a word: a fifth to three fifths vowels and no run of four consonants
    (``Signatures``, ``chain``; not ``rpapgq`` or ``gvczlr`` out of a random string)."""
    low = part.lower()
    vowels = sum(c in "aeiouy" for c in low)
    return len(low) * 2 <= vowels * 10 <= len(low) * 6 and not _CONSONANT_RUN.search(low)


#: how far before a value its credential word may stand
_REACH = 80
_DIGIT = re.compile(r"\d", _A)


def _windows(text: str, claims: Claims) -> list[tuple[int, int]]:
    """Where a credential word and its value could be: each run of 20+ token characters with a
    digit in it (``vendors.token_runs``, already found for the vendor formats, so free here;
    runs that long are rare in ordinary text), not claimed by a stronger detector, and the 80
    characters before it. The words are looked for only there, so a diff full of ``token`` and
    ``key`` in names costs next to nothing. (A value of 16 to 19 characters is found when the
    run holding it, its word glued on, reaches 20.)"""
    out: list[tuple[int, int]] = []
    for at, run in token_runs(text):
        end = at + len(run)
        if _DIGIT.search(run) is None or claims.overlaps(at, end) or len(set(run)) < 8:
            continue  # no digit, a stronger detector has it, or too few characters
        start = max(0, at - _REACH)
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def keyword_values(text: str, lower: str, claims: Claims) -> None:
    """Values right after a credential word, in any syntax (module docstring)."""
    n = len(text)
    done = -1
    hits: set[int] = set()
    for ws, we in _windows(text, claims):
        for word in _WORDS:
            i = lower.find(word, ws, we)
            while i != -1:
                hits.add(i)
                i = lower.find(word, i + len(word), we)
    for i in sorted(hits):
        if i < done:
            continue
        s, e = i, i
        while s and text[s - 1] in _IDENT:
            s -= 1
        while e < n and text[e] in _IDENT:
            e += 1
        while m := _MORE.match(text, e):
            e = m.end()
        done = e
        if s >= 10 and text[s - 10 : s] == "[REDACTED:":
            continue
        if e + 1 < n and text[e] in "-." and text[e + 1].isalnum():
            sep = text[e]  # glued: x-secrettoken-<value>
        elif m := _SEP.match(text, e):
            sep = m.group()
        else:
            continue
        if "\n" in sep and any(c in sep.split("\n")[0] for c in "\"'`,"):
            continue  # the next line of a list, not this word's value
        vs = e + len(sep)
        v = _VALUE.match(text, vs)
        if v is None or (vs == e and not sep):
            continue
        value = v.group().rstrip(".-~")
        if value.endswith("=") and not value.rstrip("=")[-1:].isalnum():
            continue
        ve = vs + len(value)
        if ve < n and text[ve] in "(@:[":
            continue  # a call, an e-mail, a host:port or a subscript, not a token
        if text.startswith("..", ve) or text.startswith("\u2026", ve):
            continue  # a token cut short for show: ops_eyJzaWdu...
        glued = sep in ("-", ".")
        ps = s
        while ps and text[ps - 1] in _IDENT_JOIN:
            ps -= 1
        phrase = text[ps:e]  # csrf-token, x.auth.token: judged with the words glued before
        if ps >= 2 and text[ps - 1] in ":/" and text[ps - 2].isalnum():
            continue  # a segment of an ARN, a URN or a path (arn:aws:...:secret:name-AbC123)
        before = text[max(text.rfind("\n", 0, ps) + 1, ps - 40) : ps].split()[-2:]
        low = phrase.lower()
        weak = not any(w in low for w in ("secret", "token", "key", "tkn", "cred"))
        operator = any(c in sep for c in ":=")
        words_before = " ".join(w for w in before if _PLAIN.fullmatch(w))
        if not _phrase_ok(phrase) or not _phrase_ok(words_before):
            continue  # next page token, public key, cache key: judged with the words before
        if not _value_ok(value, long=weak or glued, spaced=not operator):
            continue
        bare_key = not any(q in low for q in _KEY_QUALIFIERS)
        if bare_key and (len(value) < 20 or _UUID.search(value)):
            continue  # "key": "48c67f3c-...": an object's or a stream's key, not a credential
        if len(phrase) >= 6 and phrase in value:
            continue  # X509_pubkey_st = struct_X509_pubkey_st: a name built on the name
        if glued and ("/" in value or (_HEX.fullmatch(value) is None and entropy(value) < 3.5)):
            continue
        if _readable_base64(value):
            continue  # base64 of words (bedrock.amazonaws.co): encoded text, not a key
        claims.add(vs, ve, "secret_assignment")
        done = ve
