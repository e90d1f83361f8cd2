"""Packs only as large as the model answers well in: a probe before the run (``--pack-probe N``).

Packing saves tokens as long as the model answers each record of a pack as it would answer that
record alone. A capable model mostly does; a small one does not (a 0.5B model on public tickets
gave its own one-at-a-time type to 38% of tickets in packs of 2 and to 12% in packs of ~18). No
label is needed to see it: the probe asks the first N records alone, then in packs of falling size
(the largest the run would make, then half of it, ...), and keeps the largest size whose answers
agree with the single ones on at least ``MIN_AGREEMENT`` of the records in every label field the
task names; none agrees: one record a request. The run then asks every record as usual (the sample
too), so the probe costs about N single answers plus N per size tried.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import chain as chained
from typing import Any

from forge_cli.core.calls import PackItem, new_pack_ids
from forge_cli.core.errors import InvalidResponseError
from forge_cli.core.models import Failure, Item
from forge_cli.engine.batcher import PackLimits, item_tokens
from forge_cli.engine.calling.caller import CallFailed
from forge_cli.engine.calling.chain import Chain
from forge_cli.engine.stats import RunStats
from forge_cli.tasks.base import Task

__all__ = ["MIN_AGREEMENT", "ProbeReport", "peek_items", "probe_packing"]

#: the share of the sample whose packed answer must equal its single one, in every label field: a
#: capable model asked the same thing twice agrees on about nine in ten ambiguous tickets, a model
#: that cannot keep a pack apart on one in three or fewer (see the module's docstring)
MIN_AGREEMENT = 0.8

Answers = dict[int, dict[str, Any]]


@dataclass(slots=True)
class ProbeRound:
    size: int
    calls: int
    #: per label field, the share of the sample answered alike packed and alone
    agreement: dict[str, float]

    @property
    def worst(self) -> float:
        return min(self.agreement.values(), default=0.0)


@dataclass(slots=True)
class ProbeReport:
    """What the probe asked and what it chose, for the summary."""

    records: int
    #: sample records the model answered alone (the reference the packs are compared with)
    answered: int = 0
    rounds: list[ProbeRound] = field(default_factory=list)
    #: the largest records per request kept (1: no packing)
    chosen: int | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "records": self.records,
            "answered_alone": self.answered,
            "rounds": [
                {"size": r.size, "calls": r.calls, "agreement": _rounded(r.agreement)}
                for r in self.rounds
            ],
            "chosen": self.chosen,
        }

    def line(self) -> str:
        """One line for the summary table."""
        if self.chosen is None:
            return f"{self.records} records: too few answered alone to compare, packing unchanged"
        tried = ", ".join(f"{r.size} a request {r.worst:.0%} alike" for r in self.rounds)
        kept = "one record a request" if self.chosen == 1 else f"packs of up to {self.chosen}"
        return f"{self.answered} records alone, then {tried}: {kept}"


def _rounded(agreement: dict[str, float]) -> dict[str, float]:
    return {name: round(share, 3) for name, share in agreement.items()}


async def peek_items(
    records: Iterable[Item | Failure], count: int
) -> tuple[list[Item], Iterator[Item | Failure]]:
    """The first ``count`` records that are items, and the whole stream again, those included.

    Read in a worker thread, like the run's own reading: a slow stdin must not stall the loop."""
    stream = iter(records)

    def head() -> list[Item | Failure]:
        taken: list[Item | Failure] = []
        items = 0
        for record in stream:
            taken.append(record)
            items += isinstance(record, Item)
            if items >= count:
                break
        return taken

    taken = await asyncio.to_thread(head)
    return [r for r in taken if isinstance(r, Item)], chained(taken, stream)


async def probe_packing(
    task: Task,
    chain: Chain,
    stats: RunStats,
    sample: Sequence[Item],
    limits: PackLimits,
    *,
    concurrency: int,
    columns: Sequence[str],
) -> tuple[PackLimits, ProbeReport]:
    """The packing limits the sample's answers allow, and what was measured."""
    report = ProbeReport(records=len(sample))
    slots = asyncio.Semaphore(max(1, concurrency))
    texts = [item.text for item in sample]
    alone = await _answers(task, chain, stats, [[i] for i in range(len(texts))], texts, slots)
    report.answered = len(alone)
    if len(alone) < 2:
        return limits, report
    largest = max(limits.caps.values())
    size = min(largest, len(texts))
    while size >= 2:
        packs = _packs(task, texts, size, limits.token_budget)
        packed = await _answers(task, chain, stats, packs, texts, slots)
        measured = ProbeRound(size, len(packs), _agreement(alone, packed, columns))
        report.rounds.append(measured)
        if measured.worst >= MIN_AGREEMENT:
            break
        size //= 2
    if size < 2:
        report.chosen = 1
        return replace(limits, forced=1), report
    if len(report.rounds) == 1:  # the largest pack the sample allows agrees: packing stays as is
        report.chosen = largest
        return limits, report
    report.chosen = size
    return replace(limits, caps={c: min(cap, size) for c, cap in limits.caps.items()}), report


def _packs(task: Task, texts: Sequence[str], size: int, budget: int) -> list[list[int]]:
    """The sample in its order, ``size`` a pack, no pack over the run's token budget."""
    packs: list[list[int]] = []
    tokens = 0
    for index, text in enumerate(texts):
        cost = item_tokens(task, text)
        if not packs or len(packs[-1]) >= size or tokens + cost > budget:
            packs.append([])
            tokens = 0
        packs[-1].append(index)
        tokens += cost
    return packs


async def _answers(
    task: Task,
    chain: Chain,
    stats: RunStats,
    packs: list[list[int]],
    texts: Sequence[str],
    slots: asyncio.Semaphore,
) -> Answers:
    """Sample position -> its valid answer, from asking ``packs`` (positions) concurrently."""
    found: Answers = {}

    async def ask(pack: list[int]) -> None:
        ids = new_pack_ids(len(pack))
        request = task.build_request(
            [PackItem(i, texts[p]) for i, p in zip(ids, pack, strict=True)]
        )
        estimate = task.estimate_request_tokens([texts[p] for p in pack])
        stats.packs += 1
        async with slots:
            try:
                completion, _, member = await chain.call(request, estimate)
            except CallFailed:
                return  # no answer: a single is left out of the comparison, a pack disagrees
        stats.charge(member.usage, completion, member.cost_of)
        try:
            parsed = task.parse(
                completion.content, ids, completion.logprobs, completion.confidences
            )
        except InvalidResponseError:
            return
        for local_id, position in zip(ids, pack, strict=True):
            answer = parsed.answers.get(local_id)
            if answer is not None:
                found[position] = answer

    await asyncio.gather(*(ask(pack) for pack in packs))
    return found


def _agreement(alone: Answers, packed: Answers, columns: Sequence[str]) -> dict[str, float]:
    """Per column, the share of the records answered alone whose packed answer is the same (a
    record the pack left unanswered counts as not the same)."""
    shares: dict[str, float] = {}
    for column in columns:
        same = sum(
            position in packed and _value(packed[position], column) == _value(answer, column)
            for position, answer in alone.items()
        )
        shares[column] = same / len(alone)
    return shares


def _value(answer: dict[str, Any], column: str) -> Any:
    value = answer.get(column)
    return sorted(value) if isinstance(value, list) else value
