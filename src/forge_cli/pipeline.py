"""Running any task through the engine from settings: provider, cache, sinks, live view, summary.

Shared by ``forge classify`` and ``forge commit-msg --range`` so both get the same retries, breaker,
cache, output files and progress. Returns the documented exit code.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Iterable
from pathlib import Path

import orjson
from rich.console import Console

from forge_cli.config import RunSettings
from forge_cli.engine.batcher import PackLimits
from forge_cli.engine.cache import ResultCache, default_cache_dir
from forge_cli.engine.caller import Caller, default_retry_policy
from forge_cli.engine.runner import FAILURE_FIELDS, EngineConfig, Runner, result_columns
from forge_cli.engine.stats import RunStats
from forge_cli.errors import UsageError
from forge_cli.models import Failure, Item
from forge_cli.providers.base import Provider
from forge_cli.providers.registry import ProviderSpec, build_provider
from forge_cli.sinks import open_sink, output_paths
from forge_cli.tasks.base import Task
from forge_cli.ui import progress_view, summary_table

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def provider_from(settings: RunSettings) -> Provider:
    return build_provider(
        ProviderSpec(
            name=settings.provider,
            base_url=settings.base_url,
            model=settings.model,
            api_key_env=settings.api_key_env,
            timeout=settings.timeout,
            concurrency=settings.concurrency,
            price_in=settings.price_in,
            price_out=settings.price_out,
        )
    )


def open_cache(settings: RunSettings) -> ResultCache | None:
    if settings.no_cache:
        return None
    directory = settings.cache_dir or default_cache_dir()
    try:
        return ResultCache(directory, ttl=settings.cache_ttl)
    except OSError as exc:
        raise UsageError(f"cannot use cache dir {directory}: {exc.strerror or exc}") from None


def caller_from(settings: RunSettings, provider: Provider, stats: RunStats) -> Caller:
    return Caller(
        provider,
        stats,
        retry=default_retry_policy(settings.retries + 1, settings.backoff),
        breaker_threshold=settings.breaker_threshold,
        breaker_cooldown=settings.breaker_cooldown,
    )


def run_to_files(
    settings: RunSettings,
    *,
    task: Task,
    provider: Provider,
    records: Iterable[Item | Failure],
    source_name: str,
    total_hint: int | None,
    cache: ResultCache | None,
    limits: PackLimits,
    err: Console,
) -> int:
    """Run every record through the engine into results and failures files; print the summary."""
    results_path, failures_path = output_paths(source_name, settings.out_dir, settings.format)
    stats = RunStats(total_hint=total_hint)
    caller = caller_from(settings, provider, stats)
    with (
        open_sink(results_path, settings.format, result_columns(task)) as results,
        open_sink(failures_path, settings.format, FAILURE_FIELDS) as failures,
    ):
        runner = Runner(
            task=task,
            provider=provider,
            caller=caller,
            results=results,
            failures=failures,
            stats=stats,
            cache=cache,
            config=EngineConfig(concurrency=settings.concurrency, limits=limits),
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
                await provider.aclose()

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
        err.print(f"[red]forge: error: {runner.error}[/red]")
        return EXIT_USAGE
    return EXIT_FAILURES if stats.failed else EXIT_OK


def _report(
    settings: RunSettings, stats: RunStats, results: Path, failures: Path, err: Console
) -> None:
    if settings.json_summary:
        summary = {**stats.summary(), "results": str(results), "failures": str(failures)}
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    err.print(summary_table(stats, str(results), str(failures)))
