"""The dedup cache: each unique text is paid for once, across runs.

Keys are sha256 over the normalised text and a fingerprint of everything that changes the answer
(task, labels, prompt version, provider, model), so a change of any of those never serves a stale
answer. Values hold the answer and who gave it, never the text or a key. Writes of one pack go in one
SQLite transaction: diskcache commits per call otherwise, which would dominate a fast run.
"""

from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import diskcache

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
    """A thin typed wrapper over ``diskcache.Cache``."""

    def __init__(self, directory: Path, ttl: float | None = DEFAULT_TTL) -> None:
        self.directory = Path(directory)
        self.ttl = ttl if ttl and ttl > 0 else None
        self.directory.mkdir(parents=True, exist_ok=True)
        self._cache = diskcache.Cache(
            str(self.directory),
            eviction_policy="least-recently-stored",  # a get must not write
            size_limit=2**30,
        )
        self.hits = 0
        self.misses = 0

    def get(self, key: str) -> dict[str, Any] | None:
        value = self._cache.get(key, default=None, retry=True)
        if value is None:
            self.misses += 1
            return None
        self.hits += 1
        return value

    def set_many(self, entries: Iterable[tuple[str, dict[str, Any]]]) -> None:
        with self._cache.transact(retry=True):
            for key, value in entries:
                self._cache.set(key, value, expire=self.ttl)

    def stats(self) -> CacheStats:
        self._cache.expire()
        return CacheStats(
            directory=self.directory,
            entries=len(self._cache),
            size_bytes=int(self._cache.volume()),
            hits=self.hits,
            misses=self.misses,
        )

    def clear(self) -> int:
        return int(self._cache.clear(retry=True))

    def close(self) -> None:
        self._cache.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
