"""The one wiring of a run: settings and a task in, a chain, a cache and the engine out.

Every command that calls providers (classify, commit-msg and its git hook, bench, the Python API) goes
through ``assemble`` and ``run_task``, so they share one way to build the provider chain (each member
with its own breaker, retries, AIMD limit and RPM/TPM buckets), open the cache, hand the task's offline
rule to the offline provider and run the engine to two writers.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from forge_cli.app.settings import ClassifySettings, RunSettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item, RowWriter
from forge_cli.engine.batcher import PackLimits
from forge_cli.engine.cache import ResultCache, default_cache_dir
from forge_cli.engine.calling.caller import Caller
from forge_cli.engine.calling.chain import Chain, Member
from forge_cli.engine.calling.routing import make_router
from forge_cli.engine.config import EngineConfig
from forge_cli.engine.probe import peek_items, probe_packing
from forge_cli.engine.resilience.aimd import AimdLimiter
from forge_cli.engine.resilience.buckets import RateLimiter
from forge_cli.engine.resilience.retry import default_retry_policy
from forge_cli.engine.resilience.stall import StallWatch
from forge_cli.engine.runner import Runner
from forge_cli.engine.screen import Screen
from forge_cli.engine.stats import ProviderStats, RunStats
from forge_cli.providers.catalog.prices import PriceTable, parse_price_overrides
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.offline import OfflineProvider
from forge_cli.providers.registry import MissingKeyError, build_provider
from forge_cli.providers.settings import resolve_chain
from forge_cli.tasks.base import Task

#: settings the command line applies to the first provider of the chain
FIRST_PROVIDER_FLAGS = ("model", "base_url", "api_key_env", "price_in", "price_out", "rpm", "tpm")

Notify = Callable[[str], None]


def chain_configs(settings: RunSettings) -> list[ProviderConfig]:
    """The chain of the settings, each provider's settings resolved and their sources noted."""
    flags = {name: getattr(settings, name) for name in FIRST_PROVIDER_FLAGS}
    return resolve_chain(
        settings.provider,
        tables=settings.provider_tables,
        flags={k: v for k, v in flags.items() if v is not None},
        defaults={
            "timeout": settings.timeout,
            "concurrency": settings.concurrency,
            # typed (flag, FORGE_CONCURRENCY, forge.toml): it wins over a preset's own figure
            "concurrency_set": "concurrency" in settings.setting_sources,
        },
        flag_sources=settings.setting_sources,
    )


def price_table(settings: RunSettings) -> PriceTable:
    return PriceTable(parse_price_overrides(settings.prices)) if settings.prices else PriceTable()


def build_chain(settings: RunSettings, stats: RunStats, *, notify: Notify | None = None) -> Chain:
    """Every provider of the chain with its own breaker, retries, AIMD limit and RPM/TPM buckets.

    A provider whose key is not set is left out with one line saying so, unless it is the only
    one (then that is a usage error).
    """
    configs = chain_configs(settings)
    prices = price_table(settings)
    members: list[Member] = []
    skipped: list[str] = []
    for config in configs:
        try:
            provider = build_provider(config, prices)
        except MissingKeyError as exc:
            if len(configs) == 1:
                raise
            skipped.append(f"{exc}; left out of the chain")
            continue
        caller = Caller(
            provider,
            stats,
            retry=default_retry_policy(settings.retries + 1, settings.backoff),
            breaker_threshold=settings.breaker_threshold,
            breaker_cooldown=settings.breaker_cooldown,
            # starts at the cap the user chose; the first 429 is what teaches it less
            limiter=AimdLimiter(config.concurrency),
            rate=RateLimiter(config.rpm, config.tpm),
            usage=ProviderStats(config.name, config.model, concurrency=config.concurrency),
            stall=StallWatch(settings.stall_timeout),
        )
        members.append(Member(provider, caller, weight=config.weight))
    if not members:
        raise UsageError("no provider of the chain can be used: " + "; ".join(skipped))
    chain = Chain(members, stats=stats, router=make_router(settings.routing), notify=notify)
    for line in skipped:
        stats.notices.append(line)
        if notify is not None:
            notify(line)
    return chain


