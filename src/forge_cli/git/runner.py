"""Running git: the one place forge starts a git process, and the arguments every diff is read with.

The git hook imports this on every ``git commit``, so it needs nothing beyond the standard library and
``forge_cli.core.errors``. Every way git can fail comes back as one ``GitError``, a ``UsageError``
(exit code 2 for ``forge commit-msg``) whose message is one line: the hook prints such a line and
goes on, it never lets an exception out into someone's commit.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from pathlib import Path

from forge_cli.core.errors import UsageError

__all__ = ["DIFF_ARGS", "GitError", "GitResult", "GitTimeout", "run_git"]

#: every diff forge reads is asked for with these, so the hook and ``forge commit-msg`` see (and
#: cache) the same text: renames found, no colour, and no external diff or textconv driver, which
#: could run the user's programs or change what the diff says
DIFF_ARGS = ("-M", "--no-color", "--no-ext-diff", "--no-textconv")


class GitError(UsageError):
    """git could not be started, ran past its time, or failed; the message says which, in one line."""


class GitTimeout(GitError):
    """git did not finish within the timeout it was given."""


class GitResult:
    """What one git command did: its exit code and its output, decoded as UTF-8 (bad bytes replaced).

    Output keeps git's own line endings: a diff of a CRLF file has to reach the parser as it is.
    """

    __slots__ = ("args", "returncode", "stderr", "stdout")

    def __init__(self, args: Sequence[str], returncode: int, stdout: str, stderr: str) -> None:
        self.args = tuple(args)
        self.returncode = returncode
        self.stdout = stdout
        self.stderr = stderr

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def command(self) -> str:
        """The command in a message: ``git`` and its first two arguments are enough to place it."""
        return " ".join(("git", *self.args[:2]))

    def output(self) -> str:
        """stdout of a command that had to succeed; otherwise a ``GitError`` with git's last line."""
        if self.ok:
            return self.stdout
        lines = self.stderr.strip().splitlines()
        reason = lines[-1] if lines else f"exit code {self.returncode}"
        raise GitError(f"{self.command} failed: {reason}")


def run_git(args: Sequence[str], cwd: Path, *, timeout: float | None = None) -> GitResult:
    """Run ``git ARGS`` in ``cwd`` with no standard input, whatever exit code it ends with.

    The environment is inherited on purpose: inside a hook, git points ``GIT_INDEX_FILE`` at the
    index that is about to be committed (``git commit -a``, ``git commit PATH``), and ``GIT_DIR``
    layouts must keep working. Raises ``GitError`` only when git could not run at all, and
    ``GitTimeout`` past ``timeout`` seconds; a failing command is for the caller to judge.
    """
    try:
        proc = subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            stdin=subprocess.DEVNULL,
            timeout=timeout,
            check=False,
        )
    except FileNotFoundError:
        if not Path(cwd).is_dir():
            raise GitError(f"not a git repository: {cwd}") from None
        raise GitError("git is not installed or not on PATH") from None
    except subprocess.TimeoutExpired:
        command = " ".join(("git", *args[:2]))
        raise GitTimeout(f"{command} took longer than {timeout:g} s") from None
    except OSError as exc:
        raise GitError(f"cannot run git in {cwd}: {exc.strerror or exc}") from None
    return GitResult(
        args,
        proc.returncode,
        proc.stdout.decode("utf-8", "replace"),
        proc.stderr.decode("utf-8", "replace"),
    )
