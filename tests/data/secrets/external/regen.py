"""A random string that a regular expression matches, as gitleaks' ``secrets.NewSecret`` (reggen)
makes its generated samples: walk the parsed pattern and pick at random, seeded, so the corpus is
the same on every machine. Covers what the scanners' sample patterns use (classes, ranges,
repeats, groups, alternation, a few escapes); anything else raises ValueError."""

from __future__ import annotations

import random
import re
import string
from typing import Any

try:  # the parser moved in 3.11; it is the same module
    from re import _parser as sre_parse  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover
    import sre_parse  # type: ignore[no-redef]

_CATEGORIES = {
    "CATEGORY_DIGIT": string.digits,
    "CATEGORY_WORD": string.ascii_letters + string.digits + "_",
    "CATEGORY_SPACE": " ",
}
_MAX_UNBOUNDED = 10


def generate(pattern: str, rng: random.Random) -> str:
    """One string matching ``pattern``; checked with ``re.fullmatch`` before it is returned."""
    flags = re.IGNORECASE if pattern.startswith("(?i)") else 0
    tree = sre_parse.parse(pattern)
    out = "".join(_walk(list(tree), rng))
    if not re.fullmatch(pattern, out, flags):
        raise ValueError(f"generated {out!r} does not match {pattern!r}")
    return out


def _class_chars(items: list[tuple[Any, Any]]) -> str:
    chars: list[str] = []
    negate = False
    for op, arg in items:
        name = str(op)
        if name == "NEGATE":
            negate = True
        elif name == "LITERAL":
            chars.append(chr(arg))
        elif name == "RANGE":
            chars.extend(chr(c) for c in range(arg[0], arg[1] + 1))
        elif name == "CATEGORY":
            chars.extend(_CATEGORIES.get(str(arg), ""))
        else:
            raise ValueError(f"unsupported class item {name}")
    if negate:
        banned = set(chars)
        chars = [c for c in string.ascii_letters + string.digits if c not in banned]
    if not chars:
        raise ValueError("empty class")
    return "".join(sorted(set(chars)))


def _walk(items: list[tuple[Any, Any]], rng: random.Random) -> list[str]:
    out: list[str] = []
    for op, arg in items:
        name = str(op)
        if name == "LITERAL":
            out.append(chr(arg))
        elif name == "NOT_LITERAL":
            out.append(rng.choice([c for c in string.ascii_letters if ord(c) != arg]))
        elif name == "ANY":
            out.append(rng.choice(string.ascii_letters + string.digits))
        elif name == "IN":
            out.append(rng.choice(_class_chars(list(arg))))
        elif name in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            low, high, sub = arg
            high = min(high, low + _MAX_UNBOUNDED) if high == sre_parse.MAXREPEAT else high
            for _ in range(rng.randint(low, high)):
                out.extend(_walk(list(sub), rng))
        elif name == "SUBPATTERN":
            out.extend(_walk(list(arg[-1]), rng))
        elif name == "BRANCH":
            out.extend(_walk(list(rng.choice(arg[1])), rng))
        elif name in ("AT", "ASSERT", "ASSERT_NOT"):
            continue
        elif name == "CATEGORY":
            out.append(rng.choice(_CATEGORIES.get(str(arg), "x")))
        else:
            raise ValueError(f"unsupported pattern item {name}")
    return out
