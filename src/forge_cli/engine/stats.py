"""Counters of a run, updated by the engine and read by the live view and the summary.

Plain attributes and small dicts, updated in place: the view samples them a few times a second, so the
hot path pays for an increment and nothing else.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from forge_cli.engine.complexity import EwmaEta
from forge_cli.models import Complexity


def _per_class() -> dict[Complexity, int]:
    return dict.fromkeys(Complexity, 0)


@dataclass
class RunStats:
    provider: str = ""
    model: str = ""
    concurrency: int = 1
    #: records expected (lines of the input file), None when unknown (stdin)
    total_hint: int | None = None
    started: float = field(default_factory=time.monotonic)
    finished: float | None = None

    read: int = 0
    done: int = 0
    failed: int = 0
    cached: int = 0
    #: records rejected by the reader (malformed, no text, ...): part of ``failed``
    input_failed: int = 0
    done_by_class: dict[Complexity, int] = field(default_factory=_per_class)
    failed_by_class: dict[Complexity, int] = field(default_factory=_per_class)
    cached_by_class: dict[Complexity, int] = field(default_factory=_per_class)
    queued_by_class: dict[Complexity, int] = field(default_factory=_per_class)

    calls: int = 0
    packs: int = 0
    retries: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    upstream_errors: int = 0
    invalid_answers: int = 0
    reasked: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    breaker_state: str = "closed"
    breaker_opened: int = 0
    breaker_closed: int = 0
    aborted: str | None = None
    eta_model: EwmaEta = field(default_factory=EwmaEta)

    @property
    def finished_records(self) -> int:
        return self.done + self.failed

    @property
    def elapsed(self) -> float:
        return (self.finished or time.monotonic()) - self.started

    @property
    def rate(self) -> float:
        elapsed = self.elapsed
        return self.finished_records / elapsed if elapsed > 0 else 0.0

    def eta(self) -> float | None:
        """Seconds left: per-class EWMA latency of the work queued, plus unread lines at the mix so far."""
        remaining = dict(self.queued_by_class)
        if self.total_hint is not None and self.read < self.total_hint and self.read:
            unread = self.total_hint - self.read
            for cls in remaining:
                share = (self.done_by_class[cls] + self.queued_by_class[cls]) / max(1, self.read)
                remaining[cls] += int(unread * share)
        return self.eta_model.eta(remaining, max(1, self.concurrency))

    def summary(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "records": self.read,
            "done": self.done,
            "failed": self.failed,
            "input_failed": self.input_failed,
            "cached": self.cached,
            "calls": self.calls,
            "packs": self.packs,
            "retries": self.retries,
            "rate_limited": self.rate_limited,
            "timeouts": self.timeouts,
            "upstream_errors": self.upstream_errors,
            "invalid_answers": self.invalid_answers,
            "reasked": self.reasked,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": round(self.cost, 6),
            "breaker_opened": self.breaker_opened,
            "breaker_closed": self.breaker_closed,
            "elapsed_s": round(self.elapsed, 3),
            "records_per_s": round(self.rate, 1),
            "by_class": {
                c.value: {
                    "done": self.done_by_class[c],
                    "failed": self.failed_by_class[c],
                    "cached": self.cached_by_class[c],
                }
                for c in Complexity
            },
            "aborted": self.aborted,
        }
