"""The rate gate: a provider-wide pause after the provider said its quota window is spent.

A 429 says the provider is up but out of quota, which the breaker must not count as sickness, so
the pause lives apart from it. Like the breaker it runs on one event loop without locks and takes
its clock and sleep as arguments, so tests can pause and resume it on a fake clock.
"""

from __future__ import annotations

import asyncio
import math
import time

from forge_cli.engine.resilience.clock import Clock, Sleep

__all__ = ["RateGate"]


class RateGate:
    """Provider-wide pause: after a 429 with Retry-After, every caller of that provider waits.

    One 429 means the whole quota window is spent, not just the caller's: letting the other slots
    keep firing would only collect more 429s (and, on some providers, longer bans).
    """

    def __init__(self, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._not_before = -math.inf

    def defer(self, seconds: float) -> None:
        """Extend (never shorten) the not-before time to ``seconds`` from now.

        Non-finite values are ignored: an infinite pause would hang the run, and capping it is the
        retry policy's business (``max_retry_after``), not the gate's.
        """
        if not math.isfinite(seconds) or seconds <= 0:
            return
        self._not_before = max(self._not_before, self._clock() + seconds)

    def remaining(self) -> float:
        """Seconds until callers may go again (0 when open), for the live view."""
        return max(self._not_before - self._clock(), 0.0)

    async def wait(self) -> float:
        """Sleep until the not-before time; returns the seconds waited (0.0 when open).

        Loops because another caller may ``defer`` further while we sleep. The clock and the sleep
        must agree (a fake sleep must advance the fake clock).
        """
        start: float | None = None
        while (remaining := self._not_before - self._clock()) > 0:
            if start is None:
                start = self._clock()
            await self._sleep(remaining)
        return 0.0 if start is None else self._clock() - start
