"""A provider batch job and one request's outcome, as forge reads them whatever the wire.

Apart from ``batch.py`` so that each wire's adapter can build them without importing the
factory that picks the adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from forge_cli.core.calls import Completion

__all__ = ["ACTIVE", "TERMINAL", "BatchAnswer", "BatchJob"]

#: a job in one of these will change no more
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
#: still running: what a cancel can stop
ACTIVE = frozenset({"validating", "in_progress", "finalizing", "cancelling"})


@dataclass(slots=True)
class BatchJob:
    """One provider job as forge reads it, whatever the wire (statuses in OpenAI's words)."""

    id: str
    status: str
    total: int = 0
    completed: int = 0
    failed: int = 0
    created_at: int | None = None
    expires_at: int | None = None
    output_file: str | None = None
    error_file: str | None = None
    metadata: dict[str, str] = field(default_factory=dict)
    #: why the provider refused the job as a whole (a failed validation)
    errors: list[str] = field(default_factory=list)

    @property
    def terminal(self) -> bool:
        return self.status in TERMINAL


@dataclass(slots=True)
class BatchAnswer:
    """One request's outcome in a finished job: its answer, or why there is none."""

    custom_id: str
    completion: Completion | None = None
    error: str | None = None
    #: its position in the job's input, for a wire whose answers may come back in input order
    #: without their ids (Gemini's inlined responses); used only when ``custom_id`` is unknown
    index: int | None = None
