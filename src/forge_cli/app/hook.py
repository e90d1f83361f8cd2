"""forge's ``prepare-commit-msg`` git hook: installing it, and the code it runs.

Two jobs live here because they share one contract with the user: the hook is forge's guest in
someone's repository. Installing never destroys a hook forge did not write (it refuses, or chains
that hook with ``--chain``), and uninstalling removes only what forge put there. Running never
costs the user a commit: whatever goes wrong (no model, a slow or broken one, a bug in forge, a
signal), the hook leaves the message file usable, says so in one line on stderr and exits 0.

The hook runs on every ``git commit``, so this module imports only the standard library at module
level: the whole hook process has to stay well under 400 ms on the offline provider. Anything
heavier (the commit-message pipeline, providers, pydantic) is imported lazily, and the model is
called in a daemon thread under a wall-clock budget that this module enforces itself, so neither a
hung provider nor a slow import can hold the commit.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

__all__ = [
    "BUDGET_ENV",
    "CHAINED_SUFFIX",
    "DEFAULT_BUDGET",
    "HOOK_NAME",
    "MARKER",
    "HookError",
    "HookStatus",
    "hooks_dir",
    "install",
    "main",
    "run_hook",
    "status",
    "uninstall",
]

HOOK_NAME = "prepare-commit-msg"
#: identifies a hook forge wrote; later versions keep the "# forge-hook v" prefix so any forge
#: hook, old or new, is recognised as forge's and updated in place rather than called foreign
MARKER = "# forge-hook v1"
_MARKER_PREFIX = b"# forge-hook v"
#: where a hook that was there before forge goes when installed with --chain
CHAINED_SUFFIX = ".forge-chained"
BUDGET_ENV = "FORGE_HOOK_BUDGET"
DEFAULT_BUDGET = 10.0
#: git's second argument when the message already comes from somewhere the user chose:
#: -m/-F (message), a merge, a squash, --amend/-c/-C (commit). Those are never replaced.
SKIP_SOURCES = frozenset({"message", "merge", "squash", "commit"})
#: sources that still want a message written for them ("" is a plain `git commit`)
FILL_SOURCES = frozenset({"", "template"})
#: the same arguments ``forge commit-msg`` uses, so the hook and the command hash the same diff
#: text and share cached answers
DIFF_ARGS = ("diff", "--cached", "-M", "--no-color", "--no-ext-diff", "--no-textconv")
#: bytes of a hook read to look for the marker (it is on the second line of forge's own)
_SNIFF_BYTES = 4096

Generate = Callable[..., Any]
Offline = Callable[[str], str]


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


# ------------------------------------------------------------------------------ install & co.


def _git(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", *args],
            cwd=cwd,
            capture_output=True,
            text=True,
            encoding="utf-8",
            errors="replace",
            stdin=subprocess.DEVNULL,
            check=False,
        )
    except FileNotFoundError:
        if not cwd.is_dir():
            raise HookError(f"not a git repository: {cwd}") from None
        raise HookError("git is not installed or not on PATH") from None
    except OSError as exc:
        raise HookError(f"cannot run git in {cwd}: {exc.strerror or exc}") from None


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
    )


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
    "$python" -P -m forge_cli.app.hook run{budget_arg} "$@" </dev/null || true
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


# ------------------------------------------------------------------------------------ the hook


class _Terminated(BaseException):
    """SIGTERM/SIGHUP as an exception, so the hook unwinds, cleans up and still exits 0."""


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated(signum)


def _trap_signals() -> Callable[[], None]:
    """Turn SIGTERM/SIGHUP into ``_Terminated`` while the hook runs (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return lambda: None
    previous: list[tuple[int, Any]] = []
    for name in ("SIGTERM", "SIGHUP"):
        signum = getattr(signal, name, None)
        if signum is None:
            continue
        try:
            previous.append((signum, signal.signal(signum, _raise_terminated)))
        except (OSError, ValueError):
            continue

    def restore() -> None:
        for signum, handler in previous:
            with contextlib.suppress(OSError):
                signal.signal(signum, handler)

    return restore


def _one_line(text: str, limit: int = 300) -> str:
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1] + "…"


