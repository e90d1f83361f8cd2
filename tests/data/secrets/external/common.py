"""What the extractors share: a case, a read-only view of one fetched snapshot, and a compiler for
other scanners' regexes (RE2 / Rust syntax) in Python."""

from __future__ import annotations

import io
import re
import subprocess
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

try:  # the third-party ``regex`` module reads \p{..}, POSIX classes and \z; re is the fallback
    import regex as _regex
except ImportError:  # pragma: no cover - then a few foreign patterns are left uncompiled
    _regex = None


@dataclass(frozen=True)
class Case:
    """One test case of a scanner: ``secrets`` empty for a negative (a look-alike)."""

    source: str
    rule: str
    text: str
    secrets: tuple[str, ...]
    origin: str  # the file of the scanner it comes from
    part: str = field(default="", compare=False)

    @property
    def positive(self) -> bool:
        return bool(self.secrets)


class Snapshot:
    """The files of one commit of a fetched repository (a bare git directory), read once through
    ``git archive`` so no work tree is needed."""

    def __init__(self, git_dir: Path, paths: list[str], commit: str = "HEAD") -> None:
        self.git_dir = git_dir
        self.commit = _git(git_dir, "rev-parse", commit).strip()
        data = subprocess.run(
            ["git", "--git-dir", str(git_dir), "archive", "--format=tar", self.commit, *paths],
            capture_output=True,
            check=True,
        ).stdout
        self._files: dict[str, str] = {}
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            for member in tar.getmembers():
                if member.isfile():
                    fh = tar.extractfile(member)
                    assert fh is not None
                    self._files[member.name] = fh.read().decode("utf-8", "replace")

    def read(self, path: str) -> str:
        return self._files[path]

    def files(self, prefix: str, suffix: str) -> list[str]:
        return sorted(p for p in self._files if p.startswith(prefix) and p.endswith(suffix))


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "--git-dir", str(git_dir), *args], capture_output=True, text=True, check=True
    ).stdout


_POSIX = {
    "[:alnum:]": "A-Za-z0-9",
    "[:alpha:]": "A-Za-z",
    "[:digit:]": "0-9",
    "[:upper:]": "A-Z",
    "[:lower:]": "a-z",
    "[:space:]": r"\s",
    "[:xdigit:]": "0-9A-Fa-f",
    "[:word:]": r"\w",
    "[:punct:]": r"!-/:-@\[-`{-~",
}


def compile_foreign(pattern: str) -> Any:
    """A Go (RE2) or Rust regex compiled for Python, or None where it cannot be."""
    fixed = pattern.replace(r"\z", r"\Z")
    if _regex is not None:
        try:
            return _regex.compile(fixed, _regex.VERSION0)
        except _regex.error:
            pass
    for posix, chars in _POSIX.items():
        fixed = fixed.replace(posix, chars)
    flags = 0
    lead = re.match(r"\(\?([imsx]+)\)", fixed)
    if lead:
        flags = sum(getattr(re, c.upper()) for c in lead.group(1))
        fixed = fixed[lead.end() :]
    fixed = re.sub(r"\(\?([imsx]+)\)", r"(?\1:)", fixed)  # a mid-pattern flag group: dropped
    try:
        return re.compile(fixed, flags)
    except re.error:
        return None


def secrets_in(text: str, values: list[str]) -> list[str]:
    """The generated values that occur in ``text``."""
    return [v for v in values if v and v in text]
