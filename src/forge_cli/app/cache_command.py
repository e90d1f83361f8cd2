"""``forge cache stats`` and ``forge cache clear``: the dedup cache the other commands would use.

Both only look at a cache that is there: a folder that does not exist is reported as empty and
left uncreated (a typo in ``--cache-dir`` must not leave folders about).
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.app.settings import CacheSettings
from forge_cli.core.errors import OutputError
from forge_cli.engine.cache import ResultCache, default_cache_dir


def _existing(settings: CacheSettings) -> Path | None:
    """The cache folder, None when there is none yet; OutputError for a file in its place."""
    directory = settings.cache_dir or default_cache_dir()
    if not directory.exists():
        return None
    if not directory.is_dir():
        raise OutputError(f"cache dir {directory} is not a folder")
    return directory


def _warn(err: Console) -> Callable[[str], None]:
    return lambda line: err.print(f"forge: warning: {line}", markup=False, highlight=False)


def run_stats(settings: CacheSettings, err: Console) -> int:
    directory = _existing(settings)
    if directory is None:
        where, entries, size, exists = settings.cache_dir or default_cache_dir(), 0, 0, False
    else:
        with ResultCache(directory, warn=_warn(err)) as cache:
            stats = cache.stats()
        where, entries, size, exists = stats.directory, stats.entries, stats.size_bytes, True
    if settings.json_output:
        report = {"cache_dir": str(where), "exists": exists, "entries": entries, "bytes": size}
        sys.stdout.write(orjson.dumps(report).decode() + "\n")
        return 0
    sys.stdout.write(
        f"cache dir: {where}{'' if exists else ' (none yet)'}\nentries:   {entries:,}\n"
        f"size:      {size / 1e6:,.2f} MB\n"
    )
    return 0


def run_clear(settings: CacheSettings, err: Console) -> int:
    directory = _existing(settings)
    if directory is None:
        missing = settings.cache_dir or default_cache_dir()
        sys.stdout.write(f"removed 0 cached answers: there is no cache at {missing}\n")
        return 0
    with ResultCache(directory, warn=_warn(err)) as cache:
        removed = cache.clear()
    sys.stdout.write(f"removed {removed:,} cached answers from {directory}\n")
    return 0