def open_cache(settings: RunSettings, notify: Notify | None = None) -> ResultCache | None:
    """The dedup cache of the settings, None with ``no_cache``; OutputError when it is unusable.

    ``notify`` hears the cache's one-line notices (see ``ResultCache``), as ``warning: ...``.
    """
    if settings.no_cache:
        return None
    directory = settings.cache_dir or default_cache_dir()
    warn = (lambda line: notify(f"warning: {line}")) if notify is not None else None
    return ResultCache(directory, ttl=settings.cache_ttl, warn=warn)


def bind_task(chain: Chain, task: Task) -> None:
    """Hand the task's deterministic rule to the offline members of the chain, and check the
    local models' fields against the task's."""
    for member in chain.members:
        if isinstance(member.provider, OfflineProvider):
            member.provider.use_rule(task.offline_answer)
    if "forge_cli.providers.local" in sys.modules:  # a local model was built: numpy is loaded
        from forge_cli.app.local_model import bind_local_models

        bind_local_models(chain, task)


def pack_limits(chain: Chain, pack: int | None) -> PackLimits:
    """How records are packed: ``--pack`` when given, else the size every member of the chain
    prefers, if all say one (a local server: 1; a trained local model: its largest packs), else
    the engine's adaptive packing."""
    if pack is not None:
        return PackLimits(forced=pack)
    hints = [getattr(m.provider, "pack_size", None) for m in chain.members]
    sizes = [h for h in hints if isinstance(h, int)]
    if not sizes or len(sizes) < len(hints):
        return PackLimits()
    if all(getattr(m.provider, "promptless", False) for m in chain.members):
        # no prompt to keep short: neither the pack's size nor its tokens need a limit
        return PackLimits(forced=min(sizes), token_budget=1 << 40)
    return PackLimits(forced=min(sizes))


def cascade_screen(settings: RunSettings, task: Task, stats: RunStats) -> Screen | None:
    """The cascade's first stage, when ``--cascade MODEL`` asks for one."""
    if not isinstance(settings, ClassifySettings) or settings.cascade is None:
        return None
    from forge_cli.app.local_model import screen_for  # numpy only when a cascade is asked for

    screen = screen_for(
        settings.cascade, task, settings.cascade_threshold, hint=settings.cascade_hint
    )
    stats.screen_label = f"local {settings.cascade} (threshold {settings.cascade_threshold:g})"
    return screen


@dataclass(slots=True)
class Assembly:
    """A run ready to go: the task, its chain, the cache and the packing limits."""

    task: Task
    chain: Chain
    cache: ResultCache | None
    limits: PackLimits
    #: the first stage of a cascade: records it is sure of never reach the chain
    screen: Screen | None = None
    #: records to ask alone and packed before the run (``--pack-probe``), 0: none
    probe: int = 0

    @property
    def stats(self) -> RunStats:
        return self.chain.stats

    def close(self) -> None:
        if self.cache is not None:
            self.cache.close()


@contextlib.contextmanager
def assemble(
    settings: RunSettings,
    task: Task,
    *,
    pack: int | None = None,
    notify: Notify | None = None,
) -> Iterator[Assembly]:
    """Build the chain and open the cache for ``task``; the cache is closed on the way out."""
    chain = build_chain(settings, RunStats(), notify=notify)
    try:
        bind_task(chain, task)
        screen = cascade_screen(settings, task, chain.stats)
        cache = open_cache(settings, notify)
    except BaseException:
        asyncio.run(chain.aclose())
        raise
    limits = pack_limits(chain, pack)
    # a probe only where packing still adapts: a size the user or the providers chose stands
    probe = settings.pack_probe if limits.forced is None else 0
    assembly = Assembly(task, chain, cache, limits, screen, probe)
    try:
        yield assembly
    finally:
        assembly.close()


