"""The Conventional Commits message: its types, its title and its body, whoever wrote the report.

Both the offline rule and a model's answers go through here, so every message forge prints has the
same shape: ``type(scope)!: subject`` within 72 characters, then up to eight bullets wrapped at 72
columns. It cleans what a model may send (a capitalised first word, a trailing period, a scope with
spaces or capitals) rather than rejecting it. Standard library only: the git hook imports it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = [
    "COMMIT_TYPES",
    "MAX_CHANGES",
    "TITLE_MAX",
    "clean_scope",
    "format_message",
    "lower_first_word",
    "make_title",
]

COMMIT_TYPES = (
    "feat",
    "fix",
    "docs",
    "style",
    "refactor",
    "perf",
    "test",
    "build",
    "ci",
    "chore",
    "revert",
)
TITLE_MAX = 72
SCOPE_MAX = 20
MAX_CHANGES = 8
BODY_WIDTH = 72


def clean_scope(raw: str) -> str | None:
    """A scope a title can carry: lowercase, no spaces, cut at a separator; None if nothing is left."""
    scope = re.sub(r"[^a-z0-9_.\-/]+", "-", raw.strip().lower()).strip("-./")
    if len(scope) > SCOPE_MAX:
        cut = max(scope.rfind(c, 0, SCOPE_MAX + 1) for c in "-_./")
        scope = scope[:cut].strip("-./") if cut > 3 else ""
    return scope or None


def lower_first_word(subject: str) -> str:
    """'Add parser' -> 'add parser'; names such as 'README' or 'CircuitBreaker' keep their case."""
    first, sep, rest = subject.partition(" ")
    if first[:1].isupper() and (len(first) == 1 or first[1:].islower()):
        first = first.lower()
    return first + sep + rest


TAIL_WORDS = frozenset({"and", "or", "to", "of", "in", "for", "with", "the", "a", "from"})


def _trim_tail(text: str) -> str:
    """Drop what a cut leaves dangling at the end: punctuation and words like 'and' or 'to'."""
    while True:
        stripped = text.rstrip(" ,;:(-")
        head, _, last = stripped.rpartition(" ")
        if head and last.lower() in TAIL_WORDS:
            text = head
        elif stripped == text:
            return text
        else:
            text = stripped


def make_title(type_: str, scope: str | None, subject: str, breaking: bool) -> str:
    """``type(scope)!: subject`` within TITLE_MAX characters, cut at a word boundary.

    Used for the model's answers too, so it cleans what a model may send: a capitalised first
    word, a trailing period, stray whitespace, a scope with spaces or capitals.
    """
    type_ = type_.strip().lower() or "chore"
    cleaned = clean_scope(scope) if scope else None
    prefix = f"{type_}({cleaned})" if cleaned else type_
    prefix += "!: " if breaking else ": "
    text = " ".join(subject.split()).rstrip(".").strip() or "update"
    text = lower_first_word(text)
    room = TITLE_MAX - len(prefix)
    if room < 12 and cleaned:
        return make_title(type_, None, subject, breaking)
    if len(text) > room:
        cut = text.rfind(" ", 0, room + 1)
        text = text[:cut] if cut > room // 3 else text[:room]
        text = _trim_tail(text) or text
    return prefix + text


def _wrap(text: str, width: int, first: str, rest: str) -> list[str]:
    """Greedy word wrap that never breaks a word (paths and names stay whole)."""
    out: list[str] = []
    line = first
    empty = True
    for word in text.split():
        if not empty and len(line) + 1 + len(word) > width:
            out.append(line)
            line, empty = rest, True
        line += word if empty else " " + word
        empty = False
    out.append(line)
    return out


def format_message(report: Mapping[str, Any]) -> str:
    """The commit message: title, blank line, up to MAX_CHANGES bullets wrapped at 72 columns."""
    title = " ".join(str(report.get("title") or "chore: update").split())
    changes = report.get("changes") or []
    if isinstance(changes, str):
        changes = [changes]
    bullets = [" ".join(str(c).split()) for c in changes]
    bullets = [b[2:] if b.startswith("- ") else b for b in bullets if b]
    if len(bullets) > MAX_CHANGES:
        bullets = [
            *bullets[: MAX_CHANGES - 1],
            f"and {len(bullets) - MAX_CHANGES + 1} more changes",
        ]
    lines = [title]
    if bullets:
        lines.append("")
        for bullet in bullets:
            lines += _wrap(bullet, BODY_WIDTH, "- ", "  ")
    return "\n".join(lines) + "\n"
