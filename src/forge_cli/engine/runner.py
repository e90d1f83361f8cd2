"""The pipeline of one run: records in, every record out in exactly one sink, once.

A producer reads records (in a worker thread, a chunk at a time, so a slow stdin never stalls the
calls in flight), drops duplicates onto the request already in flight, serves cache hits at once and
queues the rest. A dispatcher hands the next pack to a concurrency slot the moment one frees up: there
is no batch barrier, so a slow call holds one slot, never the run. Items an answer missed or garbled
come back in smaller packs, then go to the chain's other providers (``rounds.py``); items of a call
that failed for good are split and retried a bounded number of rounds before they become failures.
The runner knows neither prompts nor wire formats: the task and the provider do. A write that fails
(a full disk) stops the run at once: no new pack starts and the packs in flight are cancelled;
``written`` keeps the counts to what reached the files.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable, Iterator
from typing import Any

from forge_cli.core.calls import PackItem, new_pack_ids
from forge_cli.core.errors import FatalProviderError, InvalidResponseError, ProviderError
from forge_cli.core.models import Failure, Item, RowWriter
from forge_cli.engine.batcher import Scheduler, item_tokens
from forge_cli.engine.cache import ResultCache, cache_entry, cache_key, stored_complexity
from forge_cli.engine.calling.caller import CallFailed
from forge_cli.engine.calling.chain import Chain
from forge_cli.engine.calling.lease import lend
from forge_cli.engine.config import EngineConfig
from forge_cli.engine.intake import READ_CHUNK, cached_answers, take
from forge_cli.engine.rounds import sort_back
from forge_cli.engine.rows import failure_row, result_row
from forge_cli.engine.screen import Screen, screen_chunk
from forge_cli.engine.stats import RunStats
from forge_cli.engine.written import Written
from forge_cli.tasks.base import Task

#: the temperature of a pack that holds re-asked items (a first ask uses the task's, usually 0)
REASK_TEMPERATURE = 0.4


class Runner:
    def __init__(
        self,
        *,
        task: Task,
        chain: Chain,
        results: RowWriter,
        failures: RowWriter,
        stats: RunStats,
        cache: ResultCache | None = None,
        config: EngineConfig | None = None,
        screen: Screen | None = None,
    ) -> None:
        self.task = task
        self.chain = chain
        self.stats = stats
        self.out = Written(results, failures, stats, on_error=self._halt)
        self.cache = cache if chain.cacheable else None
        self.config = config or EngineConfig()
        self.screen = screen
        self.fingerprint = f"{task.fingerprint()}|{chain.identity}"
        self.error: ProviderError | None = None
        self._running: set[asyncio.Task[None]] = set()
        self._sched = Scheduler(self.config.limits)
        self._inflight: dict[str, list[Item]] = {}
        self._wakeup = asyncio.Event()
        self._space = asyncio.Event()
        self._active = 0
        self._producer_done = False
        self._window = self.config.read_ahead()

    # ------------------------------------------------------------------ run

    async def run(self, records: Iterable[Item | Failure]) -> RunStats:
        self.stats.provider = self.chain.label
        self.stats.model = self.chain.model_label
        self.stats.concurrency = self.config.concurrency
        producer = asyncio.create_task(self._produce(iter(records)))
        try:
            await self._dispatch()
            if self.error is not None and self.write_error is None:
                # no provider can answer: what waits, and what is still unread, becomes a
                # failure naming why, so every record still ends in exactly one file
                for item in self._sched.drain():
                    self._fail_unattempted(item)
                self._space.set()
            if self.write_error is not None:
                producer.cancel()  # nothing more can be written: read no further
                await asyncio.wait([producer])
            else:
                await producer
        finally:
            if not producer.done():
                producer.cancel()
            self.stats.finished = time.monotonic()
            self.out.flush()
        return self.stats

    @property
    def write_error(self) -> OSError | None:
        """The write that failed (a full disk), which stopped the run."""
        return self.out.error

    @property
    def _stopped(self) -> bool:
        return self.error is not None or self.out.error is not None

    def _halt(self) -> None:
        """A write failed: start nothing more and cancel the packs in flight."""
        current = asyncio.current_task()
        for task in self._running:
            if task is not current:
                task.cancel()
        self._wakeup.set()
        self._space.set()

    async def _produce(self, records: Iterator[Item | Failure]) -> None:
        try:
            while self.write_error is None:
                chunk = await asyncio.to_thread(take, records, READ_CHUNK)
                if not chunk:
                    break
                fresh: list[Item] = []
                for record, row in zip(chunk, screen_chunk(self.screen, chunk), strict=True):
                    if self.write_error is not None:
                        break
                    if isinstance(record, Failure):
                        self._fail_input(record)
                    elif isinstance(row, dict):
                        self._answer_screened(record, row)
                    else:
                        if row:  # the screen's hint travels with the text (and its cache key)
                            record.text = f"{record.text}\n\n{row}"
                        record.key = cache_key(record.text, self.fingerprint)
                        fresh.append(record)
                hits = cached_answers(
                    self.cache, fresh, self._inflight
                )  # one query for the chunk, not one per record
                for record in fresh:
                    if self.write_error is not None:
                        break
                    self._admit(record, hits.get(record.key))
                self._wakeup.set()
                while self._sched.pending >= self._window and not self._stopped:
                    self._space.clear()
                    await self._space.wait()
        finally:
            self._producer_done = True
            self._wakeup.set()

    async def _dispatch(self) -> None:
        slots = asyncio.Semaphore(self.config.concurrency)
        running = self._running
        while True:
            await slots.acquire()
            pack = await self._next_pack(slots)
            if pack is None:
                slots.release()
                break
            self._active += 1
            task = asyncio.create_task(self._run_pack(pack, slots))
            running.add(task)
            task.add_done_callback(running.discard)
        if running:  # a write error cancels the packs in flight: that is no error here
            await asyncio.gather(*running, return_exceptions=True)

    async def _next_pack(self, slots: asyncio.Semaphore) -> list[Item] | None:
        while not self._stopped:
            pack = self._sched.take()
            if pack:
                if self._sched.pending < self._window:
                    self._space.set()
                return pack
            self._space.set()
            if self._producer_done and self._active == 0:
                return None
            self._wakeup.clear()
            slots.release()  # waiting for work holds no slot: a pack back from a back-off needs one
            await self._wakeup.wait()
            await slots.acquire()
        return None

    async def _run_pack(self, pack: list[Item], slots: asyncio.Semaphore) -> None:
        lease = lend(slots)  # given back while a retry waits out its back-off (calling/lease.py)
        try:
            await self._call_pack(pack)
        except Exception as exc:  # a bug must not lose records: they become failures
            for item in pack:
                self._emit_failure(item, "InternalError", f"{type(exc).__name__}: {exc}")
        finally:
            self._active -= 1
            lease.release()
            self._wakeup.set()

    # ------------------------------------------------------------------ intake

    def _admit(self, item: Item, hit: dict[str, Any] | None) -> None:
        stats = self.stats
        stats.read += 1
        if self.error is not None:
            item.complexity = self.task.complexity(item.text)
            self._fail_unattempted(item)
            return
        key = item.key
        group = self._inflight.get(key)
        if group is not None:  # the same text is already on its way: ride along
            item.complexity = group[0].complexity
            group.append(item)
            return
        if hit is not None:
            item.complexity = stored_complexity(hit) or self.task.complexity(item.text)
            self._write_result(item, hit["answer"], hit["provider"], hit["model"], cached=True)
            return
        item.complexity = self.task.complexity(item.text)
        if item.extra:
            item.urgency = self.task.urgency(item.extra)
        item.tokens = item_tokens(self.task, item.text)
        self._inflight[key] = [item]
        self._sched.push(item)
        stats.queued_by_class[item.complexity] += 1

    def _answer_screened(self, item: Item, row: dict[str, Any]) -> None:
        """A record the cascade's first stage was sure of: written now, no call."""
        assert self.screen is not None
        self.stats.read += 1
        self.stats.screened += 1
        item.complexity = self.task.complexity(item.text)
        self._write_result(item, row, self.screen.name, self.screen.model, cached=False)

    def _fail_input(self, failure: Failure) -> None:
        self.stats.read += 1
        self.out.failure(failure.to_row(), None)

    # ------------------------------------------------------------------ one pack

    async def _call_pack(self, pack: list[Item]) -> None:
        ids = new_pack_ids(len(pack))  # random per pack: no record's text can name one
        request = self.task.build_request(
            [PackItem(i, it.text) for i, it in zip(ids, pack, strict=False)]
        )
        if any(it.rounds for it in pack):
            # asked again because the answer was bad: at temperature 0 a model repeats the same
            # bad answer word for word, so a re-ask samples a little instead
            request.temperature = max(request.temperature, REASK_TEMPERATURE)
        self.stats.packs += 1
        started = time.monotonic()
        tokens = self.task.estimate_request_tokens([it.text for it in pack])
        avoid = {name for it in pack for name in it.avoid}
        try:
            completion, attempts, member = await self.chain.call(request, tokens, avoid=avoid)
        except CallFailed as failed:
            for item in pack:
                item.attempts += failed.attempts
            if isinstance(failed.error, FatalProviderError):
                self._abort(failed.error)
                for item in pack:
                    self._emit_failure(item, failed.error.kind, str(failed.error), failed.error.raw)
                return
            self._retry_or_fail(pack, failed.error.kind, str(failed.error), failed.error.raw)
            return
        elapsed = time.monotonic() - started
        self._sched.token_ratio = self.chain.calibration.ratio
        for item in pack:
            item.attempts += attempts
        stats = self.stats
        usage = member.usage
        stats.charge(usage, completion, member.cost_of)
        try:
            parsed = self.task.parse(
                completion.content, ids, completion.logprobs, completion.confidences
            )
        except InvalidResponseError as exc:
            stats.invalid_answers += 1
            self._sched.report(pack[0].complexity, clean=False)
            self._retry_or_fail(pack, exc.kind, exc.message, exc.raw, answered_by=member.name)
            return

        share_in, share_out = completion.tokens_in // len(pack), completion.tokens_out // len(pack)
        latency_ms = round(elapsed * 1000, 1)
        answered: list[tuple[Item, dict[str, Any]]] = []
        missed: list[Item] = []
        reasons: list[str] = []
        for local_id, item in zip(ids, pack, strict=False):
            answer = parsed.answers.get(local_id)
            if answer is None:
                missed.append(item)
                reasons.append(parsed.errors.get(local_id, "missing from the answer"))
            else:
                answered.append((item, answer))
        usage.items += len(answered)
        if self.cache is not None and answered and member.provider.cacheable:
            self.cache.set_many(
                (it.key, cache_entry(ans, member.name, completion.model, it.complexity))
                for it, ans in answered
            )
        per_item = elapsed / len(pack)
        for cls in {it.complexity for it in pack}:
            stats.eta_model.observe(cls, per_item)
        for item, answer in answered:
            self._write_result(
                item,
                answer,
                member.name,
                completion.model,
                cached=False,
                tokens=(share_in, share_out),
                latency_ms=latency_ms,
            )
        self._sched.report(pack[0].complexity, clean=not missed)
        if missed:
            stats.invalid_answers += 1
            self._retry_or_fail(
                missed,
                "InvalidResponseError",
                reasons[0],
                parsed.snippet,
                pack_size=len(pack),
                answered_by=member.name,
            )

    def _retry_or_fail(
        self,
        items: list[Item],
        kind: str,
        message: str,
        raw: str | None,
        *,
        pack_size: int = 0,
        answered_by: str | None = None,
    ) -> None:
        """Send items back in smaller packs while they have rounds left, then (those the member
        ``answered_by`` answered badly) to the chain's other members; fail the rest."""
        size = pack_size or len(items)
        again, onward, failed = sort_back(
            items, self.config.max_rounds, answered_by, self.chain.has_other
        )
        for item in failed:
            self._emit_failure(
                item, kind, f"{answered_by}: {message}" if answered_by else message, raw
            )
        if onward:
            self._sched.requeue(onward, size)
        if again:
            self.stats.reasked += len(again)
            self._sched.requeue(again, max(1, min(len(again), size // 2)))
        self._wakeup.set()

    def _fail_unattempted(self, item: Item) -> None:
        assert self.error is not None
        self._emit_failure(item, self.error.kind, f"not sent: {self.error}")

    def _abort(self, error: ProviderError) -> None:
        if self.error is None:
            self.error = error
            self.stats.aborted = str(error)
        self._wakeup.set()
        self._space.set()

    # ------------------------------------------------------------------ output

    def _write_result(
        self,
        item: Item,
        answer: dict[str, Any],
        provider: str,
        model: str,
        *,
        cached: bool,
        tokens: tuple[int, int] = (0, 0),
        latency_ms: float = 0.0,
    ) -> None:
        group = self._inflight.pop(item.key, None) if not cached else None
        if group is not None:
            self.stats.queued_by_class[item.complexity] -= 1
        for n, member in enumerate(group or (item,)):
            hit = cached or n > 0
            row = result_row(member, answer, provider, model, hit, tokens, latency_ms)
            self.out.result(row, member.complexity, hit)

    def _emit_failure(self, item: Item, kind: str, message: str, raw: str | None = None) -> None:
        group = self._inflight.pop(item.key, None)
        if group is not None:
            self.stats.queued_by_class[item.complexity] -= 1
        for member in group or (item,):
            row = failure_row(member, kind, message, item.attempts, raw)
            self.out.failure(row, member.complexity)