@dataclass(slots=True)
class Outcome:
    """How a run ended: its figures, and the error that stopped it early (no provider left)."""

    stats: RunStats
    error: Exception | None
    interrupted: bool = False
    #: the signal that interrupted the run (SIGINT for Ctrl-C, SIGTERM from a supervisor)
    signal: int = signal.SIGINT
    #: seconds the engine ran, from the first record read to the last written (no setup, no close)
    elapsed: float = 0.0
    #: the write that failed (a full disk) and stopped the run; the stats count only what was written
    write_error: OSError | None = None


View = Callable[[RunStats], contextlib.AbstractAsyncContextManager[Any]]


async def execute(
    assembly: Assembly,
    records: Iterable[Item | Failure],
    results: RowWriter,
    failures: RowWriter,
    *,
    view: View | None = None,
    deadline: float | None = None,
) -> Outcome:
    """Run every record through the engine into the two writers; closes the chain's clients."""
    runner: Runner | None = None
    try:
        async with view(assembly.stats) if view is not None else _nothing():
            started = time.perf_counter()
            if assembly.probe and assembly.task.label_columns:
                records = await _probe(assembly, records)
            runner = Runner(
                task=assembly.task,
                chain=assembly.chain,
                results=results,
                failures=failures,
                stats=assembly.stats,
                cache=assembly.cache,
                config=EngineConfig(concurrency=assembly.chain.concurrency, limits=assembly.limits),
                screen=assembly.screen,
            )
            if deadline is None:
                await runner.run(records)
            else:
                await asyncio.wait_for(runner.run(records), timeout=deadline)
            elapsed = time.perf_counter() - started
    finally:
        await assembly.chain.aclose()
    assert runner is not None  # made before the run, or the run raised
    return Outcome(assembly.stats, runner.error, elapsed=elapsed, write_error=runner.write_error)


async def _probe(assembly: Assembly, records: Iterable[Item | Failure]) -> Iterable[Item | Failure]:
    """Ask the first records alone and packed; pack the run no larger than they agree in."""
    sample, records = await peek_items(records, assembly.probe)
    assembly.limits, report = await probe_packing(
        assembly.task,
        assembly.chain,
        assembly.stats,
        sample,
        assembly.limits,
        concurrency=assembly.chain.concurrency,
        columns=assembly.task.label_columns,
    )
    assembly.stats.pack_probe = report.summary()
    assembly.stats.pack_probe_line = report.line()
    return records


def run_assembled(
    assembly: Assembly,
    records: Iterable[Item | Failure],
    results: RowWriter,
    failures: RowWriter,
    *,
    view: View | None = None,
    deadline: float | None = None,
) -> Outcome:
    """``execute`` in its own event loop, for synchronous callers.

    SIGTERM ends the run like Ctrl-C (the writers are flushed, whole lines only); the outcome says
    it was interrupted. ``deadline`` (seconds) bounds the whole run: past it, TimeoutError.
    """

    received: list[int] = []

    async def main() -> Outcome:
        current = asyncio.current_task()
        if current is not None:

            def terminate() -> None:
                received.append(signal.SIGTERM)
                current.cancel()

            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, terminate)
        return await execute(assembly, records, results, failures, view=view, deadline=deadline)

    try:
        return asyncio.run(main())
    except (KeyboardInterrupt, asyncio.CancelledError):
        with contextlib.suppress(OSError):  # the engine has flushed; what is left cannot go
            results.flush()
            failures.flush()
        got = received[0] if received else signal.SIGINT
        return Outcome(assembly.stats, None, interrupted=True, signal=got)


def run_task(
    task: Task,
    records: Iterable[Item | Failure],
    settings: RunSettings,
    results: RowWriter,
    failures: RowWriter,
    *,
    pack: int | None = None,
    notify: Notify | None = None,
    view: View | None = None,
    deadline: float | None = None,
) -> Outcome:
    """Assemble a run of ``task`` from ``settings`` and run ``records`` to the two writers."""
    with assemble(settings, task, pack=pack, notify=notify) as assembly:
        return run_assembled(assembly, records, results, failures, view=view, deadline=deadline)


@contextlib.asynccontextmanager
async def _nothing() -> AsyncIterator[None]:
    yield
