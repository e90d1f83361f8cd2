"""The dedup cache: each unique text is paid for once, across runs.

Keys are sha256 over the normalised text and a fingerprint of everything that changes the answer
(task, labels, prompt version, provider, model), so a change of any of those never serves a stale
answer. Values hold the answer and who gave it, never the text or a key, as JSON (``cache_disk``: no
pickle is ever loaded; the folder is 0700). Writes of one pack go in one SQLite transaction:
diskcache commits per call otherwise, which would dominate a fast run.

A cache is a help, never the point of a run: one that stops working mid-run (a full disk, a
database damaged under it) says so in one line and the run goes on without it. One that cannot be
opened at all (a file where the folder should be, a read-only database) is an OutputError: the
user chose that folder, and running on without it would pay again for every answer.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache
import orjson
from diskcache.core import DBNAME

from forge_cli.core.errors import OutputError
from forge_cli.engine.cache_disk import (
    HINT,
    JsonDisk,
    Unsafe,
    damaged,
    mark,
    prepare,
    reason,
    set_aside,
)

DEFAULT_TTL = 24 * 3600


def default_cache_dir() -> Path:
    """The platform's user cache dir (``cache_dir`` in the settings, or FORGE_CACHE_DIR, overrides it)."""
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Caches"
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "forge"


def normalise(text: str) -> str:
    """Texts that differ only in case or spacing get one answer."""
    return " ".join(text.split()).casefold()


def cache_key(text: str, fingerprint: str) -> str:
    digest = hashlib.sha256(fingerprint.encode())
    digest.update(b"\0")
    digest.update(normalise(text).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


@dataclass(slots=True)
class CacheStats:
    directory: Path
    entries: int
    size_bytes: int
    hits: int
    misses: int


class ResultCache:
    """A typed wrapper over ``diskcache.Cache`` that stores JSON (see the module docstring).

    ``warn`` hears the one-line notices: a folder closed to other users, an old pickle cache
    cleared, a damaged database set aside, a cache that stopped working mid-run.
    """

    def __init__(
        self,
        directory: Path,
        ttl: float | None = DEFAULT_TTL,
        *,
        warn: Callable[[str], None] | None = None,
    ) -> None:
        self.directory = Path(directory)
        self.ttl = ttl if ttl and ttl > 0 else None
        self._warn = warn or (lambda line: None)
        self.hits = 0
        self.misses = 0
        #: why the cache stopped working during the run (None while it works)
        self.broken: str | None = None
        state = prepare(self.directory, self._warn)
        try:
            self._cache = diskcache.Cache(
                str(self.directory),
                disk=JsonDisk,
                eviction_policy="least-recently-stored",  # a get must not write
                size_limit=2**30,
            )
            if state == "pickle":
                # cleared without loading a value: diskcache deletes rows and files unread
                self._cache.clear(retry=True)
                self._warn(
                    f"the cache {self.directory} held answers as Python pickles, which forge "
                    "no longer reads (loading one can run code): cleared it; answers are kept "
                    "as JSON from now on"
                )
            if state != "json":
                mark(self.directory / DBNAME)
        except (sqlite3.Error, OSError) as exc:
            raise OutputError(
                f"cannot use cache dir {self.directory}: {reason(exc)}; {HINT}"
            ) from None

    def get(self, key: str) -> dict[str, Any] | None:
        value = None
        if self.broken is None:
            try:
                stored = self._cache.get(key, default=None, retry=True)
                value = None if stored is None else orjson.loads(stored)
            except (Unsafe, orjson.JSONDecodeError, TypeError):
                value = None  # not written by this forge: a miss, never loaded
            except (sqlite3.Error, OSError) as exc:
                self._stop(exc)
        if not isinstance(value, dict):
            self.misses += 1
            return None
        self.hits += 1
        return value

    def set_many(self, entries: Iterable[tuple[str, dict[str, Any]]]) -> None:
        if self.broken is not None:
            return
        try:
            with self._cache.transact(retry=True):
                for key, value in entries:
                    self._cache.set(key, orjson.dumps(value), expire=self.ttl)
        except (sqlite3.Error, OSError) as exc:
            self._stop(exc)

    def _stop(self, exc: BaseException) -> None:
        """The cache failed mid-run: say so once and go on without it."""
        self.broken = reason(exc)
        line = f"the cache {self.directory} stopped working ({self.broken})"
        if damaged(exc):
            try:
                aside = set_aside(self.directory / DBNAME, self.broken)
            except OutputError as failed:
                line = str(failed)
            else:
                line += f": moved it to {aside.name}, the next run starts a new one"
        self._warn(f"{line}; going on without it: answers from now on are not cached")

    def stats(self) -> CacheStats:
        try:
            self._cache.expire()
            entries, size = len(self._cache), int(self._cache.volume())
        except (sqlite3.Error, OSError) as exc:
            raise OutputError(f"cannot read the cache {self.directory}: {reason(exc)}") from None
        return CacheStats(self.directory, entries, size, self.hits, self.misses)

    def clear(self) -> int:
        try:
            return int(self._cache.clear(retry=True))
        except (sqlite3.Error, OSError) as exc:
            raise OutputError(f"cannot clear the cache {self.directory}: {reason(exc)}") from None

    def close(self) -> None:
        try:
            self._cache.close()
        except (sqlite3.Error, OSError) as exc:
            if self.broken is None:
                self._warn(f"the cache {self.directory} could not be closed: {reason(exc)}")

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
