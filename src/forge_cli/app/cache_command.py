"""``forge cache stats`` and ``forge cache clear``: the dedup cache the other commands would use."""

from __future__ import annotations

import sys

from rich.console import Console

from forge_cli.app.settings import CacheSettings
from forge_cli.engine.cache import ResultCache, default_cache_dir


def run_stats(settings: CacheSettings, err: Console) -> int:
    directory = settings.cache_dir or default_cache_dir()
    with ResultCache(directory) as cache:
        stats = cache.stats()
    sys.stdout.write(
        f"cache dir: {stats.directory}\nentries:   {stats.entries:,}\n"
        f"size:      {stats.size_bytes / 1e6:,.2f} MB\n"
    )
    return 0


def run_clear(settings: CacheSettings, err: Console) -> int:
    directory = settings.cache_dir or default_cache_dir()
    with ResultCache(directory) as cache:
        removed = cache.clear()
    sys.stdout.write(f"removed {removed:,} cached answers from {directory}\n")
    return 0
