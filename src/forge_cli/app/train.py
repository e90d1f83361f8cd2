"""``forge train``: learn a local classifier from the user's labelled records.

The records are read by classify's own readers (so the text a model learns from is the text it will
see), each ``--field`` names a column of labels, and the result is one model file with the labels,
the training date and what cross-validation measured. Records that cannot be read, and labels a
``--field NAME=L1,L2`` does not allow, are counted and reported, never silently used.
"""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from forge_cli.app.settings import TrainSettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Failure, Item
from forge_cli.io.sources import open_source
from forge_cli.learn.model import LocalModel
from forge_cli.learn.modelfile import save_model
from forge_cli.learn.training import TrainingError, train_model
from forge_cli.tasks.classify.fields import field_from_flag, label_key

__all__ = ["run_train"]

#: the default classify fields, learned when the data has their columns and no --field is given
DEFAULT_FIELDS = ("category", "priority")


@dataclass(slots=True)
class Labelled:
    """What the input gave: texts, their labels per field, and what was left out and why."""

    texts: list[str] = field(default_factory=list)
    labels: dict[str, list[str | None]] = field(default_factory=dict)
    unreadable: list[str] = field(default_factory=list)
    #: per field, labels outside the ``--field NAME=...`` set (count per label)
    outside: dict[str, Counter[str]] = field(default_factory=dict)


def read_labelled(settings: TrainSettings) -> Labelled:
    wanted = [field_from_flag(spec) for spec in settings.field]
    source = open_source(
        settings.input,
        fmt=settings.input_format,
        text_field=settings.text_field,
        id_field=settings.id_field,
        max_record_bytes=settings.max_record_bytes,
    )
    data = Labelled()
    with source:
        names = [f.name for f in wanted] or _default_fields(source.columns, settings.input)
        allowed = {f.name: {label_key(x): x for x in f.labels} for f in wanted if f.labels}
        data.labels = {name: [] for name in names}
        data.outside = {name: Counter() for name in names}
        for record in source:
            if isinstance(record, Failure):
                data.unreadable.append(record.message)
                continue
            assert isinstance(record, Item)
            data.texts.append(record.text)
            for name in names:
                data.labels[name].append(
                    _label(record.extra.get(name), allowed.get(name), data, name)
                )
    if not data.texts:
        raise UsageError(f"{settings.input}: no labelled records to learn from")
    for name, column in data.labels.items():
        if not any(label is not None for label in column):
            raise UsageError(f"{settings.input}: no record has a label in field {name!r}")
    return data


def _default_fields(columns: list[str] | None, where: str) -> list[str]:
    present = [name for name in DEFAULT_FIELDS if columns is None or name in columns]
    if columns is not None and not present:
        shown = ", ".join(columns[:12])
        raise UsageError(f"{where}: name the columns to learn with --field NAME (columns: {shown})")
    return present or list(DEFAULT_FIELDS)


def _label(value: Any, allowed: dict[str, str] | None, data: Labelled, name: str) -> str | None:
    if value is None or isinstance(value, dict | list) or str(value).strip() == "":
        return None
    label = str(value).strip()
    if allowed is None:
        return label
    known = allowed.get(label_key(label))
    if known is None:
        data.outside[name][label] += 1
    return known


def run_train(settings: TrainSettings, err: Console | None = None) -> int:
    err = err or Console(stderr=True, highlight=False)
    started = time.perf_counter()
    data = read_labelled(settings)
    for line in data.unreadable[:5]:
        err.print(f"forge: skipped {line}", markup=False)
    if len(data.unreadable) > 5:
        err.print(f"forge: skipped {len(data.unreadable) - 5} more unreadable records")
    for name, counts in data.outside.items():
        if counts:
            shown = ", ".join(f"{label!r} ({n})" for label, n in counts.most_common(5))
            err.print(
                f"forge: {name}: left out {sum(counts.values())} records with labels outside --field: {shown}",
                markup=False,
            )
    output = settings.output or Path(Path(settings.input).name.split(".")[0] + ".model.json")
    try:
        model = _fit(settings, data, err)
    except TrainingError as exc:
        raise UsageError(f"{settings.input}: {exc}") from None
    size = save_model(model, output)
    seconds = time.perf_counter() - started
    if settings.json_summary:
        print(orjson.dumps(_summary(model, output, size, seconds, data)).decode())
    elif not settings.quiet:
        _report(model, output, size, seconds, err)
    return 0


def _fit(settings: TrainSettings, data: Labelled, err: Console) -> LocalModel:
    steps = len(data.labels) * (settings.folds + 1)
    with Progress(
        TextColumn("training {task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} fits"),
        TimeElapsedColumn(),
        console=err,
        disable=settings.no_progress or settings.quiet,
        transient=True,
    ) as bar:
        job = bar.add_task("", total=steps)
        done: dict[str, int] = {}

        def progress(name: str, step: int, total: int) -> None:
            done[name] = step
            bar.update(job, description=name, completed=sum(done.values()))

        return train_model(
            data.texts,
            data.labels,
            folds=settings.folds,
            progress=progress,
            source=Path(settings.input).name,
        )


def _summary(
    model: LocalModel, output: Path, size: int, seconds: float, data: Labelled
) -> dict[str, Any]:
    return {
        "model": str(output),
        "bytes": size,
        "records": model.trained_on,
        "unreadable": len(data.unreadable),
        "seconds": round(seconds, 2),
        "terms": len(model.vocabulary),
        "fields": {
            f.name: {
                "labels": f.labels,
                "cv_accuracy": round(f.cv_accuracy, 4),
                "majority": round(f.majority, 4),
                "coverage": [
                    {"threshold": t, "share": round(s, 4), "accuracy": round(a, 4)}
                    for t, s, a in f.coverage
                ],
            }
            for f in model.fields
        },
    }


def _report(model: LocalModel, output: Path, size: int, seconds: float, err: Console) -> None:
    table = Table(title=f"forge train: {model.trained_on:,} records", title_justify="left")
    for head in ("field", "labels", "accuracy (cross-validated)", "commonest label", "sure ≥ 0.9"):
        table.add_column(head)
    for f in model.fields:
        _, share, acc = next(c for c in f.coverage if c[0] == 0.9)
        sure = f"{share:.0%} of records, {acc:.0%} right" if share else "none"
        table.add_row(f.name, str(len(f.labels)), f"{f.cv_accuracy:.1%}", f"{f.majority:.1%}", sure)
    err.print(table)
    err.print(f"model   {output} ({size / 1024:,.0f} KB, {len(model.vocabulary):,} terms)")
    err.print(f"time    {seconds:.1f} s")
    err.print(
        f"use it  forge classify FILE --provider local:{output}   "
        f"(or --cascade {output} in front of a paid --provider)"
    )
