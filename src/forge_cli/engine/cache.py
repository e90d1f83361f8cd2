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

import asyncio
import hashlib
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache
import orjson
from diskcache.core import DBNAME

from forge_cli.core.errors import OutputError
from forge_cli.core.models import Complexity
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
#: values shorter than this are kept inline in the database (diskcache's ``disk_min_file_size``)
_INLINE_LIMIT = 32_768
#: entries written between two evictions (diskcache culls on every ``set``)
_CULL_EVERY = 10_000
#: one entry as ``diskcache.Cache.set`` stores a small bytes value: key as text (raw), value inline
#: (mode 1 = raw bytes), size 0 (only files count), no tag; replacing an entry keeps its row
_UPSERT = (
    "INSERT INTO Cache (key, raw, store_time, expire_time, access_time, access_count, tag, size,"
    " mode, filename, value) VALUES (?, 1, ?, ?, ?, 0, NULL, 0, 1, NULL, ?)"
    " ON CONFLICT (key, raw) DO UPDATE SET store_time = excluded.store_time,"
    " expire_time = excluded.expire_time, access_time = excluded.access_time, access_count = 0,"
    " tag = NULL, size = 0, mode = 1, filename = NULL, value = excluded.value"
)
#: keys per SELECT of ``get_many`` (SQLite allows 32,766 parameters; small queries stay fast)
_LOOKUP_BATCH = 500


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


def cache_entry(
    answer: dict[str, Any], provider: str, model: str, complexity: Complexity
) -> dict[str, Any]:
    """What the cache keeps of one answer: the answer, who gave it, and the text's complexity
    (a column of the results; stored so that a warm re-run need not estimate it again)."""
    return {"answer": answer, "provider": provider, "model": model, "complexity": complexity.value}


_COMPLEXITY = {c.value: c for c in Complexity}


