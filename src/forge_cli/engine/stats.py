"""Counters of a run, updated by the engine and read by the live view and the summary.

Plain attributes and small dicts, updated in place: the view samples them a few times a second, so the
hot path pays for an increment and nothing else.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from forge_cli.core.calls import Completion
from forge_cli.core.models import Complexity
from forge_cli.engine.eta import EwmaEta


def _per_class() -> dict[Complexity, int]:
    return dict.fromkeys(Complexity, 0)


#: latencies kept per provider for p50/p95: the newest ones, so memory stays flat on long runs
LATENCY_SAMPLES = 4096


@dataclass
class ProviderStats:
    """One provider's share of a run: what it was asked, what it answered, what it cost."""

    name: str
    model: str = ""
    calls: int = 0
    ok: int = 0
    items: int = 0
    rate_limited: int = 0
    timeouts: int = 0
    upstream_errors: int = 0
    other_errors: int = 0
    #: packs this provider failed for good and handed to the next one in the chain
    fallbacks: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    cost: float = 0.0
    breaker_state: str = "closed"
    breaker_opened: int = 0
    concurrency: int = 0
    #: requests per minute in force (configured or learned from headers), None when unpaced
    rpm: float | None = None
    #: why the provider was dropped for the rest of the run
    dropped: str | None = None
    latencies: deque[float] = field(default_factory=lambda: deque(maxlen=LATENCY_SAMPLES))

    @property
    def errors(self) -> int:
        return self.rate_limited + self.timeouts + self.upstream_errors + self.other_errors

    def percentile(self, q: float) -> float | None:
        """Latency (ms) at quantile ``q`` of the newest samples, None before any answer."""
        if not self.latencies:
            return None
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
        return ordered[index]

    def summary(self) -> dict[str, Any]:
        p50, p95 = self.percentile(0.5), self.percentile(0.95)
        return {
            "model": self.model,
            "calls": self.calls,
            "ok": self.ok,
            "items": self.items,
            "errors": self.errors,
            "rate_limited": self.rate_limited,
            "timeouts": self.timeouts,
            "upstream_errors": self.upstream_errors,
            "fallbacks": self.fallbacks,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "cost_usd": round(self.cost, 6),
            "p50_ms": None if p50 is None else round(p50, 1),
            "p95_ms": None if p95 is None else round(p95, 1),
            "rpm": self.rpm,
            "breaker_opened": self.breaker_opened,
            "dropped": self.dropped,
        }


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
    #: records a cascade's first stage (a local model) answered without a call
    screened: int = 0
    #: "local / model.json (threshold 0.9)" when the run has a cascade, else ""
    screen_label: str = ""
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
    #: per provider of the chain, in chain order
    providers: dict[str, ProviderStats] = field(default_factory=dict)
    #: one line per provider dropped for the run (auth error, unknown model), for the user
    notices: list[str] = field(default_factory=list)
    #: what ``--pack-probe`` measured and chose (``engine/probe.py``), None without one
    pack_probe: dict[str, Any] | None = None
    pack_probe_line: str = ""

    def charge(
        self, usage: ProviderStats, used: Completion, cost_of: Callable[[int, int], float]
    ) -> None:
        """Count one answered call's tokens and cost, in the run's and its provider's totals."""
        cost = cost_of(used.tokens_in, used.tokens_out)
        self.tokens_in += used.tokens_in
        self.tokens_out += used.tokens_out
        self.cost += cost
        usage.tokens_in += used.tokens_in
        usage.tokens_out += used.tokens_out
        usage.cost += cost
        usage.model = used.model

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

    def _cascade(self) -> dict[str, Any]:
        """The stages of a cascade and what answering locally saved, at the chain's average cost
        per record it answered (only when the run has a cascade)."""
        if not self.screen_label:
            return {}
        by_chain = self.done - self.cached - self.screened
        per_record = self.cost / by_chain if by_chain > 0 else 0.0
        return {
            "cascade": {
                "local": self.screened,
                "chain": by_chain,
                "local_stage": self.screen_label,
                "saved_usd": round(per_record * self.screened, 6),
            }
        }

    def summary(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "model": self.model,
            "records": self.read,
            "done": self.done,
            "failed": self.failed,
            "input_failed": self.input_failed,
            "cached": self.cached,
            **self._cascade(),
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
            **({"pack_probe": self.pack_probe} if self.pack_probe is not None else {}),
            "providers": {name: p.summary() for name, p in self.providers.items()},
        }
