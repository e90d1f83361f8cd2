"""What forge's ``prepare-commit-msg`` hook runs on each ``git commit``: fill in the message.

The installed script (written by ``forge_cli.app.hook_install``) calls
``python -P -m forge_cli.app.hook run [--budget=SECONDS] MSGFILE [SOURCE [SHA]]``. Running never
costs the user a commit: whatever goes wrong (no model, a slow or broken one, a bug in forge, git
failing, a signal), the hook leaves the message file usable, says so in one line on stderr and
exits 0.

The hook runs on every ``git commit``, so this module imports only the standard library and forge's
git reader (itself standard library only) at module level: the whole hook process has to stay well
under 400 ms on the offline provider. Anything heavier (the commit-message pipeline, providers,
pydantic) is imported lazily, and the model is called in a daemon thread under a wall-clock budget
that this module enforces itself, so neither a hung provider nor a slow import can hold the commit.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any, NoReturn, TextIO

from forge_cli.git.repo import cached_diff
from forge_cli.git.runner import GitTimeout

__all__ = [
    "BUDGET_ENV",
    "DEFAULT_BUDGET",
    "main",
    "run_hook",
]

BUDGET_ENV = "FORGE_HOOK_BUDGET"
DEFAULT_BUDGET = 10.0
#: git's second argument when the message already comes from somewhere the user chose:
#: -m/-F (message), a merge, a squash, --amend/-c/-C (commit). Those are never replaced.
SKIP_SOURCES = frozenset({"message", "merge", "squash", "commit"})
#: sources that still want a message written for them ("" is a plain `git commit`)
FILL_SOURCES = frozenset({"", "template"})

Generate = Callable[..., Any]
Offline = Callable[[str], str]


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
        diff = cached_diff(cwd, timeout=max(budget, 5.0))
    except GitTimeout:
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
    except BaseException as exc:
        line = f"forge: {_reason(exc)}; commit message left as it was"
    finally:
        restore()
    if line:
        _say(err, line)
    return 0


_USAGE = "usage: python -m forge_cli.app.hook run [--budget=SECONDS] MSGFILE [SOURCE [SHA]]"


def with_pre_commit_source(args: list[str]) -> list[str]:
    """git's SOURCE and SHA when the pre-commit framework runs the hook (.pre-commit-hooks.yaml).

    pre-commit passes only the message file and puts the rest in its environment: without it a
    ``git commit -m ...`` would look like a plain commit and have its message replaced.
    """
    source = os.environ.get("PRE_COMMIT_COMMIT_MSG_SOURCE")
    if len(args) != 1 or source is None:
        return args
    sha = os.environ.get("PRE_COMMIT_COMMIT_OBJECT_NAME")
    return [*args, source, *([sha] if sha else [])]


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
        run_hook(with_pre_commit_source(rest), installed_budget=installed)
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(Exception):
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    main()