def stored_complexity(entry: dict[str, Any]) -> Complexity | None:
    """The complexity kept with a cached answer (None for an entry of an older forge)."""
    value = entry.get("complexity")
    return _COMPLEXITY.get(value) if isinstance(value, str) else None


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
        self._written = 0
        #: answers given to ``set_many`` and not yet committed: key -> (JSON, expiry time)
        self._pending: dict[str, tuple[bytes, float | None]] = {}
        self._scheduled: asyncio.AbstractEventLoop | None = None
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
                stored = self._waiting(key) or self._cache.get(key, default=None, retry=True)
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

    def get_many(self, keys: Collection[str]) -> dict[str, dict[str, Any]]:
        """The answers cached for ``keys`` (those missing or expired left out), in a few queries.

        A warm re-run reads every record's answer from here; one SELECT per key was a third of
        its time. This is diskcache's own lookup (``Cache.get``'s fast path: same SQL, same
        ``Disk.fetch``, no write under the least-recently-stored policy), batched.
        """
        found: dict[str, dict[str, Any]] = {}
        if self.broken is not None or not keys:
            return found
        wanted = []
        for key in keys:
            blob = self._waiting(key)
            if blob is None:
                wanted.append(key)
            else:
                found[key] = orjson.loads(blob)
        try:
            for start in range(0, len(wanted), _LOOKUP_BATCH):
                part = wanted[start : start + _LOOKUP_BATCH]
                marks = ",".join("?" * len(part))
                rows = self._cache._sql(
                    "SELECT key, mode, filename, value FROM Cache WHERE raw = 1 AND key IN "
                    f"({marks}) AND (expire_time IS NULL OR expire_time > ?)",
                    (*part, time.time()),
                ).fetchall()
                for key, mode, filename, value in rows:
                    entry = self._load(mode, filename, value)
                    if entry is not None:
                        found[key] = entry
        except (sqlite3.Error, OSError) as exc:
            self._stop(exc)
        self.hits += len(found)
        self.misses += len(keys) - len(found)
        return found

    def _load(self, mode: int, filename: str | None, value: Any) -> dict[str, Any] | None:
        try:
            if mode != 1 or filename is not None or type(value) is not bytes:  # not inline bytes
                value = self._cache.disk.fetch(mode, filename, value, False)
            entry = orjson.loads(value)
        except (Unsafe, orjson.JSONDecodeError, TypeError, OSError):
            return None  # not written by this forge (never loaded), or removed meanwhile
        return entry if isinstance(entry, dict) else None

    def set_many(self, entries: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Keep answers for the cache; they are committed at the end of this event-loop turn.

        A commit per pack was most of what the cache cost a fast run. Answers of all the packs
        that come back in one turn of the event loop share one commit, made before the loop
        waits for anything again (``call_soon``): so a hard kill loses no answer that waited
        on the network, and a busy run commits a few times per turn instead of once per pack.
        Without a running loop (the Python API, tests) the commit is made at once.
        ``get`` and ``get_many`` see waiting answers as they see stored ones.
        """
        if self.broken is not None:
            return
        pending = self._pending
        expire = None if self.ttl is None else time.time() + self.ttl
        for key, value in entries:
            pending[key] = (orjson.dumps(value), expire)
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no loop running
            self.flush()
            return
        if self._scheduled is not loop:  # (a loop that ended before its turn did never ran it)
            loop.call_soon(self.flush)
            self._scheduled = loop

    def _waiting(self, key: str) -> bytes | None:
        """The answer for ``key`` still waiting to be committed, unless it expired meanwhile."""
        waiting = self._pending.get(key)
        if waiting is None or (waiting[1] is not None and waiting[1] <= time.time()):
            return None
        return waiting[0]

    def flush(self) -> None:
        """Commit the answers waiting in ``set_many``, in one transaction.

        diskcache's ``set`` runs five statements per key (look up, insert or update, metadata,
        volume, cull). Small values go in with one upsert over diskcache's own table instead,
        laid out exactly as ``set`` lays them out (raw bytes inline, size 0; its triggers keep
        the count); a value big enough for a file of its own, or a key whose old value is in
        one, goes through ``set``, which manages the files. Eviction (``cull``) runs once per
        ``_CULL_EVERY`` entries instead of once per entry.
        """
        self._scheduled = None
        rows, self._pending = self._pending, {}
        if not rows or self.broken is not None:
            return
        now = time.time()
        cache = self._cache
        try:
            with cache.transact(retry=True):
                filed = self._in_files(list(rows))
                small = []
                for key, (blob, expire) in rows.items():
                    if len(blob) < _INLINE_LIMIT and key not in filed:
                        small.append((key, now, expire, now, blob))
                    else:
                        cache.set(key, blob, expire=None if expire is None else expire - now)
                cache._con.executemany(_UPSERT, small)
            self._written += len(rows)
            if self._written >= _CULL_EVERY:
                self._written = 0
                cache.cull(retry=True)
        except (sqlite3.Error, OSError) as exc:
            self._stop(exc)

    def _in_files(self, keys: list[str]) -> set[str]:
        """Those of ``keys`` whose stored value is a file (replacing one must remove the file)."""
        marks = ",".join("?" * len(keys))
        query = f"SELECT key FROM Cache WHERE raw = 1 AND filename IS NOT NULL AND key IN ({marks})"
        return {key for (key,) in self._cache._sql(query, keys).fetchall()}

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
        self.flush()
        try:
            self._cache.expire()
            entries, size = len(self._cache), int(self._cache.volume())
        except (sqlite3.Error, OSError) as exc:
            raise OutputError(f"cannot read the cache {self.directory}: {reason(exc)}") from None
        return CacheStats(self.directory, entries, size, self.hits, self.misses)

    def clear(self) -> int:
        self._pending.clear()
        try:
            return int(self._cache.clear(retry=True))
        except (sqlite3.Error, OSError) as exc:
            raise OutputError(f"cannot clear the cache {self.directory}: {reason(exc)}") from None

    def close(self) -> None:
        self.flush()
        try:
            self._cache.close()
        except (sqlite3.Error, OSError) as exc:
            if self.broken is None:
                self._warn(f"the cache {self.directory} could not be closed: {reason(exc)}")

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
