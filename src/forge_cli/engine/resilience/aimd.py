"""Finding a provider's capacity: an AIMD concurrency limit.

How many calls a provider serves at once before it answers 429 or slows down is found as TCP finds
a path's capacity: start small and grow while calls succeed, halve on a 429, grow back one slot per
window of successes. The pace of requests and tokens per minute is ``buckets.py``'s business.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

__all__ = ["AimdLimiter"]


class AimdLimiter:
    """A concurrency limit that finds the provider's capacity: additive increase, multiplicative
    decrease.

    Slow start: the limit begins at ``initial`` and grows by one per success (doubling every round
    trip) until the first overload; after that it grows by ``1/limit`` per success (one slot per
    round trip). An overload halves it, at most once per round trip: the calls that were already in
    flight when it halved report the same congestion and must not halve it again.
    """

    def __init__(
        self,
        maximum: int,
        *,
        initial: int | None = None,
        minimum: int = 1,
        decrease: float = 0.5,
    ) -> None:
        if maximum < 1 or minimum < 1 or minimum > maximum:
            raise ValueError("need 1 <= minimum <= maximum")
        self.maximum = maximum
        self.minimum = minimum
        self.decrease = decrease
        self.limit = float(min(maximum, max(minimum, initial if initial is not None else maximum)))
        self.in_flight = 0
        self.decreases = 0
        self._slow_start = self.limit < maximum
        self._started = 0
        #: calls started before this sequence number predate the last decrease
        self._last_decrease_seq = -1
        self._freed: asyncio.Event | None = None

    @property
    def current(self) -> int:
        return max(self.minimum, int(self.limit))

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[int]:
        """Hold one slot for a call; yields the call's sequence number for ``on_overload``."""
        while self.in_flight >= self.current:
            if self._freed is None:
                self._freed = asyncio.Event()
            self._freed.clear()
            await self._freed.wait()
        self.in_flight += 1
        self._started += 1
        seq = self._started
        try:
            yield seq
        finally:
            self.in_flight -= 1
            if self._freed is not None:
                self._freed.set()

    def on_success(self) -> None:
        if self._slow_start:
            self.limit = min(float(self.maximum), self.limit + 1.0)
            self._slow_start = self.limit < self.maximum
        else:
            self.limit = min(float(self.maximum), self.limit + 1.0 / max(1.0, self.limit))
        if self._freed is not None:
            self._freed.set()

    def on_overload(self, seq: int) -> None:
        """A call that started as number ``seq`` was told the provider is overloaded (429)."""
        self._slow_start = False
        if seq <= self._last_decrease_seq:
            return
        self.limit = max(float(self.minimum), self.limit * self.decrease)
        self.decreases += 1
        self._last_decrease_seq = self._started
