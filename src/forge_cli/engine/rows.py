"""The columns of the two output files and how a record's own fields join a result row.

Apart from the runner so that readers of results (``forge eval``, the sinks' CSV headers) know the
columns without importing the engine's machinery.
"""

from __future__ import annotations

from typing import Any

from forge_cli.tasks.base import Task

__all__ = ["ENGINE_FIELDS", "FAILURE_FIELDS", "RESERVED_FIELDS", "merge_extra", "result_columns"]

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
