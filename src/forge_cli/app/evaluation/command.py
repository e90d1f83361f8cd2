"""``forge eval``: read the gold, score a results file and/or run variants, report.

Scoring a results file calls nothing and builds no provider: it reads files and prices rows. Only
variants (or, with neither ``--results`` nor ``--variant``, the one variant eval's own flags make)
run classify. Returns the exit code: 0 scored, 2 usage or input error (also a variant's run stopped
because no provider of its chain could answer), 130 interrupted.
"""

from __future__ import annotations

import contextlib
import io
import sys
from collections.abc import Callable, Mapping
from contextlib import AbstractAsyncContextManager
from dataclasses import replace
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console

from forge_cli.app.config_files import load_files
from forge_cli.app.evaluation.cascade import cascade_of, print_cascade
from forge_cli.app.evaluation.join import FieldSpec, Request, choose_fields, coverage, score
from forge_cli.app.evaluation.report import Entry, document, print_report, write_outputs
from forge_cli.app.evaluation.tables import Table, answer_columns, failures_path_for, read_table
from forge_cli.app.evaluation.usage import chain_priced, row_pricer, usage_of_rows, usage_of_run
from forge_cli.app.evaluation.variants import (
    Prepared,
    Ran,
    Variant,
    parse_variant,
    prepare,
    run_prepared,
)
from forge_cli.app.run import EXIT_INTERRUPTED, EXIT_OK, EXIT_USAGE
from forge_cli.app.settings import ClassifySettings, EvalSettings
from forge_cli.core.errors import UsageError
from forge_cli.engine.stats import RunStats
from forge_cli.ui.live import progress_view

__all__ = ["run_eval"]

#: settings of eval that are eval's own, never handed to a variant's classify settings
_EVAL_ONLY = frozenset(
    {
        "gold",
        "results",
        "fields",
        "maps",
        "multi",
        "variants",
        "json_output",
        "config_files",
        "cascade",
        "target_accuracy",
    }
)


def run_eval(settings: EvalSettings, err: Console) -> int:
    """Score every set of answers asked for; print, write eval.json/eval.csv/SVGs; the exit code."""
    columns, multi = _columns(settings.fields)
    request = Request(columns, dict(settings.maps), frozenset(settings.multi) | multi)
    variants = _variants(settings)
    if settings.gold == "-" and settings.results == "-":
        raise UsageError("the gold and the results cannot both come from stdin")
    replay = sys.stdin.buffer.read() if settings.gold == "-" else None
    gold = read_table(
        settings.gold,
        id_field=settings.id_field,
        text_field=settings.text_field,
        fmt=settings.input_format,
        stdin=io.BytesIO(replay) if replay is not None else None,
    )
    if not gold.rows:
        raise UsageError(f"{gold.name}: no record could be read")

    def say(line: str) -> None:
        err.print(f"forge eval: {line}", markup=False, highlight=False)

    def inform(line: str) -> None:  # what -q leaves out (warnings go through ``say``)
        if not settings.quiet:
            say(line)

    if gold.unreadable:
        say(f"{gold.name}: {gold.unreadable:,} records could not be read (not scored)")
    if gold.duplicates:
        say(
            f"{gold.name}: {gold.duplicates:,} records repeat an id already seen (the first is kept)"
        )

    entries: list[Entry] = []
    answers: dict[str, Mapping[str, Mapping[str, Any]]] = {}
    if settings.results is not None:
        entries.append(_score_results(settings, gold, request, answers))
        if any(v.name == entries[0].name for v in variants):
            raise UsageError(f"--variant {entries[0].name}: the results file goes by that name")
    if variants or settings.results is None:
        prepared = _prepare(settings, variants or [Variant("default", {})])
        if not variants:  # the one run eval's own flags make: named after what answers
            prepared[0].variant = Variant(prepared[0].settings.provider or "offline", {})
        specs = {
            p.variant.name: choose_fields(
                p.task.answer_columns, gold, request, where=f"variant {p.variant.name}"
            )
            for p in prepared
        }
        for p in prepared:
            if p.settings.provider is None:
                inform(f"{p.variant.name}: no provider configured: the offline keyword baseline")
            fields, notes = specs[p.variant.name]
            ran = _run(p, settings, gold, fields, replay, say, inform)
            if ran.interrupted:
                say(f"interrupted during {p.variant.name}; nothing written")
                return EXIT_INTERRUPTED
            entries.append(_variant_entry(ran, gold, fields, notes))
            answers[entries[-1].name] = ran.rows

    out_dir = settings.out_dir or Path(".")
    title = f"forge eval {Path(gold.name).name}"

    cascades = [
        cascade_of(settings, gold, entry, answers[entry.name])
        for entry in entries
        if settings.cascade is not None and entry.name in answers
    ]

    def doc() -> dict[str, Any]:
        body = document(gold.name, settings.id_field, len(gold.rows), entries)
        if cascades:
            body["cascades"] = [c.as_dict() for c in cascades]
        return body

    written = write_outputs(out_dir, doc, entries, title)
    # with --json, stdout is for the document: the tables go to stderr, as wide as on stdout
    tables = _tables(stderr=settings.json_output)
    print_report(tables, err, entries, quiet=settings.quiet)
    for report in cascades:
        print_cascade(report, tables)
    inform("wrote " + ", ".join(str(p) for p in written))
    if settings.json_output:
        sys.stdout.write(orjson.dumps(doc()).decode() + "\n")
    return EXIT_USAGE if any(e.error for e in entries) else EXIT_OK


