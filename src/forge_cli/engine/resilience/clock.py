"""The time source every resilience piece takes as an argument instead of reading the real one.

The breaker, the rate gate and the token buckets all wait on deadlines. Taking the clock and the
sleep as arguments lets tests drive whole outage cycles on a fake clock in milliseconds, the same
every run; the two must agree (a fake sleep has to advance the fake clock).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

__all__ = ["Clock", "Sleep"]

#: seconds on a monotonic scale, ``time.monotonic`` in production
Clock = Callable[[], float]
#: waits the given seconds, ``asyncio.sleep`` in production
Sleep = Callable[[float], Awaitable[object]]
