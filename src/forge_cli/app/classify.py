"""``forge classify``: wire a source, the ticket task, a provider, the cache and the sinks to the engine.

Everything here is assembly; the behaviour lives in the parts. Returns the documented exit code.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import orjson
from rich.console import Console
from rich.table import Table

from forge_cli.app.assemble import Assembly, assemble, chain_configs
from forge_cli.app.examples import read_examples
from forge_cli.app.run import EXIT_OK, run_to_files
from forge_cli.app.settings import ClassifySettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.engine.plan import plan_run
from forge_cli.io.sources import Source, open_source
from forge_cli.providers.catalog.batch_offers import batch_prices
from forge_cli.providers.registry import LOCAL
from forge_cli.providers.settings import parse_chain
from forge_cli.tasks.classify.fields import field_from_flag, field_from_table
from forge_cli.tasks.classify.task import TicketTask, classification_fields

OFFLINE_NOTICE = (
    "forge: no provider configured: using the built-in offline classifier, a keyword baseline "
    "(see README for its accuracy). Choose a model with --provider; with labelled tickets, "
    "forge train makes a far better free one (--provider local:MODEL)."
)


def trained_model_path(settings: ClassifySettings) -> Path | None:
    """The model file of ``--cascade``, or of a ``local:FILE`` member of the chain."""
    if settings.cascade is not None:
        return settings.cascade
    for name, model in parse_chain(settings.provider) if settings.provider else ():
        if name == LOCAL and model:
            return Path(model)
    return None


def make_task(
    settings: ClassifySettings, warn: Callable[[str], None] = lambda line: None
) -> TicketTask:
    """The classification the settings ask for: --field flags, else [classify.fields] tables of
    forge.toml, else ticket triage (with --labels as its categories); with --examples, the labelled
    records a few of which each pack is shown (``warn`` hears about the unusable ones)."""
    fields = None
    if settings.field:
        fields = [field_from_flag(spec) for spec in settings.field]
    elif settings.fields:
        fields = [field_from_table(name, table) for name, table in settings.fields.items()]
    elif (trained := trained_model_path(settings)) is not None:
        # a trained model's fields are the run's, unless the user names others
        from forge_cli.app.local_model import model_fields
        from forge_cli.learn.modelfile import load_model

        fields = model_fields(load_model(trained))
    if fields and settings.labels:
        raise UsageError(
            "--labels sets the default category field; with --field or [classify.fields], "
            "give each field its labels (--field category=A,B)"
        )
    resolved = classification_fields(settings.labels, None, settings.label_descriptions, fields)
    examples = None
    if settings.examples is not None:
        if settings.examples == "-" and settings.input == "-":
            raise UsageError("--examples - and the input - cannot both read stdin")
        examples = read_examples(
            settings.examples,
            resolved,
            per_label=settings.examples_per_label,
            budget=settings.examples_tokens,
            text_field=settings.text_field,
            max_record_bytes=settings.max_record_bytes,
            redact=settings.redact,
            warn=warn,
        )
    return TicketTask(instructions=settings.instructions, fields=resolved, examples=examples)


def run_classify(settings: ClassifySettings, err: Console | None = None) -> int:
    err = err or Console(stderr=True, highlight=False)
    source = open_source(
        settings.input,
        fmt=settings.input_format,
        text_field=settings.text_field,
        id_field=settings.id_field,
        max_record_bytes=settings.max_record_bytes,
    )
    task = make_task(settings, warn=lambda line: err.print(f"forge: warning: {line}", markup=False))
    if settings.provider is None and not settings.quiet:
        err.print(OFFLINE_NOTICE)
    if settings.batch and not settings.dry_run:
        from forge_cli.app.batch.flow import BatchRun, run_batch

        def records() -> Iterable[Item | Failure]:
            again = open_source(
                settings.input,
                fmt=settings.input_format,
                text_field=settings.text_field,
                id_field=settings.id_field,
                max_record_bytes=settings.max_record_bytes,
            )
            return _redacted(again, settings)

        run = BatchRun(settings, "classify", task, records, source.name, None, err, settings.pack)
        return run_batch(run)
    if not settings.dry_run:
        return run_to_files(
            settings,
            task=task,
            records=_redacted(source, settings),
            source_name=source.name,
            total_hint=source.count_hint(),
            err=err,
            pack=settings.pack,
        )
    with assemble(
        settings, task, pack=settings.pack, notify=lambda line: err.print(f"forge: {line}")
    ) as assembly:
        return _dry_run(settings, source, assembly)


def _dry_run(settings: ClassifySettings, source: Source, assembly: Assembly) -> int:
    chain = assembly.chain
    try:
        plan = plan_run(
            source,
            task=assembly.task,
            chain=chain,
            cache=assembly.cache,
            limits=assembly.limits,
        )
    finally:
        asyncio.run(chain.aclose())
    batch_cost = _batch_cost(settings, assembly, plan.tokens_in, plan.tokens_out)
    if settings.json_summary:
        summary = {"dry_run": True, **plan.as_dict(), "cost_usd_batch": batch_cost}
        sys.stdout.write(orjson.dumps(summary).decode() + "\n")
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
    batch = f"${batch_cost:.4f}" if batch_cost is not None else "no batch API"
    table.add_row("est. cost, --batch", batch)
    Console().print(table)
    return EXIT_OK


def _batch_cost(
    settings: ClassifySettings, assembly: Assembly, tokens_in: int, tokens_out: int
) -> float | None:
    """The dry run's estimate at the first provider's batch prices; None without a batch API."""
    provider = assembly.chain.members[0].provider
    prices = batch_prices(chain_configs(settings)[0].preset, provider.price_in, provider.price_out)
    if prices is None:
        return None
    return round((tokens_in * prices[0] + tokens_out * prices[1]) / 1e6, 6)


def _redacted(source: Source, settings: ClassifySettings) -> Iterable[Item | Failure]:
    if settings.redact == "none":
        return source
    return redacting(source, pii=settings.redact == "pii")


def redacting(records: Iterable[Item | Failure], *, pii: bool) -> Iterator[Item | Failure]:
    """Redact each ticket's text before it reaches the cache key or a provider."""
    from forge_cli.redact import redact

    for record in records:
        if isinstance(record, Item):
            record.text = redact(record.text, pii=pii).text
        yield record
