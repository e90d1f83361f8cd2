"""Faults from the command line: ``--fault KIND[=RATE]`` for the simulator run as a process.

Tests script faults from Python (``FakeUpstream.script``, ``fault_when``); a user trying forge
against the simulator, ``forge bench`` users and shell-driven benchmarks have only flags. Each
``--fault`` gives a kind (any of ``faults.FAULT_KINDS``: ``garbage``, ``partial``,
``invalid_label``, ``malformed``, ``503``, ...) and the fraction of requests that get it (1 when
left out). Draws come from a seeded RNG so a run can be repeated; kinds are tried in the order
given, each request getting at most one.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from typing import Any, cast

from forge_cli.testing.sim.faults import FAULT_KINDS, Fault, FaultKind

__all__ = ["RandomFaults", "parse_fault"]


def parse_fault(spec: str) -> tuple[FaultKind, float]:
    """``"garbage=0.1"`` -> ("garbage", 0.1); ``"partial"`` -> ("partial", 1.0).

    Raises ValueError with a message fit for the command line.
    """
    kind, sep, rate_text = spec.partition("=")
    kind = kind.strip()
    if kind not in FAULT_KINDS:
        raise ValueError(
            f"--fault {spec!r}: unknown kind {kind!r}; expected one of {', '.join(sorted(FAULT_KINDS))}"
        )
    rate = 1.0
    if sep:
        try:
            rate = float(rate_text)
        except ValueError:
            raise ValueError(f"--fault {spec!r}: the rate must be a number in (0, 1]") from None
        if not 0.0 < rate <= 1.0:
            raise ValueError(f"--fault {spec!r}: the rate must be a number in (0, 1]")
    return cast(FaultKind, kind), rate


class RandomFaults:
    """A fault rule (``FakeUpstream.fault_when``) that draws each request's fault at random."""

    def __init__(self, rates: Sequence[tuple[FaultKind, float]], *, seed: int = 0) -> None:
        self.rates = list(rates)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()  # handler threads draw concurrently

    def __call__(self, items: list[dict[str, Any]]) -> Fault | None:
        with self._lock:
            for kind, rate in self.rates:
                if self._rng.random() < rate:
                    return Fault(kind)
        return None
