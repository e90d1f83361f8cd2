"""Wait policies: how long to back off before the next attempt.

Small callables in the manner of tenacity's ``wait`` module. A provider's own Retry-After takes
precedence over them; that choice is the retry policy's (``retry.py``), not theirs.
"""

from __future__ import annotations

import math
import random
from typing import Protocol

__all__ = ["WaitPolicy", "wait_exponential_jitter"]


class WaitPolicy(Protocol):
    """Seconds to wait before the next attempt, given how many attempts have failed (>= 1)."""

    def __call__(self, attempt: int) -> float: ...


class wait_exponential_jitter:
    """Exponential back-off with multiplicative jitter.

    ``initial * multiplier ** (attempt - 1)``, capped at ``maximum``, then multiplied by a uniform
    draw in ``[1 - jitter, 1 + jitter]``. The jitter is applied after the cap on purpose: when a
    provider is down, hundreds of concurrent packs all reach the cap together, and a cap applied
    last would send them back in lock-step. The price is that a wait may exceed ``maximum`` by
    ``jitter``. The RNG is injectable (and private by default) so tests can pin the draws.
    """

    def __init__(
        self,
        initial: float = 0.5,
        multiplier: float = 2.0,
        maximum: float = 30.0,
        jitter: float = 0.2,
        rng: random.Random | None = None,
    ) -> None:
        if initial < 0 or maximum < 0:
            raise ValueError("wait_exponential_jitter needs initial >= 0 and maximum >= 0")
        if multiplier <= 0:
            raise ValueError(f"wait_exponential_jitter needs multiplier > 0, got {multiplier}")
        if not 0 <= jitter < 1:
            raise ValueError(f"wait_exponential_jitter needs 0 <= jitter < 1, got {jitter}")
        self.initial = initial
        self.multiplier = multiplier
        self.maximum = maximum
        self.jitter = jitter
        self.rng = rng if rng is not None else random.Random()

    def base(self, attempt: int) -> float:
        """The capped back-off before jitter (exposed so tests and the live view can show it)."""
        try:
            raw = self.initial * self.multiplier ** (max(attempt, 1) - 1)
        except OverflowError:  # thousands of attempts: the cap applies anyway
            raw = math.inf
        return min(raw, self.maximum)

    def __call__(self, attempt: int) -> float:
        base = self.base(attempt)
        if not self.jitter:
            return base
        return base * self.rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)

    def __repr__(self) -> str:
        return (
            f"wait_exponential_jitter(initial={self.initial}, multiplier={self.multiplier}, "
            f"maximum={self.maximum}, jitter={self.jitter})"
        )