def _reason(exc: BaseException) -> str:
    """A one-line reason: forge's own errors speak for themselves, others say what they are."""
    text = _one_line(str(exc))
    if type(exc).__module__.startswith("forge_cli"):
        return text or type(exc).__name__
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _say(stream: TextIO, line: str) -> None:
    """Print one line; a closed or broken stderr must not become the hook's problem."""
    try:
        stream.write(line + "\n")
        stream.flush()
    except Exception:
        pass


def _parse_budget(value: object) -> float | None:
    try:
        budget = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return budget if math.isfinite(budget) and budget > 0 else None


def _budget(installed: float | None) -> float:
    """FORGE_HOOK_BUDGET, else the ``--budget`` baked in at install, else 10 s.

    An unusable value is ignored rather than reported: the hook has one stderr line to spend and
    a typo in an environment variable is not worth refusing a commit message over.
    """
    from_env = _parse_budget(os.environ.get(BUDGET_ENV))
    if from_env is not None:
        return from_env
    return _parse_budget(installed) or DEFAULT_BUDGET


def _usable(message: object) -> bool:
    """A message git will keep: text, no NUL, and at least one line that is not a comment."""
    if not isinstance(message, str) or "\x00" in message:
        return False
    return any(line.strip() and not line.startswith("#") for line in message.splitlines())


def _staged_diff(cwd: Path, timeout: float) -> str:
    # the environment is inherited on purpose: for `git commit -a` or `git commit PATH`, git points
    # GIT_INDEX_FILE at a temporary index, and that index is what is about to be committed
    proc = subprocess.run(
        ["git", *DIFF_ARGS],
        cwd=cwd,
        capture_output=True,
        stdin=subprocess.DEVNULL,
        timeout=timeout,
        check=False,
    )
    if proc.returncode != 0:
        lines = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise HookError(f"git diff --cached failed: {lines[-1] if lines else proc.returncode}")
    return proc.stdout.decode("utf-8", "replace")


def _generate_within(
    diff: str, budget: float, cwd: Path, generate: Generate
) -> tuple[str | None, str]:
    """The model's message, or (None, why not); never waits longer than ``budget``.

    The call runs in a daemon thread joined with the budget, so a provider that hangs (or an
    import that does) is simply abandoned; ``main`` then ends the process without waiting for it.
    """
    box: dict[str, Any] = {}

    def work() -> None:
        try:
            box["value"] = generate(diff, budget_s=budget, cwd=cwd)
        except BaseException as exc:
            box["error"] = exc

    worker = threading.Thread(target=work, name="forge-hook-generate", daemon=True)
    worker.start()
    worker.join(budget)
    if worker.is_alive():
        return None, f"model did not answer within {budget:g} s"
    if "error" in box:
        return None, _reason(box["error"])
    value = box.get("value")
    message, note = (value, None) if isinstance(value, str) else (None, None)
    if isinstance(value, tuple) and len(value) == 2:
        message, note = value
    if not _usable(message):
        return None, "model gave no usable message"
    assert isinstance(message, str)
    return message, _one_line(str(note)) if note else ""


