"""What a cascade would score: a trained model answering the records it is sure of, a set of
answers (a results file, or a variant eval ran) answering the rest, at each threshold.

Why from answers already paid for: one run of the chain over the gold records is enough to know what
every threshold would give, so the threshold is chosen on data, not guessed, and choosing costs
nothing more. The pick is the cheapest threshold (fewest records sent to the chain) whose accuracy,
averaged over the scored fields, reaches the target (by default, the chain's own accuracy).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from rich.console import Console
from rich.table import Table as RichTable

from forge_cli.app.evaluation.join import FieldSpec, score
from forge_cli.app.evaluation.report import Entry
from forge_cli.app.evaluation.tables import Table
from forge_cli.app.settings import EvalSettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Item
from forge_cli.io.sources import open_source
from forge_cli.learn.model import LocalModel
from forge_cli.learn.modelfile import load_model

__all__ = ["CascadeReport", "Step", "analyse", "cascade_of", "print_cascade"]

#: thresholds tried; 1.01: the model answers nothing (the chain alone)
THRESHOLDS = (0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.99, 1.01)


@dataclass(frozen=True, slots=True)
class Step:
    threshold: float
    #: records the model answered, and the rest (sent to the chain)
    local: int
    chain: int
    #: per field: (accuracy of the model on its records, of the chain on the rest, overall)
    accuracy: dict[str, tuple[float | None, float | None, float]]

    @property
    def mean(self) -> float:
        return sum(a[2] for a in self.accuracy.values()) / max(1, len(self.accuracy))

    def as_dict(self) -> dict[str, Any]:
        return {
            "threshold": self.threshold,
            "local": self.local,
            "chain": self.chain,
            "accuracy": {
                name: {"local": a[0], "chain": a[1], "overall": round(a[2], 4)}
                for name, a in self.accuracy.items()
            },
            "mean_accuracy": round(self.mean, 4),
        }


@dataclass(slots=True)
class CascadeReport:
    model: str
    chain: str
    target: float
    steps: list[Step] = field(default_factory=list)
    #: per record sent to the chain: dollars when priced, else tokens
    chain_cost: float | None = None
    cost_unit: str = "tokens"

    @property
    def pick(self) -> Step | None:
        """The threshold that sends the fewest records to the chain and still meets the target."""
        meeting = [s for s in self.steps if s.mean >= self.target - 1e-9]
        return min(meeting, key=lambda s: (s.chain, -s.threshold)) if meeting else None

    def as_dict(self) -> dict[str, Any]:
        pick = self.pick
        return {
            "model": self.model,
            "chain": self.chain,
            "target_accuracy": round(self.target, 4),
            "chain_cost_per_record": self.chain_cost,
            "cost_unit": self.cost_unit,
            "steps": [s.as_dict() for s in self.steps],
            "pick": pick.threshold if pick is not None else None,
        }


def analyse(
    model: LocalModel,
    texts: Mapping[str, str],
    gold: Table,
    chain_rows: Mapping[str, Mapping[str, Any]],
    specs: Sequence[FieldSpec],
    *,
    model_name: str,
    chain_name: str,
    target: float | None,
) -> CascadeReport:
    """Every threshold's accuracy per stage; ``texts`` are the gold records' texts by id."""
    ids = [rid for rid in gold.rows if rid in texts]
    names = [s.name for s in specs if model.field(s.name) is not None and not s.multi]
    prediction = model.predict([texts[rid] for rid in ids])
    local_rows = {
        rid: {name: prediction.labels[name][n] for name in names} for n, rid in enumerate(ids)
    }
    steps = []
    for t in THRESHOLDS:
        sure_flags = prediction.sure(t, names)
        sure = {rid for n, rid in enumerate(ids) if sure_flags[n]}
        combined = {
            rid: local_rows[rid] if rid in sure else chain_rows.get(rid) for rid in gold.rows
        }
        accuracy: dict[str, tuple[float | None, float | None, float]] = {}
        for spec in (s for s in specs if s.name in names):
            overall = _accuracy(spec, gold, combined)
            accuracy[spec.name] = (
                _accuracy(spec, _subset(gold, sure), local_rows) if sure else None,
                _accuracy(spec, _subset(gold, set(gold.rows) - sure), chain_rows)
                if len(sure) < len(gold.rows)
                else None,
                overall if overall is not None else 0.0,
            )
        steps.append(Step(t, len(sure), len(gold.rows) - len(sure), accuracy))
    chain_alone = steps[-1].mean
    return CascadeReport(
        model=model_name,
        chain=chain_name,
        target=chain_alone if target is None else target,
        steps=steps,
    )


def cascade_of(
    settings: EvalSettings, gold: Table, entry: Entry, rows: Mapping[str, Mapping[str, Any]]
) -> CascadeReport:
    """The cascade of ``--cascade MODEL`` in front of one scored set of answers."""
    assert settings.cascade is not None
    if settings.gold == "-":
        raise UsageError("--cascade reads the gold texts again: give the gold as a file, not -")
    model = load_model(settings.cascade)
    texts: dict[str, str] = {}
    with open_source(
        settings.gold,
        fmt=settings.input_format,
        text_field=settings.text_field,
        id_field=settings.id_field,
    ) as source:
        for record in source:
            if isinstance(record, Item):
                texts.setdefault(record.id, record.text)
    specs = [f.spec for f in entry.fields]
    if not any(model.field(s.name) is not None for s in specs):
        trained = ", ".join(f.name for f in model.fields)
        scored = ", ".join(s.name for s in specs) or "none"
        raise UsageError(
            f"--cascade {settings.cascade}: the model answers {trained}; the fields scored are {scored}"
        )
    report = analyse(
        model,
        texts,
        gold,
        rows,
        specs,
        model_name=str(settings.cascade),
        chain_name=entry.name,
        target=settings.target_accuracy,
    )
    cost = entry.usage.cost_per_record if entry.usage is not None else None
    if cost is not None:
        report.chain_cost, report.cost_unit = cost, "usd"
    elif entry.usage is not None:
        report.chain_cost = entry.usage.tokens_per_record
    return report


def _subset(gold: Table, ids: set[str]) -> Table:
    return Table(gold.name, {rid: row for rid, row in gold.rows.items() if rid in ids})


def _accuracy(
    spec: FieldSpec, gold: Table, rows: Mapping[str, Mapping[str, Any] | None]
) -> float | None:
    result = score(spec, gold, {rid: row for rid, row in rows.items() if row is not None})
    return None if result is None else result.score.accuracy


def print_cascade(report: CascadeReport, out: Console) -> None:
    fields = list(report.steps[0].accuracy) if report.steps else []
    table = RichTable(
        title=f"cascade: {report.model} first, then {report.chain}", title_justify="left"
    )
    for head in ("threshold", "answered locally", "sent to chain", *fields, "mean"):
        table.add_column(head, justify="right")
    pick = report.pick
    for s in report.steps:
        label = "chain alone" if s.threshold > 1 else f"{s.threshold:g}"
        cells = [_cell(s.accuracy[f]) for f in fields]
        total = s.local + s.chain
        style = "bold green" if s is pick else ""
        table.add_row(
            label,
            f"{s.local / total:.0%}" if total else "-",
            f"{s.chain / total:.0%}" if total else "-",
            *cells,
            f"{s.mean:.3f}",
            style=style,
        )
    out.print(table)
    if pick is None:
        out.print(f"no threshold reaches a mean accuracy of {report.target:.3f}")
        return
    saved = pick.local / max(1, pick.local + pick.chain)
    out.print(
        f"pick: --cascade-threshold {pick.threshold:g} (mean accuracy {pick.mean:.3f} >= target "
        f"{report.target:.3f}; {saved:.0%} of records answered locally, that share of the chain's "
        "cost saved)"
        if pick.threshold <= 1
        else f"pick: no cascade (only the chain alone reaches {report.target:.3f})"
    )


def _cell(accuracy: tuple[float | None, float | None, float]) -> str:
    local, chain, overall = accuracy
    parts = "/".join("-" if a is None else f"{a:.2f}" for a in (local, chain))
    return f"{overall:.3f} ({parts})"
