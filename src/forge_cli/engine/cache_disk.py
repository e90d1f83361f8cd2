"""Where and how the dedup cache keeps its answers on disk: JSON, never pickle, readable by the
user alone.

diskcache pickles values by default, and loading a pickle runs whatever code it names
(CVE-2025-69872, no fix upstream): anyone able to write one file in the cache folder could run
code in the user's next forge. So values go in as bytes forge serialised itself (orjson), and
``JsonDisk`` refuses to load any row stored as a pickle. ``PRAGMA user_version`` marks a database
written this way; one without the mark (a cache of an older forge) is cleared, without loading a
value, and said so in one line.

The folder is made 0700 and the database 0600 (cached answers are the user's data; measured
before: a 0755 folder and a 0644 database). A folder of ours found open to others is closed, with
one line. A database that is no database (damaged) is moved aside and started again, with one line.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import stat
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import diskcache
from diskcache.core import DBNAME, MODE_BINARY, MODE_RAW, UNKNOWN

from forge_cli.core.errors import OutputError

__all__ = [
    "FORMAT",
    "HINT",
    "JsonDisk",
    "Unsafe",
    "damaged",
    "mark",
    "prepare",
    "reason",
    "set_aside",
]

#: ``PRAGMA user_version`` of a cache that holds JSON (0, SQLite's default, is an older forge's)
FORMAT = 1

Warn = Callable[[str], None]

#: how a user gets past a cache that cannot be used
HINT = "fix it, give another --cache-dir, or run with --no-cache"


class Unsafe(Exception):
    """A key or value stored as a pickle: forge never loads one."""


class JsonDisk(diskcache.Disk):
    """diskcache's storage with pickle taken out: keys are text, values JSON bytes."""

    def put(self, key: Any) -> tuple[Any, bool]:
        if type(key) is not str:
            raise TypeError(f"cache keys are text, not {type(key).__name__}")
        return super().put(key)

    def get(self, key: Any, raw: bool) -> Any:
        if not raw:
            raise Unsafe("a key stored as a pickle")
        return super().get(key, raw)

    def store(self, value: Any, read: bool, key: Any = UNKNOWN) -> tuple[Any, ...]:
        if type(value) is not bytes:
            raise TypeError(f"cache values are JSON bytes, not {type(value).__name__}")
        return super().store(value, read, key=key)

    def fetch(self, mode: int, filename: str | None, value: Any, read: bool) -> Any:
        if mode not in (MODE_RAW, MODE_BINARY):
            raise Unsafe("a value stored as a pickle or text")
        return super().fetch(mode, filename, value, read)


def reason(exc: BaseException) -> str:
    """The few words a one-line message gives for ``exc``."""
    return (exc.strerror if isinstance(exc, OSError) else None) or str(exc) or type(exc).__name__


def _make_folder(directory: Path, warn: Warn) -> None:
    """The cache folder, made 0700 (or closed to others if it is ours and was open)."""
    if directory.exists():
        if not directory.is_dir():
            raise OutputError(f"cache dir {directory} is not a folder")
    else:
        try:
            directory.mkdir(parents=True, mode=0o700)
        except OSError as exc:
            raise OutputError(f"cannot create cache dir {directory}: {reason(exc)}") from None
        return
    if sys.platform == "win32":  # pragma: no cover - POSIX modes do not apply there
        return
    info = directory.stat()
    if info.st_mode & 0o077 and info.st_uid == os.getuid():
        try:
            directory.chmod(0o700)
        except OSError:
            warn(
                f"cache dir {directory} can be read by other users (mode "
                f"{stat.S_IMODE(info.st_mode):o}) and its mode cannot be changed"
            )
            return
        warn(
            f"cache dir {directory} could be read by other users (mode "
            f"{stat.S_IMODE(info.st_mode):o}): made it 0700"
        )


def _close_files(db: Path) -> None:
    """The database and its journal files: 0600 (a forge before this one left them 0644)."""
    if sys.platform == "win32":  # pragma: no cover
        return
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        with contextlib.suppress(OSError):
            if os.lstat(path).st_mode & 0o077:
                os.chmod(path, 0o600)


def damaged(exc: BaseException) -> bool:
    """Whether SQLite says the file is no (longer a sound) database, rather than busy or full."""
    return getattr(exc, "sqlite_errorname", "") in ("SQLITE_CORRUPT", "SQLITE_NOTADB")


def _state(db: Path) -> str:
    """``new``, ``json`` (written by this forge), ``pickle`` (an older forge's) or ``damaged: why``."""
    try:
        con = sqlite3.connect(db)
    except sqlite3.Error as exc:
        raise OutputError(f"cannot use cache dir {db.parent}: {exc}; {HINT}") from None
    try:
        version = con.execute("PRAGMA user_version").fetchone()[0]
        if version == FORMAT:
            return "json"
        tables = con.execute("SELECT count(*) FROM sqlite_master WHERE name = 'Cache'").fetchone()
        # an older forge's cache with answers in it (an empty one is simply taken over)
        rows = tables[0] and con.execute("SELECT 1 FROM Cache LIMIT 1").fetchone()
    except sqlite3.Error as exc:
        if damaged(exc):
            return f"damaged: {exc}"
        raise OutputError(f"cannot use cache dir {db.parent}: {exc}; {HINT}") from None
    finally:
        con.close()
    return "pickle" if rows else "new"


def set_aside(db: Path, why: str) -> Path:
    """Move a damaged database out of the way, so that the next open starts a new one."""
    aside = db.with_name(db.name + ".damaged")
    try:
        os.replace(db, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(db.with_name(db.name + suffix))
    except OSError as exc:
        raise OutputError(
            f"the cache {db} is damaged ({why}) and cannot be moved aside: {reason(exc)}; "
            "remove it, or run with --no-cache"
        ) from None
    return aside


def prepare(directory: Path, warn: Warn) -> str:
    """Make the folder and database ready for diskcache; the database's state before (``_state``).

    A new database is created here, empty and 0600, so that SQLite (which gives its journal files
    the database's mode) never makes a file others can read.
    """
    _make_folder(directory, warn)
    if not os.access(directory, os.W_OK | os.X_OK):
        raise OutputError(f"cannot use cache dir {directory}: it cannot be written; {HINT}")
    db = directory / DBNAME
    state = "new"
    if db.exists():
        _close_files(db)
        state = _state(db)
        if state.startswith("damaged"):
            why = state.removeprefix("damaged: ")
            aside = set_aside(db, why)
            warn(f"the cache {db} was damaged ({why}): moved it to {aside.name}, starting anew")
            state = "new"
    if not db.exists():
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        try:
            os.close(os.open(db, flags, 0o600))
        except FileExistsError:
            pass  # another run made it a moment ago
        except OSError as exc:
            raise OutputError(f"cannot use cache dir {directory}: {reason(exc)}; {HINT}") from None
    return state


def mark(db: Path) -> None:
    """Mark the database as holding JSON (after it was created or cleared)."""
    con = sqlite3.connect(db)
    try:
        con.execute(f"PRAGMA user_version = {FORMAT}")
        con.commit()
    finally:
        con.close()
