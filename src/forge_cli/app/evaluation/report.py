"""What eval shows and writes: the tables in the terminal, eval.json, eval.csv and the SVG matrices.

One ``Entry`` per set of answers scored (a results file, or a variant's run); the comparison table
has one row per entry and field, so choosing a model or a pack size is reading down one column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from rich.console import Console
from rich.table import Table
from rich.text import Text

from forge_cli.app.evaluation.join import Coverage, FieldResult
from forge_cli.app.evaluation.metrics import MultiScore, SingleScore
from forge_cli.app.evaluation.usage import Usage
from forge_cli.ui.confusion import confusion_table, write_confusion_svg

__all__ = ["CSV_COLUMNS", "Entry", "document", "print_report", "write_outputs"]

CSV_COLUMNS = (
    "variant",
    "field",
    "gold_field",
    "kind",
    "records",
    "answered",
    "valid_pct",
    "accuracy",
    "macro_f1",
    "micro_f1",
    "calls",
    "tokens_per_record",
    "cost_per_record_usd",
    "latency_p50_ms",
    "cache_hits",
    "failed",
    "missing",
)


@dataclass(slots=True)
class Entry:
    """One set of answers, scored: from a results file or from a variant's run."""

    name: str
    #: "results" or "variant"
    kind: str
    #: the results file, or the variant's settings as given
    origin: str
    coverage: Coverage
    usage: Usage
    fields: list[FieldResult] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    #: the error that stopped a variant's run early
    error: str | None = None
    #: field name -> the SVG written for it
    images: dict[str, Path] = field(default_factory=dict)


def _valid_pct(result: FieldResult) -> float:
    s = result.score
    return 100.0 * s.answered / s.records if s.records else 0.0


def _field_dict(result: FieldResult, image: Path | None) -> dict[str, Any]:
    s = result.score
    out: dict[str, Any] = {
        "field": result.spec.name,
        "gold_field": result.spec.gold,
        "kind": "multi" if result.spec.multi else "single",
        "records": s.records,
        "answered": s.answered,
        "valid_pct": round(_valid_pct(result), 2),
        "accuracy": round(s.accuracy, 6),
        "macro_f1": round(s.macro_f1, 6),
        "no_gold": result.no_gold,
        "compared": "exact" if result.note else "normalised",
        "note": result.note,
        "labels": [
            {
                "label": ls.label,
                "precision": round(ls.precision, 6),
                "recall": round(ls.recall, 6),
                "f1": round(ls.f1, 6),
                "support": ls.support,
                "predicted": ls.predicted,
            }
            for ls in s.labels
        ],
    }
    if isinstance(s, MultiScore):
        out["micro_f1"] = round(s.micro_f1, 6)
        out["exact_matches"] = s.exact_matches
    else:
        c = s.confusion
        out["correct"] = s.correct
        out["confusion"] = {
            "rows": list(c.rows),
            "columns": list(c.columns),
            "counts": [list(r) for r in c.counts],
        }
        out["svg"] = str(image) if image is not None else None
    return out


def document(gold: str, id_field: str, records: int, entries: Sequence[Entry]) -> dict[str, Any]:
    """Everything eval found, as eval.json holds it (and ``--json`` prints it)."""
    return {
        "gold": gold,
        "id_field": id_field,
        "records": records,
        "entries": [
            {
                "name": e.name,
                "kind": e.kind,
                "origin": e.origin,
                "coverage": {
                    "gold": e.coverage.gold,
                    "answered": e.coverage.answered,
                    "failed": e.coverage.failed,
                    "missing": e.coverage.missing,
                    "extra": e.coverage.extra,
                },
                "usage": e.usage.as_dict(),
                "error": e.error,
                "notes": e.notes,
                "fields": [_field_dict(f, e.images.get(f.spec.name)) for f in e.fields],
            }
            for e in entries
        ],
    }


def csv_rows(entries: Sequence[Entry]) -> list[dict[str, Any]]:
    rows = []
    for e in entries:
        u = e.usage
        for f in e.fields:
            s = f.score
            rows.append(
                {
                    "variant": e.name,
                    "field": f.spec.name,
                    "gold_field": f.spec.gold,
                    "kind": "multi" if f.spec.multi else "single",
                    "records": s.records,
                    "answered": s.answered,
                    "valid_pct": round(_valid_pct(f), 2),
                    "accuracy": round(s.accuracy, 6),
                    "macro_f1": round(s.macro_f1, 6),
                    "micro_f1": round(s.micro_f1, 6) if isinstance(s, MultiScore) else "",
                    "calls": "" if u.calls is None else u.calls,
                    "tokens_per_record": round(u.tokens_per_record, 2),
                    "cost_per_record_usd": "" if u.cost is None else u.cost_per_record,
                    "latency_p50_ms": ""
                    if u.latency_p50_ms is None
                    else round(u.latency_p50_ms, 1),
                    "cache_hits": u.cache_hits,
                    "failed": e.coverage.failed,
                    "missing": e.coverage.missing,
                }
            )
    return rows


def _file_part(name: str) -> str:
    return re.sub(r"[^\w.\-]+", "_", name).strip("._") or "field"