def _tables(*, stderr: bool) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, width=None if stream.isatty() else 120)


def _variants(settings: EvalSettings) -> list[Variant]:
    # what to score is said on the command line: a FORGE_RESULTS left in the environment must not
    # pick the file, and forge.toml would join a list of variants with commas
    for name, flag in (("results", "--results"), ("variants", "--variant")):
        source = settings.setting_sources.get(name, "flag")
        if getattr(settings, name) and not source.startswith("flag"):
            where = source.removeprefix("env ")
            raise UsageError(f"{flag} is given on the command line only, not in {where}")
    variants = [parse_variant(text) for text in settings.variants]
    seen: set[str] = set()
    for v in variants:
        if v.name in seen:
            raise UsageError(f"--variant {v.name}: two variants have that name")
        seen.add(v.name)
    return variants


def _columns(fields: tuple[str, ...]) -> tuple[tuple[str, ...], frozenset[str]]:
    """The answer columns to score, and which of them hold several labels.

    ``--field queue=A,B`` both names the column to score and defines the field for the variants,
    as ``forge classify --field`` does; ``--field queue`` only names the column.
    """
    columns = []
    multi = set()
    for spec in fields:
        name, eq, _ = spec.partition("=")
        if eq and name.strip().endswith("[]"):
            multi.add(name.strip().removesuffix("[]").strip())
        columns.append(name.strip().removesuffix("[]").strip())
    return tuple(columns), frozenset(multi)


def _base_flags(settings: EvalSettings) -> dict[str, Any]:
    """The flags typed on eval's command line that classify knows: every variant starts there,
    with the fields ``--field NAME=L1,L2`` defines."""
    known = set(ClassifySettings.model_fields) - _EVAL_ONLY
    flags = {
        name: getattr(settings, name)
        for name, source in settings.setting_sources.items()
        if source.startswith("flag") and name in known
    }
    definitions = tuple(spec for spec in settings.fields if "=" in spec)
    if definitions:
        flags["field"] = definitions
    return flags


def _prepare(settings: EvalSettings, variants: list[Variant]) -> list[Prepared]:
    loaded = load_files(settings.config_files)
    base = _base_flags(settings)
    return [
        prepare(
            variant,
            gold=settings.gold,
            id_field=settings.id_field,
            input_format=settings.input_format,
            base_flags=base,
            loaded=loaded,
        )
        for variant in variants
    ]


