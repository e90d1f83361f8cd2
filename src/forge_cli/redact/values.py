"""What a value looks like: a placeholder, a mask, a name or prose rather than a credential.

Shared by every detector whose evidence is weaker than a provider prefix: a key name, a URL, a
fixed phrase. Checked cheapest first, since most candidate values are rejected here."""

from __future__ import annotations

import math
import re
from collections import Counter
from itertools import pairwise

from forge_cli.redact.keys import PARTS
from forge_cli.redact.words import DUMMIES, UI_WORDS

_A = re.ASCII

#: substrings (of the lower-cased value) that mark a reference or a mask
_PLACEHOLDER_PARTS = (
    "xxxx", "***", "...", "\u2026", "redacted", "your", "example",
    "placeholder", "dummy", "fake", "sample", "os.environ", "getenv", "process.env",
    "import.meta.env", "secrets.", "vault:", "env[", "env(", "goes here", "go here",
)  # fmt: skip
#: template slots (``${DB_PASSWORD}``, ``$(cat f)``, ``{{ secret }}``, ``{% x %}``, ``<%= x %>``);
#: they count only where the value's brackets nest, so a password that merely contains ``${``
#: or ``{{`` among other symbols (``m{{h}o)p${e]nob(...}}``) is still a password
_TEMPLATE = re.compile(r"\$\{[^{}]+\}|\$\([^()]+\)|\{\{.+?\}\}|\{%.+?%\}|<%.+?%>", re.S)
_OPENERS = {")": "(", "]": "[", "}": "{"}
#: a whole value (or its start) that is a variable, a printf slot, a colour, a YAML tag, an ARN,
#: a bracketed slot (``[Shared Access Key goes here]``), a CSS selector (``#add-password``)
_PLACEHOLDER_WHOLE = re.compile(
    r"(?:\$\w+|%\w+%|%[sdrif](?:\\.*)?|#[0-9a-f]{3,8}|ask|prompt|\[[^\]]*\]|<[^>]*>"
    r"|[#.][a-z][\w-]*)$|[{!]|arn:|\$[a-z_{]|[.+][ \t]*[$a-z_]",
    _A,
)
#: shapes that only need a look when their first character occurs: %(name)s, {name}, <your-key>,
#: a regex class; and placeholder phrases
_PLACEHOLDER_SHAPES = re.compile(
    r"%\(\w+\)s|\{[^{}\s]*\}|<[\w .\-/|]*>|\[[^\]]*\][+*?{]|\\[dwsb]", _A
)
_PLACEHOLDER_PHRASES = re.compile(
    r"change[_\- ]?me|replace[_\- ]?(?:me|with|this)|insert[_\- ]?(?:key|token|here)"
    r"|\bmy[_\- ]?(?:api|secret|token|key|pass)",
    _A,
)
#: values made only of placeholder words and a few digits: test-token, testpassword, secret123
_DUMMY_COMPOUND = re.compile(
    r"(?:(?:test|dummy|fake|mock|secret|password|passwd|pass|pwd|token|key|api|example|sample"
    r"|changeme|placeholder|foo|bar|baz|my|your|value|string|demo|default)[_\-.]?)+\d{0,3}",
    re.I | _A,
)
_PATHLIKE = re.compile(r"^(?:~|\.{1,2})?/[\w.\-/]*$|^[A-Za-z]:\\", _A)


def _nests(value: str) -> bool:
    """Brackets open and close in order: true of templates and code, rarely of a password."""
    stack: list[str] = []
    for c in value:
        if c in "([{":
            stack.append(c)
        elif c in ")]}" and (not stack or stack.pop() != _OPENERS[c]):
            return False
    return not stack


