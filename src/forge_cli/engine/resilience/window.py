"""A mirror of the provider's sliding window, kept from forge's own calls.

Once a provider's window has been spent (nothing remained, or a 429), a token bucket at a safety
fraction of the announced rate is the cautious pace: measured at 0.87-0.90 of what the window
allows. The window gives back its slots in the pattern they were taken, so the fastest safe pace
is to send again exactly as our own earlier calls leave it: a call may go while our calls in
flight plus those that ended in the last ``window`` seconds are fewer than ``cap``. A call is
logged when it ends: the provider counted it when it arrived, which was before that, so the
mirror never thinks a slot free before the provider does (logging send times instead let a
loaded client, slow between deciding to send and sending, run into 429s).

``window`` is learned from the reset header (time until the newest request leaves the window: the
largest reset seen is the window's length), ``cap`` from the announced per-minute limit scaled to
that window. A provider that refills a bucket instead (its reset is the time to refill what was
spent) teaches a shorter window with a proportionally smaller cap: the same rate, never more.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections import deque
from collections.abc import Callable

from forge_cli.engine.resilience.clock import Clock, Sleep

__all__ = ["SendLog"]

#: the share of the window's count we allow ourselves
FILL = 1.0
#: a window announced shorter than this is too short to mirror from send times
MIN_WINDOW = 0.2


class SendLog:
    """Our own send times over the provider's window; ``take`` waits for a slot to leave it."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        self._clock = clock
        self._sleep = sleep
        self._sent: deque[float] = deque()
        #: the window's length in seconds and the calls it admits (None until both are learned)
        self.window: float | None = None
        self.cap: int | None = None

    @property
    def ready(self) -> bool:
        return self.window is not None and self.cap is not None

    def learn(self, limit_per_minute: float, reset: float | None) -> None:
        """Widen the window to a reset seen (up to a minute); the cap follows the limit."""
        if reset is None or reset <= 0:
            return
        window = min(60.0, reset)
        if self.window is not None and window <= self.window:
            return
        if window < MIN_WINDOW:
            return
        self.window = window
        self.cap = max(1, int(limit_per_minute * window / 60.0 * FILL))

    def record(self) -> None:
        """A call ended (however it was paced: credit, bucket or this log)."""
        self._sent.append(self._clock())
        if len(self._sent) > 100_000:  # a minute at 1,600 calls/s: older ones no longer count
            self._sent.popleft()

    def _in_window(self, now: float) -> int:
        assert self.window is not None
        horizon = now - self.window
        sent = self._sent
        while sent and sent[0] <= horizon:
            sent.popleft()
        return len(sent)

    def count(self, now: float, window: float) -> int:
        """Our calls that ended within the last ``window`` seconds (at most ``self.window``:
        older ones are let go); a learned window's tests count over a shorter trial length."""
        if self.window is not None:
            self._in_window(now)
        return len(self._sent) - bisect.bisect_right(self._sent, now - window)

    def leaving_in(self, now: float, window: float) -> float | None:
        """Seconds until the oldest call within the last ``window`` seconds leaves it."""
        index = bisect.bisect_right(self._sent, now - window)
        return self._sent[index] + window - now if index < len(self._sent) else None

    def age(self, now: float, k: int) -> float | None:
        """Seconds since the ``k``-th most recent call ended (None: fewer are kept)."""
        return now - self._sent[-k] if 0 < k <= len(self._sent) else None

    async def take(self, in_flight: Callable[[], int]) -> float:
        """Wait until one more call fits in the window beside the calls on their way
        (``in_flight()``, read anew after each wait) and those that ended within it; returns
        the seconds waited."""
        waited = 0.0
        while self.window is not None and self.cap is not None:
            now = self._clock()
            if self._in_window(now) + in_flight() < self.cap:
                break
            # a slot frees when the oldest call logged leaves the window, or a call ends
            delay = self._sent[0] + self.window - now if self._sent else self.window / 100
            delay = min(max(1e-3, delay), self.window / 100)
            waited += delay
            await self._sleep(delay)
        return waited
