"""Installing forge's ``prepare-commit-msg`` git hook, and taking it out again.

The hook is forge's guest in someone's repository: installing never destroys a hook forge did not
write (it refuses, or chains that hook with ``--chain``), and uninstalling removes only what forge
put there. What the installed script runs on each commit is ``forge_cli.app.hook``; this module is
only for ``forge hook install|uninstall|status``, and the hook itself never imports it.
"""

from __future__ import annotations

import contextlib
import math
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from forge_cli.git.runner import GitError, GitResult, run_git

__all__ = [
    "CHAINED_SUFFIX",
    "HOOK_NAME",
    "MARKER",
    "HookError",
    "HookStatus",
    "hooks_dir",
    "install",
    "status",
    "uninstall",
]

HOOK_NAME = "prepare-commit-msg"
#: identifies a hook forge wrote; later versions keep the "# forge-hook v" prefix so any forge
#: hook, old or new, is recognised as forge's and updated in place rather than called foreign
MARKER = "# forge-hook v1"
#: the module the installed script runs (``python -P -m RUNTIME_MODULE run ...``)
RUNTIME_MODULE = "forge_cli.app.hook"
_MARKER_PREFIX = b"# forge-hook v"
#: where a hook that was there before forge goes when installed with --chain
CHAINED_SUFFIX = ".forge-chained"
#: bytes of a hook read to look for the marker (it is on the second line of forge's own)
_SNIFF_BYTES = 4096


class HookError(Exception):
    """A reason, in one line, why a hook command could not do what was asked."""


@dataclass(slots=True)
class HookStatus:
    """What is at the hook's path: forge's hook (``installed``), someone else's (``foreign``) or
    nothing; the hook forge runs first (``chained``); and ``core.hooksPath`` if it is set."""

    installed: bool
    path: Path
    chained: Path | None
    foreign: bool
    hooks_path_config: str | None
    #: forge's hook, written by an older forge that ran a module this one no longer has
    outdated: bool = False


def _git(args: list[str], repo: Path) -> GitResult:
    """git's result in ``repo``; a git that cannot run at all is a ``HookError`` like the rest."""
    try:
        return run_git(args, repo)
    except GitError as exc:
        raise HookError(str(exc)) from None


def hooks_dir(repo: Path, *, create: bool = True) -> Path:
    """The directory git runs hooks from, as git itself resolves it.

    Asking git (``rev-parse --git-path hooks``) rather than assuming ``.git/hooks`` is what makes
    ``core.hooksPath`` (relative paths are relative to the worktree root, ``~`` expands), linked
    worktrees (hooks live in the common dir) and ``GIT_DIR`` layouts come out right.
    """
    repo = Path(repo)
    proc = _git(["rev-parse", "--path-format=absolute", "--git-path", "hooks"], repo)
    if proc.returncode != 0:
        raise HookError(f"not a git repository: {repo}")
    out = proc.stdout.strip()
    path = Path(out) if os.path.isabs(out) else Path(os.path.normpath(repo.absolute() / out))
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HookError(f"cannot create the hooks directory {path}: {exc.strerror}") from None
    return path


def _hooks_path_config(repo: Path) -> str | None:
    proc = _git(["config", "--get", "core.hooksPath"], repo)
    value = proc.stdout.strip()
    return value if proc.returncode == 0 and value else None


def _is_forge_hook(path: Path) -> bool:
    """True when the file carries forge's marker line (any version)."""
    try:
        with path.open("rb") as f:
            head = f.read(_SNIFF_BYTES)
    except OSError:
        return False
    return any(line.strip().startswith(_MARKER_PREFIX) for line in head.splitlines())


def _status_at(hook: Path, repo: Path) -> HookStatus:
    chained = hook.with_name(HOOK_NAME + CHAINED_SUFFIX)
    present = os.path.lexists(hook)
    mine = present and _is_forge_hook(hook)
    return HookStatus(
        installed=mine,
        path=hook,
        chained=chained if os.path.lexists(chained) else None,
        foreign=present and not mine,
        hooks_path_config=_hooks_path_config(repo),
        outdated=mine and not _runs_current_module(hook),
    )


def _runs_current_module(hook: Path) -> bool:
    """Whether the hook runs this forge's hook module (forge 0.1 hooks ran ``forge_cli.hooks``)."""
    try:
        with hook.open("rb") as f:
            return f"-m {RUNTIME_MODULE} run".encode() in f.read(_SNIFF_BYTES)
    except OSError:
        return False


def status(repo: Path) -> HookStatus:
    """Where the hook is and whose it is; reads only, creates nothing."""
    repo = Path(repo)
    return _status_at(hooks_dir(repo, create=False) / HOOK_NAME, repo)


