"""``forge classify``: wire a source, the ticket task, a provider, the cache and the sinks to the engine.

Everything here is assembly; the behaviour lives in the parts. Returns the documented exit code.
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from forge_cli.config import ClassifySettings
from forge_cli.engine.batcher import PackLimits
from forge_cli.engine.cache import ResultCache, default_cache_dir
from forge_cli.engine.caller import Caller, default_retry_policy
from forge_cli.engine.plan import plan_run
from forge_cli.engine.runner import FAILURE_FIELDS, EngineConfig, Runner, result_columns
from forge_cli.engine.stats import RunStats
from forge_cli.errors import UsageError
from forge_cli.providers.base import Provider
from forge_cli.providers.registry import ProviderSpec, build_provider
from forge_cli.sinks import open_sink, output_paths
from forge_cli.sources import Source, open_source
from forge_cli.tasks.tickets import TicketTask
from forge_cli.ui import progress_view, summary_table

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
OFFLINE_NOTICE = (
    "forge: no provider configured: using the built-in offline classifier, a keyword baseline "
    "(see README for its accuracy). Choose a model with --provider."
)


def run_classify(settings: ClassifySettings, err: Console | None = None) -> int:
    err = err or Console(stderr=True, highlight=False)
    source = open_source(
        settings.input,
        fmt=settings.input_format,
        text_field=settings.text_field,
        id_field=settings.id_field,
        max_record_bytes=settings.max_record_bytes,
    )
    task = TicketTask(labels=settings.labels)
    provider = build_provider(
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
    if settings.provider is None:
        err.print(OFFLINE_NOTICE)
    cache = None if settings.no_cache else _open_cache(settings)
    limits = PackLimits(forced=settings.pack)
    try:
        if settings.dry_run:
            return _dry_run(settings, source, task, provider, cache, limits)
        return _run(settings, source, task, provider, cache, limits, err)
    finally:
        if cache is not None:
            cache.close()


def _open_cache(settings: ClassifySettings) -> ResultCache:
    directory = settings.cache_dir or default_cache_dir()
    try:
        return ResultCache(directory, ttl=settings.cache_ttl)
    except OSError as exc:
        raise UsageError(f"cannot use cache dir {directory}: {exc.strerror or exc}") from None


def _dry_run(
    settings: ClassifySettings,
    source: Source,
    task: TicketTask,
    provider: Provider,
    cache: ResultCache | None,
    limits: PackLimits,
) -> int:
    try:
        plan = plan_run(source, task=task, provider=provider, cache=cache, limits=limits)
    finally:
        asyncio.run(provider.aclose())
    if settings.json_summary:
        sys.stdout.write(orjson.dumps({"dry_run": True, **plan.as_dict()}).decode() + "\n")
        return EXIT_OK
    table = Table(title=f"forge classify --dry-run {source.name}", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("provider", f"{provider.name} / {provider.model}")
    for label, value in (
        ("records", plan.records),
        ("unusable records", plan.unusable),
        ("unique texts", plan.unique_texts),
        ("duplicates collapsed", plan.duplicates),
        ("cache hits", plan.cache_hits),
        ("packs / calls", plan.calls),
        ("est. input tokens", plan.tokens_in),
        ("est. output tokens", plan.tokens_out),
    ):
        table.add_row(label, f"{value:,}")
    table.add_row("est. cost", f"${plan.cost_usd:.4f}")
    Console().print(table)
    return EXIT_OK


def _run(
    settings: ClassifySettings,
    source: Source,
    task: TicketTask,
    provider: Provider,
    cache: ResultCache | None,
    limits: PackLimits,
    err: Console,
) -> int:
    results_path, failures_path = output_paths(source.name, settings.out_dir, settings.format)
    stats = RunStats(total_hint=source.count_hint())
    caller = Caller(
        provider,
        stats,
        retry=default_retry_policy(settings.retries + 1, settings.backoff),
        breaker_threshold=settings.breaker_threshold,
        breaker_cooldown=settings.breaker_cooldown,
    )
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
            try:
                async with progress_view(stats, live=not settings.no_progress):
                    await runner.run(source)
            finally:
                await provider.aclose()

        try:
            asyncio.run(main())
        except KeyboardInterrupt:
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
    settings: ClassifySettings, stats: RunStats, results: Path, failures: Path, err: Console
) -> None:
    if settings.json_summary:
        summary = {**stats.summary(), "results": str(results), "failures": str(failures)}
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
    err.print(summary_table(stats, str(results), str(failures)))
