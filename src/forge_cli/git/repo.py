"""What forge reads from a repository: its root, the staged diff, a range of commits and their diffs.

Failures are ``UsageError``s with one line a user can act on ("not a git repository", "nothing
staged"), raised before any model is called. The git hook reads the staged diff from here too, so
this module stays on the standard library (and ``forge_cli.core``) at module level.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from forge_cli.core.errors import UsageError
from forge_cli.git.runner import DIFF_ARGS, GitError, run_git

__all__ = [
    "Commit",
    "cached_diff",
    "commit_diff",
    "commits_in_range",
    "read_diff_file",
    "repo_root",
    "staged_diff",
]


@dataclass(slots=True, frozen=True)
class Commit:
    sha: str
    parents: tuple[str, ...]
    subject: str


def repo_root(cwd: Path) -> Path:
    try:
        return Path(run_git(["rev-parse", "--show-toplevel"], cwd).output().strip())
    except GitError:
        raise UsageError(f"not a git repository: {cwd}") from None


def cached_diff(cwd: Path, *, timeout: float | None = None) -> str:
    """``git diff --cached`` in ``cwd`` as it is, empty when nothing is staged.

    What the hook reads: git runs it at the top of the worktree with the index about to be
    committed, so there is no root to look up, and ``timeout`` keeps a stuck git from holding the
    commit (``GitTimeout``).
    """
    return run_git(["diff", "--cached", *DIFF_ARGS], cwd, timeout=timeout).output()


def staged_diff(cwd: Path) -> str:
    """The staged changes of the repository ``cwd`` is in, for ``forge commit-msg``."""
    diff = cached_diff(repo_root(cwd))
    if not diff.strip():
        raise UsageError("nothing staged: stage changes with 'git add', or pass --diff FILE")
    return diff


def read_diff_file(path: str) -> str:
    """A diff from a file, or from standard input for ``-``; bytes that are not UTF-8 are replaced."""
    if path == "-":
        return sys.stdin.buffer.read().decode("utf-8", "replace")
    try:
        return Path(path).read_bytes().decode("utf-8", "replace")
    except OSError as exc:
        raise UsageError(f"cannot read diff {path}: {exc.strerror or exc}") from None


def commits_in_range(spec: str, cwd: Path) -> list[Commit]:
    """The commits of ``git log SPEC``, oldest first; a range with none is a usage error."""
    root = repo_root(cwd)
    out = run_git(["log", "--reverse", "--format=%H%x00%P%x00%s", spec, "--"], root).output()
    commits = []
    for line in out.splitlines():
        sha, parents, subject = [*line.split("\x00"), "", ""][:3]
        if sha:
            commits.append(Commit(sha, tuple(parents.split()), subject))
    if not commits:
        raise UsageError(f"no commits in range {spec}")
    return commits


def commit_diff(commit: Commit, cwd: Path, *, subject_prefix: str) -> str:
    """What the commit changed; merges (against their first parent) and reverts carry their subject.

    Only those two keep the subject, on a first line that starts with ``subject_prefix`` (the task
    reading the text decides that marker): it says what the diff cannot (which branch, what was
    undone), while for other commits the message is to be made from the diff alone.
    """
    if len(commit.parents) > 1:
        diff = run_git(["diff", *DIFF_ARGS, commit.parents[0], commit.sha], cwd).output()
        return f"{subject_prefix}{commit.subject}\n{diff}"
    diff = run_git(["show", "--format=", *DIFF_ARGS, commit.sha], cwd).output()
    if commit.subject.startswith('Revert "'):
        return f"{subject_prefix}{commit.subject}\n{diff}"
    return diff
