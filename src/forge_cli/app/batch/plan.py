"""Which records a batch job must carry, packed as the synchronous engine would pack them.

Cache first (an answered text is never paid for again), duplicates collapsed to one request
(the same ``cache_key`` the runner uses: task fingerprint and chain identity), then the engine's
own scheduler packs what is left (``engine/batcher.py``: hard texts in small packs, the token
budget, ``--pack``), and the task builds each pack's request exactly as for a synchronous call.
Records a source could not read are left to the synchronous pass that writes the outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from forge_cli.core.calls import PackItem, PackRequest, new_pack_ids
from forge_cli.core.models import Failure, Item
from forge_cli.engine.batcher import PackLimits, Scheduler, item_tokens
from forge_cli.engine.cache import ResultCache, cache_key
from forge_cli.tasks.base import Task

__all__ = ["PlannedPack", "plan_packs"]


@dataclass(slots=True)
class PlannedPack:
    """One request of a job: its pack ids, the cache keys they stand for, the request."""

    ids: list[str]
    keys: list[str]
    request: PackRequest
    #: the id of the record each text came from (the first, when several share the text)
    records: list[str]


@dataclass(slots=True)
class PlanCounts:
    records: int = 0
    cached: int = 0
    duplicates: int = 0
    unusable: int = 0
    to_ask: int = 0


def plan_packs(
    records: Iterable[Item | Failure],
    *,
    task: Task,
    cache: ResultCache,
    fingerprint: str,
    limits: PackLimits,
    counts: PlanCounts | None = None,
    window: int = 20_000,
) -> Iterator[PlannedPack]:
    """The packs of every record that has no cached answer yet, each text once."""
    counts = counts if counts is not None else PlanCounts()
    scheduler = Scheduler(limits)
    # 64-bit digests of the keys seen (as the dry run keeps them): memory per text stays small
    seen: set[int] = set()

    def packs(until: int) -> Iterator[PlannedPack]:
        while scheduler.pending > until and (pack := scheduler.take()) is not None:
            ids = new_pack_ids(len(pack))
            items = [PackItem(i, it.text) for i, it in zip(ids, pack, strict=True)]
            request = task.build_request(items)
            yield PlannedPack(ids, [it.key for it in pack], request, [it.id for it in pack])

    for record in records:
        counts.records += 1
        if isinstance(record, Failure):
            counts.unusable += 1
            continue
        key = cache_key(record.text, fingerprint)
        digest = int(key[:16], 16)
        if digest in seen:
            counts.duplicates += 1
            continue
        seen.add(digest)
        if cache.get(key) is not None:
            counts.cached += 1
            continue
        record.key = key
        record.complexity = task.complexity(record.text)
        if record.extra:
            record.urgency = task.urgency(record.extra)
        record.tokens = item_tokens(task, record.text)
        scheduler.push(record)
        counts.to_ask += 1
        if scheduler.pending >= window:
            # a job runs its requests in any order: urgency and hard-first scheduling buy nothing
            # here, so records are packed as they come, a window at a time (bounded memory)
            yield from packs(window // 2)
    yield from packs(0)
