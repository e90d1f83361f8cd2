"""``--dry-run``: what a run would cost, from the same reader, dedup, cache and packer, with no call."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from forge_cli.engine.calling.chain import Chain

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from typing import Any

from forge_cli.core.models import Failure, Item
from forge_cli.engine.batcher import PackLimits, Scheduler, item_tokens
from forge_cli.engine.cache import ResultCache, cache_key
from forge_cli.engine.intake import READ_CHUNK
from forge_cli.tasks.base import Task


@dataclass(slots=True)
class Plan:
    records: int = 0
    unusable: int = 0
    unique_texts: int = 0
    duplicates: int = 0
    cache_hits: int = 0
    packs: int = 0
    calls: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost_usd: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def plan_run(
    records: Iterable[Item | Failure],
    *,
    task: Task,
    chain: Chain,
    cache: ResultCache | None,
    limits: PackLimits,
    window: int = 5_000,
) -> Plan:
    """Count records, unique texts, cache hits, packs and estimated tokens without calling anyone.

    Distinct texts are remembered as 64-bit digests (about 100 bytes each), the one part of a dry run
    whose memory grows with the input.
    """
    plan = Plan()
    fingerprint = f"{task.fingerprint()}|{chain.identity}"
    provider = chain.members[0].provider
    seen: set[int] = set()
    sched = Scheduler(limits)
    use_cache = cache if chain.cacheable else None

    def drain(until: int) -> None:
        while sched.pending > until:
            pack = sched.take()
            if not pack:
                break
            texts = [it.text for it in pack]
            tokens_in = task.estimate_request_tokens(texts)[0]
            tokens_out = task.expected_answer_tokens(texts)
            plan.packs += 1
            plan.tokens_in += tokens_in
            plan.tokens_out += tokens_out

    def admit(chunk: list[Item]) -> None:
        """A chunk of new texts: its cache hits counted (one query), the rest queued."""
        hits = use_cache.get_many({it.key for it in chunk}) if use_cache is not None else {}
        for record in chunk:
            if record.key in hits:
                plan.cache_hits += 1
                continue
            record.complexity = task.complexity(record.text)
            if record.extra:
                record.urgency = task.urgency(record.extra)
            record.tokens = item_tokens(task, record.text)
            sched.push(record)
            if sched.pending >= window:
                drain(window // 2)

    fresh: list[Item] = []
    for record in records:
        plan.records += 1
        if isinstance(record, Failure):
            plan.unusable += 1
            continue
        record.key = key = cache_key(record.text, fingerprint)
        digest = int(key[:16], 16)
        if digest in seen:
            plan.duplicates += 1
            continue
        seen.add(digest)
        plan.unique_texts += 1
        fresh.append(record)
        if len(fresh) >= READ_CHUNK:
            admit(fresh)
            fresh = []
    admit(fresh)
    drain(0)
    plan.calls = plan.packs
    plan.cost_usd = round(
        (plan.tokens_in * provider.price_in + plan.tokens_out * provider.price_out) / 1e6, 6
    )
    return plan
