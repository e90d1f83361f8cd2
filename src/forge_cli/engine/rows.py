"""The columns of the two output files and how a record's own fields join a result row.

Apart from the runner so that readers of results (``forge eval``, the sinks' CSV headers) know the
columns without importing the engine's machinery.
"""

from __future__ import annotations

from typing import Any

from forge_cli.core.models import Failure, Item
from forge_cli.tasks.base import Task

__all__ = [
    "ENGINE_FIELDS",
    "FAILURE_FIELDS",
    "RESERVED_FIELDS",
    "failure_row",
    "merge_extra",
    "result_columns",
    "result_row",
]

#: what the engine adds to every result, after the task's answer fields
ENGINE_FIELDS = (
    "complexity",
    "provider",
    "model",
    "cache_hit",
    "tokens_in",
    "tokens_out",
    "latency_ms",
)
FAILURE_FIELDS = ("id", "line", "error", "message", "attempts", "raw")
#: input fields with these names are passed through as ``input_<name>``
RESERVED_FIELDS = frozenset(("id", "line", *ENGINE_FIELDS, *FAILURE_FIELDS))


def result_columns(task: Task) -> tuple[str, ...]:
    """The columns of a results file, in order (for CSV output)."""
    return ("id", "line", *task.answer_columns, *task.confidence_columns, *ENGINE_FIELDS)


def merge_extra(row: dict[str, Any], extra: dict[str, Any]) -> None:
    """Pass input fields through; one that clashes with ours keeps its value as ``input_<name>``."""
    for name, value in extra.items():
        row[f"input_{name}" if name in row or name in RESERVED_FIELDS else name] = value


def result_row(
    item: Item,
    answer: dict[str, Any],
    provider: str,
    model: str,
    hit: bool,
    tokens: tuple[int, int],
    latency_ms: float,
) -> dict[str, Any]:
    """One line of the results file; an answer that cost no call (``hit``) shows no tokens or time."""
    row: dict[str, Any] = {"id": item.id, "line": item.line, **answer}
    row["complexity"] = item.complexity.value
    row["provider"] = provider
    row["model"] = model
    row["cache_hit"] = hit
    row["tokens_in"], row["tokens_out"] = (0, 0) if hit else tokens
    row["latency_ms"] = 0.0 if hit else latency_ms
    if item.extra:
        merge_extra(row, item.extra)
    return row


def failure_row(
    item: Item, kind: str, message: str, attempts: int, raw: str | None
) -> dict[str, Any]:
    """One line of the failures file, the record's own fields passed through."""
    row = Failure(item.id, item.line, kind, message, attempts, raw).to_row()
    if item.extra:
        merge_extra(row, item.extra)
    return row