def _run(
    prepared: Prepared,
    settings: EvalSettings,
    gold: Table,
    fields: list[FieldSpec],
    replay: bytes | None,
    say: Callable[[str], None],
    inform: Callable[[str], None],
) -> Ran:
    def view(stats: RunStats) -> AbstractAsyncContextManager[None]:
        stats.total_hint = len(gold.rows)
        if settings.quiet:
            return contextlib.nullcontext()
        return progress_view(stats, live=not settings.no_progress)

    name = prepared.variant.name
    inform(f"{name}: classifying {len(gold.rows):,} records ({prepared.variant.describe()})")
    return run_prepared(
        prepared,
        hide={spec.gold for spec in fields},
        stdin=replay,
        notify=lambda line: say(f"{name}: {line}"),
        view=view,
    )


def _variant_entry(ran: Ran, gold: Table, fields: list[FieldSpec], notes: list[str]) -> Entry:
    answered = [ran.rows[rid] for rid in gold.rows if rid in ran.rows]
    usage = usage_of_run(
        ran.stats, answered, len(gold.rows), priced=chain_priced(ran.prepared.settings)
    )
    entry = Entry(
        name=ran.prepared.variant.name,
        kind="variant",
        origin=ran.prepared.variant.describe(),
        coverage=coverage(gold, ran.rows, ran.failed),
        usage=usage,
        notes=list(notes),
        error=ran.error,
    )
    _score_fields(entry, fields, gold, ran.rows)
    return entry


def _score_results(
    settings: EvalSettings,
    gold: Table,
    request: Request,
    answers: dict[str, Mapping[str, Mapping[str, Any]]],
) -> Entry:
    path = settings.results
    assert path is not None
    results = read_table(path, id_field=None)
    failures = failures_path_for(path)
    failed = set(read_table(str(failures), id_field=None).rows) if failures is not None else set()
    cover = coverage(gold, results.rows, failed)
    if not cover.answered and not cover.failed:
        raise UsageError(_no_overlap(gold, results, settings.id_field))
    specs, notes = choose_fields(answer_columns(results.columns), gold, request, where=results.name)
    answered = [results.rows[rid] for rid in gold.rows if rid in results.rows]
    usage, usage_notes = usage_of_rows(answered, len(gold.rows), row_pricer(settings))
    if failures is not None:
        notes.append(f"failed records read from {failures}")
    if results.unreadable:
        notes.append(
            f"{results.unreadable:,} rows of {results.name} could not be read or have no id"
        )
    if results.duplicates:
        notes.append(
            f"{results.duplicates:,} rows of {results.name} repeat an id (the first is kept)"
        )
    entry = Entry(
        name=_entry_name(results.name),
        kind="results",
        origin=results.name,
        coverage=cover,
        usage=usage,
        notes=notes + usage_notes,
    )
    _score_fields(entry, specs, gold, results.rows)
    answers[entry.name] = results.rows
    return entry


def _entry_name(path: str) -> str:
    """``out/tickets.results.jsonl`` -> ``tickets``: the name the user knows the run by."""
    name = Path(path).name
    stem = name.split(".results.")[0] if ".results." in name else name.rsplit(".", 1)[0]
    return stem or "results"


def _score_fields(
    entry: Entry,
    specs: list[FieldSpec],
    gold: Table,
    rows: Mapping[str, Mapping[str, Any]],
) -> None:
    for spec in specs:
        if not spec.multi and any(isinstance(row.get(spec.name), list) for row in rows.values()):
            spec = replace(spec, multi=True)  # the answers are lists: a multi-label field
        result = score(spec, gold, rows)
        if result is None:
            entry.notes.append(f"{spec.name}: no gold record has a {spec.gold!r} value; not scored")
        else:
            entry.fields.append(result)


def _no_overlap(gold: Table, results: Table, id_field: str) -> str:
    def sample(table: Table) -> str:
        return ", ".join(repr(rid) for rid in list(table.rows)[:3]) or "none"

    return (
        f"no id of {gold.name} is in {results.name} or its failures: gold ids (--id-field "
        f"{id_field}) look like {sample(gold)}, result ids like {sample(results)}"
    )
