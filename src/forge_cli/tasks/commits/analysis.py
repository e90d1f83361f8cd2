"""What a diff says before any wording: per-file facts, and what would break callers.

Breaking is only what can be seen: a public definition (no leading underscore, ``export``, ``pub``,
``public``, capitalised in Go) removed without being added back anywhere in the diff, a parameter
list that dropped, reordered or newly requires a parameter, or a ``BREAKING CHANGE`` line added as
text (a comment or a changelog entry, not code that merely contains the words). These records are
plain slotted classes, not dataclasses: each dataclass costs about 0.5 ms to build at import, and
the git hook imports this module.
"""

from __future__ import annotations

import re

from forge_cli.git.changes import FileChange, ParsedDiff, hunk_lines
from forge_cli.tasks.commits.files import file_kind, private_path
from forge_cli.tasks.commits.languages import (
    Definition,
    find_definition,
    language_of,
    param_list,
    signature_broken,
)

__all__ = ["Analysis", "FileFacts", "analyse", "new_public"]

# one character class, no nested repetition: a line of 3,000 dashes must not backtrack for ever
BREAKING_LINE = r"[#/*\->;!\s]*BREAKING[ -]CHANGES?\b"  # compiled on first use


class FileFacts:
    """What the rules need from one file, computed in one pass over its hunks."""

    __slots__ = ("added", "change", "kind", "lang", "minus", "plus", "removed", "touched")

    def __init__(self, change: FileChange, kind: str, lang: str | None) -> None:
        self.change = change
        self.kind = kind
        self.lang = lang
        self.added: list[Definition] = []
        self.removed: list[Definition] = []
        self.plus: list[str] = []
        self.minus: list[str] = []
        self.touched: list[str] = []  # functions whose bodies changed

    @property
    def weight(self) -> int:
        return max(1, self.change.additions + self.change.deletions)

    @property
    def content_changed(self) -> bool:
        return bool(self.change.additions or self.change.deletions)


def file_facts(change: FileChange) -> FileFacts:
    """One pass over a file's hunks: definitions added and removed, changed lines, functions touched."""
    lang = language_of(change.path)
    facts = FileFacts(change, file_kind(change.path), lang)
    if change.binary or not change.has_hunks:
        return facts
    current: str | None = None
    # a definition whose parameter list runs over more lines, per side ("+" or "-")
    pending: dict[str, tuple[Definition, list[str]]] = {}
    for kind, text in hunk_lines(change):
        if kind == "@":
            found = find_definition(lang, text.strip()) if lang else None
            current = found.label if found else None
            pending.clear()
            continue
        for side in list(pending):
            if kind == side or kind == " ":
                definition, buf = pending[side]
                buf.append(text)
                definition.params = " ".join(buf)
                if param_list(definition.params) is not None or len(buf) >= 12:
                    del pending[side]
        found = find_definition(lang, text) if lang else None
        if found is not None:
            current = found.label
            if kind != " ":
                (facts.added if kind == "+" else facts.removed).append(found)
                if found.params is not None and param_list(found.params) is None:
                    pending[kind] = (found, [found.params])
        if kind == "+":
            facts.plus.append(text)
        elif kind == "-":
            facts.minus.append(text)
        else:
            continue
        if current and (not facts.touched or facts.touched[-1] != current):
            facts.touched.append(current)
    return facts


class Analysis:
    """What the whole diff says: per-file facts, noise, and what would break callers."""

    __slots__ = ("changed_signature", "files", "marker", "noise", "removed_public")

    def __init__(
        self,
        files: list[FileFacts],
        noise: list[FileChange],
        removed_public: list[tuple[FileFacts, Definition]],
        changed_signature: list[tuple[FileFacts, Definition]],
        marker: bool,
    ) -> None:
        self.files = files
        self.noise = noise
        self.removed_public = removed_public
        self.changed_signature = changed_signature
        self.marker = marker


def analyse(diff: ParsedDiff) -> Analysis:
    """Facts for every file that is not noise, and what in them would break a caller."""
    real = [f for f in diff.files if not f.noise]
    facts = [file_facts(f) for f in real]
    added_names = {d.name for fa in facts for d in fa.added}
    removed_public: list[tuple[FileFacts, Definition]] = []
    changed: list[tuple[FileFacts, Definition]] = []
    for fa in facts:
        if fa.kind != "source" or private_path(fa.change.path):
            continue
        new_params = {d.name: d.params for d in fa.added if d.params is not None}
        for d in fa.removed:
            if not d.public:
                continue
            if d.name not in added_names:
                removed_public.append((fa, d))
            elif (
                d.params is not None
                and d.name in new_params
                and signature_broken(d.params, new_params[d.name] or "", fa.lang)
            ):
                changed.append((fa, d))
    marker = any(
        "BREAKING" in line and re.match(BREAKING_LINE, line) for fa in facts for line in fa.plus
    )
    return Analysis(facts, [f for f in diff.files if f.noise], removed_public, changed, marker)


def new_public(files: list[FileFacts], removed_names: set[str]) -> list[Definition]:
    """Public definitions added and not merely edited in place (same name removed)."""
    found: list[Definition] = []
    seen: set[str] = set()
    for fa in files:
        for d in fa.added:
            if d.public and d.name not in removed_names and d.name not in seen:
                seen.add(d.name)
                found.append(d)
    if any(d.top for d in found):
        found = [d for d in found if d.top]  # name what a reader imports, not its methods
    found.sort(key=lambda d: d.kind != "class")  # classes first, stable otherwise
    return found
