"""What a parsed diff is: its files (``FileChange``), the whole (``ParsedDiff``), and their lines.

``forge_cli.git.diff`` makes these from git's text; the renderer and the offline commit rule read
them. Two dataclasses and nothing else at import: the git hook loads this module on every commit.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Literal

from forge_cli.git.noise import NoiseReason

__all__ = ["FileChange", "ParsedDiff", "Status", "changed_lines", "hunk_lines"]

Status = Literal["added", "deleted", "modified", "renamed", "copied"]


@dataclass(slots=True)
class FileChange:
    """One file's part of a diff; ``text`` is kept verbatim so a model sees git's own format."""

    path: str
    old_path: str | None = None
    status: Status = "modified"
    additions: int = 0
    deletions: int = 0
    binary: bool = False
    old_mode: str | None = None
    new_mode: str | None = None
    similarity: int | None = None
    noise: NoiseReason | None = None
    text: str = ""

    @property
    def mode_changed(self) -> bool:
        return (
            self.old_mode is not None
            and self.new_mode is not None
            and self.old_mode != self.new_mode
        )

    @property
    def has_hunks(self) -> bool:
        return "\n@@" in self.text


@dataclass(slots=True)
class ParsedDiff:
    files: list[FileChange] = field(default_factory=list)

    @property
    def additions(self) -> int:
        return sum(f.additions for f in self.files)

    @property
    def deletions(self) -> int:
        return sum(f.deletions for f in self.files)


def hunk_lines(change: FileChange) -> Iterator[tuple[str, str]]:
    """Each line of a file's hunks as ``(kind, text)``: ``"@"`` for a hunk header (text: what
    follows it, usually the enclosing function), ``" "`` context, ``"+"`` added, ``"-"`` removed.

    Re-reading ``text`` rather than storing lines keeps ``FileChange`` small for the common case
    (the hook renders or classifies a diff once). Every ``@@`` line at column 0 of a section is a
    hunk header, because content lines always start with their prefix column(s); combined diffs
    (``@@@``, one column per parent) count a line as added or removed against any parent.
    """
    cols = 0
    for line in change.text.split("\n"):
        if line.startswith("@@"):
            cols = len(line) - len(line.lstrip("@")) - 1
            close = line.find("@" * (cols + 1), cols + 2)
            yield "@", line[close + cols + 2 :] if close > 0 else ""
        elif cols and line and line[0] != "\\":
            prefix = line[:cols]
            kind = "-" if "-" in prefix else "+" if "+" in prefix else " "
            yield kind, line[cols:]


def changed_lines(change: FileChange) -> Iterator[tuple[str, str]]:
    """``("+", text)`` and ``("-", text)`` for each added and removed line of a file's hunks."""
    return ((k, t) for k, t in hunk_lines(change) if k == "+" or k == "-")
