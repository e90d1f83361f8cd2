"""The offline commit message: a Conventional Commits report from the diff alone, no model.

Why it exists: ``forge commit-msg`` must give a useful message with no provider configured, inside a
``prepare-commit-msg`` hook that may not take more than a fraction of 400 ms, and when a provider
fails. So this is a real, deterministic rule rather than a placeholder: the same diff always gives
the same message, and the message says what a reviewer would check first (which files, which new or
removed names, renames, mode changes, what was left out).

Why the type is decided this way: paths decide first (``forge_cli.tasks.commits.files``); then the
shape of the change (only renames is a refactor, only whitespace is style, only mode bits is a
chore); then the source code itself, which outranks docs and tests in a mixed change because it is
what the change is about: new files or new definitions are a feature, a small edit whose changed
lines talk about errors, None or a crash is a fix, pure removal is a refactor. Merge and revert
subjects (the commit's own subject, passed by the caller) win over all. What counts as breaking is
in ``forge_cli.tasks.commits.analysis``; the message format, in ``forge_cli.tasks.commits.message``.

Speed, measured on CPython 3.11.7 in the 2-vCPU dev container: for a typical 214-line, 6-file
diff (a new module with two classes, edits, a test, a README, a lock file), ``offline_report``
takes 0.45 ms and parse + render + ``offline_report`` + ``format_message`` 1.0 ms (timeit, best of
7); the ~0.7 MB diff of a 200-commit range, 0.12 s. ``python -X importtime`` (best of 15): 1.1 ms
self for the rule's five modules (this one, ``analysis``, ``files``, ``languages``, ``message``) with
bytecode cached, as the private records are slotted classes, not dataclasses, and the definition
regexes compile per language on first use; 11 ms where Python may not write bytecode
(``PYTHONDONTWRITEBYTECODE=1``, as in the dev container), which is the cost of compiling the source.
A whole ``python -c`` process giving the offline message for that diff: 57 ms, of which Python's own
start-up is 43 ms.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from forge_cli.git.changes import FileChange, ParsedDiff
from forge_cli.tasks.commits.analysis import Analysis, FileFacts, analyse, new_public
from forge_cli.tasks.commits.files import (
    GENERIC_DIRS,
    KIND_ORDER,
    KIND_TYPE,
    basename,
    common_dir,
    file_kind,
    scope_for,
    short_name,
    tested_name,
)
from forge_cli.tasks.commits.message import MAX_CHANGES, clean_scope, lower_first_word, make_title

__all__ = ["offline_report"]

SMALL_CHANGE = 80  # changed source lines: above this an edit is more than a fix

# fmt: off
FIX_WORDS = frozenset({
    "fix", "fixes", "fixed", "bug", "bugs", "buggy", "error", "errors", "crash", "crashes",
    "crashed", "null", "none", "nil", "undefined", "typo", "typos", "exception", "exceptions",
    "fail", "fails", "failed", "failure", "wrong", "incorrect", "broken", "invalid",
    "overflow", "leak", "regression", "mistake"
})
PERF_WORDS = frozenset({
    "perf", "performance", "optimize", "optimise", "optimized", "optimised", "optimization",
    "faster", "speedup"
})
# fmt: on


def _words(lines: Iterable[str]) -> set[str]:
    found: set[str] = set()
    for line in lines:
        found.update(w.lower() for w in re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])", line))
    return found


def _normalized(lines: Iterable[str]) -> str:
    """Code with layout taken out: whitespace, quote style and trailing commas."""
    text = re.sub(r"\s+", "", "".join(lines)).replace("'", '"')
    return re.sub(r",([)\]}])", r"\1", text)


def _join(names: list[str], limit: int = 3, total: int | None = None) -> str:
    """'a', 'a and b', 'a, b and c', 'a, b and 4 more'."""
    total = len(names) if total is None else total
    if total > limit:
        return f"{', '.join(names[: limit - 1])} and {total - limit + 1} more"
    if len(names) == 1:
        return names[0]
    return f"{', '.join(names[:-1])} and {names[-1]}"


def _listing(names: list[str], limit: int = 4) -> str:
    """'a, b, c' or 'a, b, c, d and 3 more': compact, for the change bullets."""
    if len(names) > limit:
        return f"{', '.join(names[: limit - 1])} and {len(names) - limit + 1} more"
    return ", ".join(names)


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _files_phrase(files: list[FileFacts], verb: str, scope_dir: str | None, by_name: bool) -> str:
    names = _unique(
        basename(f.change.path) if by_name else short_name(f.change.path) for f in files
    )
    if len(names) <= 3:
        return f"{verb} {_join(names)}"
    where = f" in {scope_dir}" if scope_dir else ""
    return f"{verb} {len(files)} files{where}"


def _mode_phrase(files: list[FileFacts]) -> str:
    names = _unique(basename(f.change.path) for f in files)
    modes = {(f.change.old_mode, f.change.new_mode) for f in files}
    what = _join(names) if len(names) <= 3 else f"{len(names)} files"
    if modes == {("100644", "100755")}:
        return f"make {what} executable"
    if modes == {("100755", "100644")}:
        return f"make {what} non-executable"
    return f"change mode of {what}"


def _rename_phrase(files: list[FileFacts]) -> str:
    verb = "copy" if all(f.change.status == "copied" for f in files) else "rename"
    if len(files) == 1:
        old, new = files[0].change.old_path or "", files[0].change.path
        old_dir, new_dir = old.rpartition("/")[0], new.rpartition("/")[0]
        if old_dir == new_dir:
            return f"{verb} {basename(old)} to {basename(new)}"
        if basename(old) == basename(new):
            return f"move {basename(old)} to {new_dir + '/' if new_dir else 'the top level'}"
        return f"{verb} {basename(old)} to {basename(new)}"
    targets = {f.change.path.rpartition("/")[0] for f in files}
    olds = {(f.change.old_path or "").rpartition("/")[0] for f in files}
    if len(targets) == 1 and targets != olds:
        target = next(iter(targets))
        return f"move {len(files)} files to {target + '/' if target else 'the top level'}"
    return f"{verb} {len(files)} files"


def _focus_dir(files: list[FileFacts]) -> str | None:
    common = [s for s in common_dir([f.change.path for f in files]) if s not in GENERIC_DIRS]
    return common[-1] if common else None


def _source_type(focus: list[FileFacts], a: Analysis) -> tuple[str, str]:
    """Type and subject when source code decides."""
    removed_names = {d.name for fa in a.files for d in fa.removed}
    new_defs = new_public(focus, removed_names)
    new_files = [f for f in focus if f.change.status == "added" and f.content_changed]
    where = _focus_dir(focus)
    plus = [line for f in focus for line in f.plus]
    minus = [line for f in focus for line in f.minus]
    changed = len(plus) + len(minus)
    words = _words(plus) | _words(minus)
    if new_defs and (len(new_defs) <= 3 or not new_files):
        return "feat", "add " + _join([d.label for d in new_defs])
    if new_files:  # many new names in new files: the files say it shorter
        if len(new_files) > 3:
            stems = _unique(short_name(f.change.path) for f in new_files)
            return "feat", f"add {', '.join(stems[:2])} and {len(new_files) - 2} more files"
        return "feat", _files_phrase(new_files, "add", where, by_name=True)
    if minus and not plus:
        deleted = [f for f in focus if f.change.status == "deleted"]
        if deleted and len(deleted) == len([f for f in focus if f.content_changed]):
            return "refactor", _files_phrase(deleted, "delete", where, by_name=True)
        gone = _unique(d.label for f in focus for d in f.removed)
        if gone:
            return "refactor", "remove " + _join(gone)
        return "refactor", _files_phrase(focus, "remove code from", where, by_name=False)
    small = changed <= SMALL_CHANGE
    touched = _unique(n for f in focus for n in f.touched)
    if small and words & FIX_WORDS:
        if len(touched) == 1 and len(focus) == 1:
            return "fix", f"fix {touched[0]} in {short_name(focus[0].change.path)}"
        return "fix", _files_phrase(focus, "fix", where, by_name=False)
    if small and (words & PERF_WORDS or any("lru_cache" in line for line in plus)):
        return "perf", _files_phrase(focus, "speed up", where, by_name=False)
    helpers = any(d.name not in removed_names for f in focus for d in f.added)
    if (helpers and len(plus) > len(minus)) or (len(plus) >= 20 and len(plus) >= 2 * len(minus)):
        return "feat", _files_phrase(focus, "update", where, by_name=False)
    return "refactor", _files_phrase(focus, "update", where, by_name=False)


def _plain_subject(focus: list[FileFacts], type_: str) -> str:
    """Subject for docs, tests, build, CI and chore changes: what happened to which files."""
    where = _focus_dir(focus)
    statuses = {f.change.status for f in focus}
    by_name = type_ != "test"
    if type_ == "test":
        names = _unique(tested_name(f.change.path) for f in focus)
        verb = "add" if statuses == {"added"} else "update"
        if len(names) <= 2:
            return f"{verb} tests for {_join(names)}"
        return f"{verb} {len(focus)} test files" + (f" in {where}" if where else "")
    if statuses == {"added"}:
        return _files_phrase(focus, "add", where, by_name)
    if statuses == {"deleted"}:
        return _files_phrase(focus, "delete", where, by_name)
    return _files_phrase(focus, "update", where, by_name)


def _shape(focus: list[FileFacts]) -> tuple[str, str] | None:
    """Changes with no content: only renames, only mode bits, only empty new files."""
    if any(f.content_changed for f in focus):
        return None
    if all(f.change.status in ("renamed", "copied") for f in focus):
        return "refactor", _rename_phrase(focus)
    if all(f.change.mode_changed and f.change.status == "modified" for f in focus):
        return "chore", _mode_phrase(focus)
    if all(f.change.status == "added" for f in focus):
        names = _unique(basename(f.change.path) for f in focus)
        what = _join(names) if len(names) <= 3 else f"{len(names)} files"
        return "chore", f"add empty {what}"
    if all(f.change.status == "deleted" for f in focus):
        return "chore", _files_phrase(focus, "delete", _focus_dir(focus), by_name=True)
    return None


def _style_only(files: list[FileFacts]) -> bool:
    code = [f for f in files if f.kind in ("source", "chore", "build")]
    if not code or len(code) != len(files):
        return False
    for f in code:
        if f.change.status not in ("modified", "renamed") or not f.content_changed:
            return False
        if _normalized(f.plus) != _normalized(f.minus):
            return False
    return True


def _decide(a: Analysis) -> tuple[str, str, list[FileFacts]]:
    """(type, subject, the files that decided it)."""
    files = a.files
    kinds = {f.kind for f in files}
    shape = _shape(files)
    if shape is not None:
        return shape[0], shape[1], files
    if len(kinds) == 1 and "source" not in kinds and "chore" not in kinds:
        kind = next(iter(kinds))
        return KIND_TYPE[kind], _plain_subject(files, KIND_TYPE[kind]), files
    if _style_only(files):
        return "style", _files_phrase(files, "format", _focus_dir(files), by_name=False), files
    # a file whose content did not change (a rename, a mode bit) does not make a kind dominant
    weights = {
        k: sum(f.weight for f in files if f.kind == k and f.content_changed) for k in KIND_ORDER
    }
    if weights["source"]:
        weights["docs"] = weights["test"] = 0  # the code is what the change is about
    winner = max(KIND_ORDER, key=lambda k: (weights[k], -KIND_ORDER.index(k)))
    focus = [f for f in files if f.kind == winner]
    if winner == "source":
        content = [f for f in focus if f.content_changed] or focus
        type_, subject = _source_type(content, a)
        return type_, subject, content
    type_ = KIND_TYPE[winner]
    return type_, _plain_subject(focus, type_), focus


def _noise_only(noise: list[FileChange]) -> tuple[str, str]:
    reasons = {f.noise for f in noise}
    names = _unique(basename(f.path) for f in noise)
    what = _join(names) if len(names) <= 3 else f"{len(names)} files"
    if reasons <= {"lock file", "vendored"}:
        if reasons == {"lock file"}:
            return "build", f"update {what}"
        return "build", f"update vendored {what}" if len(names) <= 3 else "update vendored code"
    kinds = {file_kind(f.path) for f in noise}
    type_ = KIND_TYPE.get(next(iter(kinds)), "chore") if len(kinds) == 1 else "chore"
    statuses = {f.status for f in noise}
    verb = "add" if statuses == {"added"} else "delete" if statuses == {"deleted"} else "update"
    return type_, f"{verb} {what}"


def _bullets(a: Analysis) -> list[str]:
    """One line per notable change, code first, noise last; at most MAX_CHANGES."""
    ranked: list[tuple[int, int, str]] = []
    changed_by_file = {id(fa): [d for f2, d in a.changed_signature if f2 is fa] for fa in a.files}
    for order, fa in enumerate(a.files):
        c = fa.change
        rank = KIND_ORDER.index(fa.kind) * 4
        removed_here = {d.name for d in fa.removed}
        new = _unique(d.label for d in new_public([fa], removed_here))
        gone = _unique(d.label for d in fa.removed if d.name not in {x.name for x in fa.added})
        counts = f" (+{c.additions} -{c.deletions})" if c.additions or c.deletions else ""
        if c.status == "added":
            if not fa.content_changed and not c.binary:
                text = f"add empty {c.path}"
            elif new:
                text = f"add {c.path} with {_listing(new)}"
            else:
                text = f"add {c.path}{counts}"
        elif c.status == "deleted":
            text = f"delete {c.path}"
            if gone and any(d.public for d in fa.removed):
                text += f" ({_listing(gone)})"
        elif c.status in ("renamed", "copied"):
            verb = "rename" if c.status == "renamed" else "copy"
            text = f"{verb} {c.old_path} to {c.path}{counts}"
        elif fa.content_changed:
            details: list[str] = []
            if new:
                details.append("add " + _listing(new))
            if gone:
                details.append("remove " + _listing(gone))
            sig = _unique(d.label for d in changed_by_file[id(fa)])
            if sig:
                details.append("change the signature of " + _listing(sig))
            text = f"update {c.path}" + (": " + "; ".join(details) if details else counts)
        else:
            text = ""
        if text:
            # new, removed and renamed things and new names before plain edits
            plain = c.status == "modified" and not (new or gone)
            ranked.append((rank + (2 if plain else 0), order, text))
        if c.mode_changed:
            ranked.append((rank + 3, order, f"mode {c.new_mode} on {c.path}"))
    if a.noise:
        by_reason: dict[str, list[str]] = {}
        for f in a.noise:
            by_reason.setdefault(f.noise or "", []).append(f.path)
        parts = []
        for reason, paths in by_reason.items():
            if len(paths) <= 3:
                parts.append(", ".join(f"{p} ({reason})" for p in paths))
            else:
                parts.append(f"{len(paths)} files ({reason}): {_join(paths[:2], 3, len(paths))}")
        ranked.append((99, 0, "left out: " + "; ".join(parts)))
    ranked.sort(key=lambda r: (r[0], r[1]))
    lines = [text for _, _, text in ranked]
    if len(lines) > MAX_CHANGES:
        more = len(lines) - MAX_CHANGES + 1
        lines = [*lines[: MAX_CHANGES - 1], f"and {more} more changes"]
    return lines


def _summary(subject: str, diff: ParsedDiff, left_out: int) -> str:
    n = len(diff.files)
    what = f"{n} file{'s' if n != 1 else ''}, +{diff.additions} -{diff.deletions}"
    if left_out:
        what += f", {left_out} left out of review"
    return f"{subject[:1].upper()}{subject[1:]} ({what})."


def offline_report(diff: ParsedDiff, *, merge_subject: str | None = None) -> dict[str, Any]:
    """The commit report for a diff, deterministically, from the diff (and merge subject) alone.

    ``merge_subject`` is the commit's own subject where the caller has one (a merge commit, or a
    revert): a merge is a chore named after what it merged, a revert keeps what it reverts.
    """
    subject_hint = " ".join((merge_subject or "").split())
    revert = re.match(r'^Revert\s+"(.+)"$', subject_hint)
    merge = re.match(r"^Merge\b", subject_hint)
    if not diff.files and not (revert or merge):
        return {
            "title": "chore: empty commit",
            "type": "chore",
            "scope": None,
            "breaking": False,
            "summary": "An empty commit: no file changed.",
            "changes": [],
        }
    a = analyse(diff)
    breaking = a.marker or bool(a.removed_public) or bool(a.changed_signature)
    if revert or merge:
        breaking = a.marker  # what a merge or revert removes is not a new break by itself
    scope: str | None
    if revert:
        type_, scope, subject = "revert", None, revert.group(1)
    elif merge:
        type_, scope, subject = "chore", None, subject_hint
    elif not a.files:
        type_, subject = _noise_only(a.noise)
        deps = all(f.noise in ("lock file", "vendored") for f in a.noise)
        scope = "deps" if deps else scope_for([f.path for f in a.noise], type_)
    else:
        type_, subject, focus = _decide(a)
        paths = [f.change.path for f in focus]
        paths += [f.change.old_path for f in focus if f.change.old_path]  # a move spans both
        scope = scope_for(paths, type_)
    subject = lower_first_word(subject)
    scope = clean_scope(scope) if scope else None
    title = make_title(type_, scope, subject, breaking)
    if scope and f"({scope})" not in title:
        scope = None  # make_title dropped it to leave the subject room
    return {
        "title": title,
        "type": type_,
        "scope": scope,
        "breaking": breaking,
        "summary": _summary(subject, diff, len(a.noise)),
        "changes": _bullets(a),
    }