def is_placeholder(value: str) -> bool:
    """A reference, template, mask or example rather than a value (checked cheapest first)."""
    low = value.lower()
    for part in _PLACEHOLDER_PARTS:
        if part in low:
            return True
    if _PLACEHOLDER_WHOLE.match(low) or low.endswith(("_here", "-here", " here", "here>")):
        return True
    if value.endswith("Here") or value.endswith("HERE"):
        return True  # TokenGoesHere, RANDOMSTRINGHERE
    bracketed = any(c in low for c in "{([<")
    if bracketed and not _nests(low):
        return False  # symbols of a password, not a template or a slot
    if ("$" in low or "{" in low or "<%" in low) and _TEMPLATE.search(low):
        return True
    if any(c in low for c in "%{<[\\") and _PLACEHOLDER_SHAPES.search(low):
        return True
    return any(w in low for w in ("change", "replace", "insert", "my")) and bool(
        _PLACEHOLDER_PHRASES.search(low)
    )


_PLAIN_WORD = re.compile(r"[A-Za-z0-9'’,;\-]+")


def passphrase(value: str) -> bool:
    """A quoted value of a few plain words that is a passphrase ("my mail pass", "open sesame",
    "value with quotes and spaces"), not a UI string or a message (see ``UI_WORDS``): 2 to 8
    words, no sentence punctuation at its end, no word of a label."""
    words = value.split()
    if not 2 <= len(words) <= 8 or len(value) > 64 or value.rstrip()[-1:] in ".:?!…":
        return False
    if not all(_PLAIN_WORD.fullmatch(w) for w in words):
        return False  # " --username=%s --password=%s": options and slots, not words
    return not any(w.lower().strip(",;'\"()") in UI_WORDS for w in words) and not any(
        w[:1].isupper() for w in words[1:]
    )


def _is_prose(value: str) -> bool:
    """Words and nothing else ("Mot de passe", "Forgot password?"): a UI string, not a secret."""
    words = value.rstrip(".!?:").split()
    return len(words) > 1 and all(w.replace("'", "").rstrip(",").isalpha() for w in words)


def low_diversity(value: str) -> bool:
    """One character makes up half of a value of 8 or more (``AIzaaaaaaaa...``, ``glc_1111...``):
    a mask, not a generated secret."""
    n = len(value)
    if n < 8 or len(set(value.lower())) * 2 > n + 2:
        return False  # so many distinct characters that none can fill half
    return max(Counter(value.lower()).values()) * 2 >= n


#: a character repeated four times or more (``5555555dAAAAA7777777``): typed by a person
_REPEATS = re.compile(r"(.)\1{3,}")


_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_ALPHABET_RUN = re.compile("|".join(_ALPHABET[i : i + 12] for i in range(len(_ALPHABET) - 11)))


def alphabet_run(value: str) -> bool:
    """Twelve letters of the alphabet in a row (``abcdefghijklmnop``): typed as an example, never
    drawn at random."""
    return len(value) >= 12 and _ALPHABET_RUN.search(value.lower()) is not None


def masked(body: str) -> bool:
    """A provider-prefixed value that is clearly a mask or an example, not a key: few distinct
    characters, mostly runs of one character, a mask or placeholder word."""
    low = body.lower()
    return (
        len(set(low)) <= 3
        or low_diversity(low)
        or (len(low) >= 8 and sum(len(m.group()) for m in _REPEATS.finditer(low)) * 2 >= len(low))
        or low.endswith("here")
        or alphabet_run(low)
        or "xxxx" in low
        or "***" in low
        or "example" in low
        or "your" in low
        or "placeholder" in low
        or "<" in body
        or "{" in body
    )


def plausible(value: str, phrases: bool = False, names: bool = True) -> bool:
    """A literal that could be a credential: not empty, a placeholder, a path or prose (with
    ``phrases``, a quoted passphrase of plain words is not prose; without ``names``, where the
    form cannot hold a variable, a value built of key words is still a value)."""
    v = value.strip()
    if len(v) < 4 or not any(c.isalnum() for c in v):
        return False  # ",.:-@*?!": punctuation, not a password
    if " " in v and ("(" in v or " + " in v):
        return False  # an expression: "(char *) (p + 1)", "+ new Buffer("
    inner = v.strip("'\"` ")
    if inner != v and _PLACEHOLDER_WHOLE.match(inner.lower()):
        return False  # "'$PRECOMPILE_PASSWORD'": a quoted reference
    low = v.lower()
    if low in DUMMIES or len(set(low)) <= 2 or _DUMMY_COMPOUND.fullmatch(v) or low_diversity(v):
        return False
    if len(v) >= 12 and alphabet_run(v):
        return False
    if (
        is_placeholder(v)
        or _PATHLIKE.match(v)
        or (_is_prose(v) and not (phrases and passphrase(v)))
    ):
        return False
    if low.startswith(("http://", "https://", "[redacted")):
        return False
    if names and _is_name(v):
        return False  # a label or a variable named after the key

    return not (v.isdigit() and v in "01234567890123456789")


