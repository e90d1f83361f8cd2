"""Plain data passed between the stages of a run.

Items are slotted dataclasses rather than pydantic models on purpose: a run moves millions of them and
the offline path must sustain over 10,000 items per second. Pydantic validates what comes from outside
(model answers, configuration), where its checks pay for themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol


class Complexity(StrEnum):
    """How hard an item looks; complex items are scheduled first and packed smaller."""

    SIMPLE = "simple"
    MEDIUM = "medium"
    COMPLEX = "complex"


#: scheduling order: complex first
COMPLEXITY_ORDER: tuple[Complexity, ...] = (
    Complexity.COMPLEX,
    Complexity.MEDIUM,
    Complexity.SIMPLE,
)


@dataclass(slots=True)
class Item:
    """One usable input record on its way through the pipeline."""

    id: str
    line: int
    text: str
    extra: dict[str, Any] = field(default_factory=dict)
    #: 0 = no urgency given; higher is more urgent (the task's urgency hook reads the record)
    urgency: int = 0
    # filled in by the pipeline
    key: str = ""
    complexity: Complexity = Complexity.SIMPLE
    tokens: int = 0
    #: how many times this item was sent back to the queue (split or re-asked)
    rounds: int = 0
    #: provider calls that carried this item
    attempts: int = 0
    #: chain members that answered this item badly past its re-asks: it goes to the others
    avoid: tuple[str, ...] = ()


@dataclass(slots=True)
class Failure:
    """A record that ends in the failures file, with why."""

    id: str | None
    line: int | None
    error: str
    message: str
    attempts: int = 0
    raw: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {
            "id": self.id,
            "line": self.line,
            "error": self.error,
            "message": self.message,
            "attempts": self.attempts,
        }
        if self.raw is not None:
            row["raw"] = self.raw
        return row


class RowWriter(Protocol):
    """Where the engine puts results and failures: one row at a time, flushed at the end.

    The file formats live in ``forge_cli.io.sinks``; the engine needs only this much of them.
    """

    def write(self, row: dict[str, Any]) -> None: ...

    def flush(self) -> None: ...

    def discard(self) -> int:
        """Drop rows taken but not yet written (the run stopped on a write error): how many."""
        ...
