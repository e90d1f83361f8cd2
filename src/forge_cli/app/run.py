"""Running any task through the engine from settings: provider, cache, sinks, live view, summary.

Shared by ``forge classify`` and ``forge commit-msg --range`` so both get the same retries, breaker,
cache, output files and progress. Returns the documented exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.app.settings import RunSettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.engine.batcher import PackLimits
from forge_cli.engine.cache import ResultCache, default_cache_dir
from forge_cli.engine.calling.caller import Caller
from forge_cli.engine.calling.chain import Chain, Member
from forge_cli.engine.calling.routing import make_router
from forge_cli.engine.resilience.aimd import AimdLimiter
from forge_cli.engine.resilience.buckets import RateLimiter
from forge_cli.engine.resilience.retry import default_retry_policy
from forge_cli.engine.runner import FAILURE_FIELDS, EngineConfig, Runner, result_columns
from forge_cli.engine.stats import ProviderStats, RunStats
from forge_cli.io.sinks import open_sink, output_paths
from forge_cli.providers.catalog.prices import PriceTable, parse_price_overrides
from forge_cli.providers.registry import MissingKeyError, build_provider
from forge_cli.providers.settings import ProviderConfig, resolve_chain
from forge_cli.tasks.base import Task
from forge_cli.ui.live import progress_view, summary_table

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


#: settings the command line applies to the first provider of the chain
FIRST_PROVIDER_FLAGS = ("model", "base_url", "api_key_env", "price_in", "price_out", "rpm", "tpm")


def chain_configs(settings: RunSettings) -> list[ProviderConfig]:
    """The chain of the settings, each provider's settings resolved and their sources noted."""
    flags = {name: getattr(settings, name) for name in FIRST_PROVIDER_FLAGS}
    return resolve_chain(
        settings.provider,
        tables=settings.provider_tables,
        flags={k: v for k, v in flags.items() if v is not None},
        defaults={"timeout": settings.timeout, "concurrency": settings.concurrency},
        flag_sources=settings.setting_sources,
    )


def price_table(settings: RunSettings) -> PriceTable:
    return PriceTable(parse_price_overrides(settings.prices)) if settings.prices else PriceTable()


def build_chain(
    settings: RunSettings, stats: RunStats, *, notify: Callable[[str], None] | None = None
) -> Chain:
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


def open_cache(settings: RunSettings) -> ResultCache | None:
    if settings.no_cache:
        return None
    directory = settings.cache_dir or default_cache_dir()
    try:
        return ResultCache(directory, ttl=settings.cache_ttl)
    except OSError as exc:
        raise UsageError(f"cannot use cache dir {directory}: {exc.strerror or exc}") from None


def run_to_files(
    settings: RunSettings,
    *,
    task: Task,
    chain: Chain,
    records: Iterable[Item | Failure],
    source_name: str,
    total_hint: int | None,
    cache: ResultCache | None,
    limits: PackLimits,
    err: Console,
) -> int:
    """Run every record through the engine into results and failures files; print the summary."""
    results_path, failures_path = output_paths(source_name, settings.out_dir, settings.format)
    stats = chain.stats
    stats.total_hint = total_hint
    with (
        open_sink(results_path, settings.format, result_columns(task)) as results,
        open_sink(failures_path, settings.format, FAILURE_FIELDS) as failures,
    ):
        runner = Runner(
            task=task,
            chain=chain,
            results=results,
            failures=failures,
            stats=stats,
            cache=cache,
            config=EngineConfig(concurrency=chain.concurrency, limits=limits),
        )

        async def main() -> None:
            # SIGTERM ends the run like Ctrl-C: sinks flushed, whole lines, a clear message
            current = asyncio.current_task()
            if current is not None:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, current.cancel)
            try:
                async with progress_view(stats, live=not settings.no_progress):
                    await runner.run(records)
            finally:
                await chain.aclose()

        try:
            asyncio.run(main())
        except (KeyboardInterrupt, asyncio.CancelledError):
            err.print(
                f"forge: interrupted after {stats.finished_records:,} records; run the same "
                "command again to finish: answers already received are cached."
            )
            return EXIT_INTERRUPTED
    _report(settings, stats, results_path, failures_path, err)
    if runner.error is not None:
        err.print(f"forge: error: {runner.error}", style="red", markup=False, highlight=False)
        err.print(
            f"forge: the {stats.failed:,} records not answered are in {failures_path}; run again "
            "once the provider works: answers already received come from the cache.",
            markup=False,
            highlight=False,
        )
        return EXIT_USAGE
    return EXIT_FAILURES if stats.failed else EXIT_OK


def _report(
    settings: RunSettings, stats: RunStats, results: Path, failures: Path, err: Console
) -> None:
    if settings.json_summary:
        summary = {**stats.summary(), "results": str(results), "failures": str(failures)}
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    err.print(summary_table(stats, str(results), str(failures)))