_NAME = re.compile(r"[A-Za-z_$][\w$]*|[A-Za-z]+(?:-[A-Za-z]+)+", _A)
_NAME_WORDS = ("password", "passwd", "passphrase", "secret", "token", "credential", "apikey")


def _is_name(value: str) -> bool:
    """A name built from key words ("FORCE_CHANGE_PASSWORD", "tokenValue", "no-password-required",
    "PKCS7PrivateKeyTypes") is a label or a variable, not a value. Judged by whole words, so a
    random token that happens to contain "Key" or "pw" still counts as a value."""
    low = value.lower()
    if not any(w in low for w in ("key", "pass", "pwd", "secret", "token", "credential")):
        return False
    if not _NAME.fullmatch(value):
        return False
    words = [p.lower() for p in PARTS.findall(value) if p.isalpha()]
    if len(words) == 1 and value.islower() and words[0] not in _NAME_WORDS:
        return False  # "thisismypassword": one lower-case word is a weak password, not a name
    if not any(w in ("key", "pass", "pwd") or any(n in w for n in _NAME_WORDS) for w in words):
        return False
    if not any(c.isdigit() for c in value):
        return True
    return all(len(w) >= 3 for w in words)  # names are words; random strings are fragments


def token_like(value: str) -> bool:
    """Generated secrets (API keys, tokens) mix letters and digits, or are long and mixed-case;
    "keyword", "bold" or "__root__" after a ``token``/``key`` name are not credentials."""
    if " " in value:
        return False  # "RFC 2518"
    if len(value) < 8:
        return False  # "base64", "v2": a name or a version, not a credential
    if random_looking(value) or (len(value) >= 24 and value.isdigit()):
        return True  # (ids and timestamps have 20 digits at most)
    if len(value) >= 12 and _random_case(value):
        return True
    return len(value) >= 20 and any(c.isupper() for c in value) and any(c.islower() for c in value)


def _random_case(value: str) -> bool:
    """Letters whose case flips at random (``sucJPXdmCMmNeX``), not the few humps of a
    camelCase name (``tokenValueHolder``): four flips or more and no lower-case word of five."""
    if not value.isalpha():
        return False
    flips = sum(a.isupper() != b.isupper() for a, b in pairwise(value))
    longest = max(len(run) for run in _LOWER_RUNS.findall(value) or [""])
    return flips >= 6 and longest < 5


_LOWER_RUNS = re.compile(r"[a-z]+")


def random_looking(value: str) -> bool:
    """Letters and digits mixed, as generated tokens are (used where the context is weak)."""
    has_digit = any(c.isdigit() for c in value)
    has_alpha = any(c.isalpha() for c in value)
    return has_digit and has_alpha and not masked(value)


_TOKEN_BODY = re.compile(r"[\w\-.~+/=]+", _A)


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    n = len(value)
    return -sum((k / n) * math.log2(k / n) for k in Counter(value).values()) if n else 0.0


def strong_token(value: str) -> bool:
    """Plainly machine-made: 16+ characters, letters and digits, 3+ bits of entropy a character,
    no space. Asked of values whose name is weak evidence (``HEROKU_KEY``, ``alibabaKey``)."""
    return (
        len(value) >= 16
        and _TOKEN_BODY.fullmatch(value) is not None
        and random_looking(value)
        and not low_diversity(value)
        and entropy(value) >= 3.0
    )
