"""How records come in: a chunk at a time from the reader, and a chunk's cache hits in one query.

Reading runs in a worker thread (a slow stdin must not stall the calls in flight); the chunk is
the unit of both, so a warm re-run makes one cache query per chunk instead of one per record.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice
from typing import Any

from forge_cli.core.models import Failure, Item
from forge_cli.engine.cache import ResultCache

#: records read (and looked up in the cache) at a time
READ_CHUNK = 512


def cached_answers(
    cache: ResultCache | None, items: list[Item], inflight: dict[str, list[Item]]
) -> dict[str, dict[str, Any]]:
    """The cached answers of ``items`` not already on their way (their keys are set)."""
    if cache is None:
        return {}
    return cache.get_many({it.key for it in items if it.key not in inflight})


def take(records: Iterator[Item | Failure], n: int) -> list[Item | Failure]:
    return list(islice(records, n))