def _shell_quote(text: str) -> str:
    return "'" + text.replace("'", "'\"'\"'") + "'"


def _script(python: str, budget: float | None) -> str:
    """The hook itself: POSIX sh, so it runs wherever git does, with no PATH or venv needed.

    The interpreter is the absolute path captured at install, with ``-P`` so a ``signal.py`` or
    ``forge_cli/`` at the repository root can never shadow what the hook imports. A chained hook
    runs first with git's arguments and its failure is passed through: refusing a commit is that
    hook's right. forge's own part always ends in ``exit 0``.
    """
    budget_arg = f" --budget={budget:g}" if budget is not None else ""
    return f"""#!/bin/sh
{MARKER}
# Written by `forge hook install`: fills in the commit message when `git commit` opens the editor.
# `forge hook uninstall` removes it and puts back any hook it runs first. Edits here are lost on
# the next install. forge's part never fails a commit: on any problem it uses the offline message
# or leaves the message alone, prints one line and exits 0.
chained="$(dirname "$0")/{HOOK_NAME}{CHAINED_SUFFIX}"
if [ -f "$chained" ] && [ -x "$chained" ]; then
    "$chained" "$@" || exit $?
fi
python={_shell_quote(python)}
if [ -x "$python" ]; then
    "$python" -P -m {RUNTIME_MODULE} run{budget_arg} "$@" </dev/null || true
else
    echo "forge: $python is gone; commit message not generated (run 'forge hook install' again)" >&2
fi
exit 0
"""


def _write_executable(path: Path, text: str) -> None:
    """Replace ``path`` atomically, so git never runs a half-written hook."""
    tmp = path.with_name(f".{path.name}.forge-{os.getpid()}.tmp")
    try:
        with open(tmp, "w", encoding="utf-8", newline="\n") as f:
            f.write(text)
        os.chmod(tmp, 0o755)
        os.replace(tmp, path)
    except OSError as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise HookError(f"cannot write {path}: {exc.strerror or exc}") from None


def _check_budget(budget: float | None) -> None:
    if budget is not None and not (math.isfinite(budget) and budget > 0):
        raise HookError(f"the budget must be a positive number of seconds, not {budget:g}")


def install(
    repo: Path, *, chain: bool = False, budget: float | None = None, python: str = sys.executable
) -> HookStatus:
    """Install forge's hook, or update it in place if it is already forge's.

    A hook forge did not write is never overwritten: without ``chain`` that is an error the user
    can act on; with it, the hook is moved aside (a rename, so a symlink stays a symlink and a
    non-executable hook stays disabled, exactly as git treated it) and forge's script runs it first.
    """
    repo = Path(repo)
    _check_budget(budget)
    if not python or not os.path.isabs(python):
        raise HookError(f"need an absolute path to the Python interpreter, not {python!r}")
    hook = hooks_dir(repo) / HOOK_NAME
    chained = hook.with_name(HOOK_NAME + CHAINED_SUFFIX)
    if hook.is_dir():
        raise HookError(f"{hook} is a directory, not a hook")
    moved = False
    if os.path.lexists(hook) and not _is_forge_hook(hook):
        if not chain:
            raise HookError(
                f"a {HOOK_NAME} hook that forge did not write is already there: {hook}; "
                "use --chain to run it before forge"
            )
        if os.path.lexists(chained):
            raise HookError(
                f"cannot chain {hook}: {chained} already exists; move one of them away first"
            )
        try:
            os.rename(hook, chained)
        except OSError as exc:
            raise HookError(f"cannot move {hook} aside: {exc.strerror or exc}") from None
        moved = True
    try:
        _write_executable(hook, _script(python, budget))
    except HookError:
        if moved:
            with contextlib.suppress(OSError):
                os.rename(chained, hook)
        raise
    return _status_at(hook, repo)


def uninstall(repo: Path) -> HookStatus:
    """Remove forge's hook and put back the hook it chained; touch nothing that is not forge's."""
    repo = Path(repo)
    hook = hooks_dir(repo, create=False) / HOOK_NAME
    chained = hook.with_name(HOOK_NAME + CHAINED_SUFFIX)
    present = os.path.lexists(hook)
    if present and not _is_forge_hook(hook):
        raise HookError(f"the {HOOK_NAME} hook at {hook} was not written by forge; left it alone")
    if not present and not os.path.lexists(chained):
        raise HookError(f"no forge hook to uninstall at {hook}")
    try:
        if os.path.lexists(chained):
            # one rename puts the original back over forge's hook: never a moment with neither
            os.replace(chained, hook)
        else:
            os.unlink(hook)
    except OSError as exc:
        raise HookError(f"cannot remove {hook}: {exc.strerror or exc}") from None
    return _status_at(hook, repo)