def _write_above(path: Path, message: str) -> None:
    """Put the message above what git wrote (its comments, a template, a -v diff), atomically.

    A temp file in the same directory and ``os.replace`` mean that a hook killed at any instant
    leaves either the old file or the new one, never half of either.
    """
    try:
        original = path.read_bytes().decode("utf-8", "surrogateescape")
        mode: int | None = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        original, mode = "", None
    text = message.strip("\n").rstrip() + "\n"
    if original.strip():
        text += "\n" + original.lstrip("\r\n")
    tmp = path.with_name(f".{path.name}.forge-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(text.encode("utf-8", "surrogateescape"))
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _fill(
    argv: list[str],
    generate: Generate | None,
    offline: Offline | None,
    installed_budget: float | None,
) -> str | None:
    """Do the hook's work; return the one line to print, if any. May raise (the caller copes)."""
    if not argv or not argv[0]:
        return "forge: the hook was called without a message file; nothing done"
    msgfile = Path(argv[0])
    source = argv[1] if len(argv) > 1 else ""
    if source not in FILL_SOURCES:
        return None  # the message already has a source, or git grew one this hook does not know
    budget = _budget(installed_budget)
    cwd = Path.cwd()
    try:
        diff = _staged_diff(cwd, timeout=max(budget, 5.0))
    except subprocess.TimeoutExpired:
        return "forge: git diff --cached took too long; commit message left as it was"
    if not diff.strip():
        return None
    if generate is None or offline is None:
        # imported here, before the model's thread starts, so the fallback does not begin by
        # importing a module that a call abandoned at the budget may be halfway through importing
        from forge_cli.app import commit_msg as commitmsg

        generate = generate or commitmsg.hook_message
        offline = offline or commitmsg.offline_message
    message, note = _generate_within(diff, budget, cwd, generate)
    if message is None:
        try:
            message = offline(diff)
        except Exception as exc:
            why = f"the offline message failed ({_reason(exc)})"
            return f"forge: {note}, and {why}; commit message left as it was"
        if not _usable(message):
            why = "the offline message was empty"
            return f"forge: {note}, and {why}; commit message left as it was"
        note = f"{note}; used the offline message"
    _write_above(msgfile, message)
    if not note:
        return None
    return note if note.startswith("forge:") else f"forge: {note}"


def run_hook(
    argv: list[str],
    *,
    generate: Generate | None = None,
    offline: Offline | None = None,
    stderr: TextIO | None = None,
    installed_budget: float | None = None,
) -> int:
    """Fill in the commit message for git's ``prepare-commit-msg`` arguments; always returns 0.

    ``generate(diff, budget_s=, cwd=) -> (message, note | None)`` and ``offline(diff) -> message``
    default to ``forge_cli.app.commit_msg.hook_message`` and ``offline_message``; tests inject their own.
    Every outcome prints at most one line to ``stderr`` (default: ``sys.stderr`` at call time).
    """
    err = stderr if stderr is not None else sys.stderr
    restore = _trap_signals()
    line: str | None
    try:
        line = _fill(list(argv), generate, offline, installed_budget)
    except (KeyboardInterrupt, _Terminated):
        line = "forge: interrupted; commit message left as it was"
    except HookError as exc:
        line = f"forge: {exc}; commit message left as it was"
    except BaseException as exc:
        line = f"forge: {_reason(exc)}; commit message left as it was"
    finally:
        restore()
    if line:
        _say(err, line)
    return 0


_USAGE = "usage: python -m forge_cli.app.hook run [--budget=SECONDS] MSGFILE [SOURCE [SHA]]"


def main(argv: list[str] | None = None) -> NoReturn:
    """Entry point of the installed hook; ends the process with status 0 (2 for a bad command line).

    It leaves through ``os._exit`` after flushing: a model call abandoned at the budget may still be
    running in its thread, and a normal interpreter exit would wait for its executor threads (and
    spend time tearing down modules) after the user's commit message is already written.
    """
    args = sys.argv[1:] if argv is None else list(argv)
    code = 0
    if not args or args[0] != "run":
        _say(sys.stderr, _USAGE)
        code = 2
    else:
        rest = args[1:]
        installed: float | None = None
        if rest and rest[0].startswith("--budget="):
            installed = _parse_budget(rest[0].partition("=")[2])
            rest = rest[1:]
        run_hook(rest, installed_budget=installed)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
