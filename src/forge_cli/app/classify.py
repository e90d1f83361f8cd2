"""``forge classify``: wire a source, the ticket task, a provider, the cache and the sinks to the engine.

Everything here is assembly; the behaviour lives in the parts. Returns the documented exit code.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterable, Iterator

import orjson
from rich.console import Console
from rich.table import Table

from forge_cli.app.run import EXIT_OK, build_chain, open_cache, run_to_files
from forge_cli.app.settings import ClassifySettings
from forge_cli.core.models import Failure, Item
from forge_cli.engine.batcher import PackLimits
from forge_cli.engine.cache import ResultCache
from forge_cli.engine.calling.chain import Chain
from forge_cli.engine.plan import plan_run
from forge_cli.engine.stats import RunStats
from forge_cli.io.sources import Source, open_source
from forge_cli.tasks.classify.task import TicketTask

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
    task = TicketTask(
        labels=settings.labels,
        instructions=settings.instructions,
        descriptions=settings.label_descriptions,
    )
    chain = build_chain(settings, RunStats(), notify=lambda line: err.print(f"forge: {line}"))
    if settings.provider is None:
        err.print(OFFLINE_NOTICE)
    cache = open_cache(settings)
    limits = PackLimits(forced=settings.pack)
    try:
        if settings.dry_run:
            return _dry_run(settings, source, task, chain, cache, limits)
        return _run(settings, source, task, chain, cache, limits, err)
    finally:
        if cache is not None:
            cache.close()


def _dry_run(
    settings: ClassifySettings,
    source: Source,
    task: TicketTask,
    chain: Chain,
    cache: ResultCache | None,
    limits: PackLimits,
) -> int:
    try:
        plan = plan_run(source, task=task, chain=chain, cache=cache, limits=limits)
    finally:
        asyncio.run(chain.aclose())
    if settings.json_summary:
        sys.stdout.write(orjson.dumps({"dry_run": True, **plan.as_dict()}).decode() + "\n")
        return EXIT_OK
    table = Table(title=f"forge classify --dry-run {source.name}", show_header=False, box=None)
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row("provider", f"{chain.label} / {chain.model_label}")
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
    chain: Chain,
    cache: ResultCache | None,
    limits: PackLimits,
    err: Console,
) -> int:
    records = (
        redacting(source, pii=settings.redact == "pii") if settings.redact != "none" else source
    )
    return run_to_files(
        settings,
        task=task,
        chain=chain,
        records=records,
        source_name=source.name,
        total_hint=source.count_hint(),
        cache=cache,
        limits=limits,
        err=err,
    )


def redacting(records: Iterable[Item | Failure], *, pii: bool) -> Iterator[Item | Failure]:
    """Redact each ticket's text before it reaches the cache key or a provider."""
    from forge_cli.redact import redact

    for record in records:
        if isinstance(record, Item):
            record.text = redact(record.text, pii=pii).text
        yield record