def write_outputs(
    out_dir: Path, doc_of: Callable[[], dict[str, Any]], entries: Sequence[Entry], title: str
) -> list[Path]:
    """Write the SVG matrices, then eval.json and eval.csv (``doc_of`` builds the document once
    the image paths are known); returns the paths written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for e in entries:
        for f in e.fields:
            if isinstance(f.score, SingleScore):
                c = f.score.confusion
                path = out_dir / f"confusion-{_file_part(e.name)}-{_file_part(f.spec.name)}.svg"
                subtitle = (
                    f"{e.name}: {f.spec.name} vs gold {f.spec.gold}; accuracy "
                    f"{f.score.accuracy:.1%}, macro-F1 {f.score.macro_f1:.3f}; shade: share of the gold row"
                )
                e.images[f.spec.name] = write_confusion_svg(
                    path,
                    f"{title}: {e.name}, {f.spec.name}",
                    c.rows,
                    c.columns,
                    c.counts,
                    subtitle=subtitle,
                )
                written.append(path)
    json_path = out_dir / "eval.json"
    json_path.write_bytes(orjson.dumps(doc_of(), option=orjson.OPT_INDENT_2) + b"\n")
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(csv_rows(entries))
    csv_path = out_dir / "eval.csv"
    csv_path.write_text(buffer.getvalue(), encoding="utf-8")
    return [json_path, csv_path, *written]


def _pct(value: float) -> str:
    return f"{value:.1%}"


def _money(value: float | None) -> str:
    if value is None:
        return "-"
    return "$0" if value == 0 else f"${value:.6f}".rstrip("0")


def comparison_table(entries: Sequence[Entry]) -> Table:
    table = Table(title="forge eval: every variant and field", title_justify="left")
    table.add_column("variant")
    table.add_column("field")
    for name in ("accuracy", "macro-F1", "valid", "calls", "tokens/rec", "cost/rec", "p50 ms"):
        table.add_column(name, justify="right")
    for e in entries:
        u = e.usage
        for f in e.fields:
            s = f.score
            table.add_row(
                Text(e.name),
                Text(f.spec.name if f.spec.name == f.spec.gold else f"{f.spec.name}→{f.spec.gold}"),
                _pct(s.accuracy) + (" exact" if isinstance(s, MultiScore) else ""),
                f"{s.macro_f1:.3f}",
                _pct(s.answered / s.records if s.records else 0.0),
                "-" if u.calls is None else f"{u.calls:,}",
                f"{u.tokens_per_record:,.1f}",
                _money(u.cost_per_record),
                "-" if u.latency_p50_ms is None else f"{u.latency_p50_ms:,.0f}",
            )
    return table


def field_head(entry: Entry, result: FieldResult) -> str:
    s = result.score
    head = (
        f"{entry.name}: {result.spec.name} (gold {result.spec.gold}): accuracy {_pct(s.accuracy)}"
    )
    if isinstance(s, MultiScore):
        head += f" (exact match), micro-F1 {s.micro_f1:.3f}"
    return head + f", macro-F1 {s.macro_f1:.3f}, {s.records:,} records"


def label_table(result: FieldResult) -> Table:
    s = result.score
    table = Table()
    for name in ("label", "precision", "recall", "F1", "support", "predicted"):
        table.add_column(name, justify="left" if name == "label" else "right")
    for ls in s.labels:
        table.add_row(
            Text(ls.label),  # user data: never read as Rich markup
            f"{ls.precision:.3f}",
            f"{ls.recall:.3f}",
            f"{ls.f1:.3f}",
            f"{ls.support:,}",
            f"{ls.predicted:,}",
        )
    return table


def coverage_line(entry: Entry) -> str:
    c = entry.coverage
    line = (
        f"{entry.name}: {c.gold:,} gold records, {c.answered:,} answered, {c.failed:,} failed, "
        f"{c.missing:,} in neither results nor failures (counted as no answer)"
    )
    if c.extra:
        line += f"; {c.extra:,} result ids not in gold (not scored)"
    return line


def print_report(
    out: Console, err: Console, entries: Sequence[Entry], *, quiet: bool = False
) -> None:
    """Per entry and field the per-label table and the confusion matrix, then the comparison;
    ``quiet`` (-q) leaves out the coverage line, never a warning."""
    for e in entries:
        if not quiet:
            err.print(f"forge eval: {coverage_line(e)}", markup=False, highlight=False)
        for note in e.notes:
            err.print(f"forge eval: {e.name}: {note}", markup=False, highlight=False)
        if e.error:
            err.print(f"forge eval: {e.name}: run stopped: {e.error}", markup=False, style="red")
        for f in e.fields:
            if f.note:
                err.print(f"forge eval: {e.name}: {f.spec.name}: {f.note}", markup=False)
            if f.no_gold:
                err.print(
                    f"forge eval: {e.name}: {f.spec.name}: {f.no_gold:,} gold records have no "
                    f"{f.spec.gold!r} value (not scored for this field)",
                    markup=False,
                )
            out.print()
            out.print(field_head(e, f), style="bold", markup=False, highlight=False)
            out.print(label_table(f))
            if isinstance(f.score, SingleScore):
                c = f.score.confusion
                out.print(confusion_table(c.rows, c.columns, c.counts))
    out.print()
    out.print(comparison_table(entries))
