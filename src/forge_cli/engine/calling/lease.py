"""The runner's concurrency slot, handed back while a pack's call waits out a retry's back-off.

``--concurrency`` bounds the calls in flight. A call sleeping before its next attempt sends
nothing, yet it used to keep its slot for the whole back-off: at 20% 503s most slots sat idle
(0.31 of ideal). The runner lends each pack task its slot through a context variable, so the caller
(which knows nothing of the runner) can give it back for the length of a wait and take it again,
queueing with the packs not yet started, before its next attempt.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from contextvars import ContextVar

__all__ = ["Lease", "lend", "wait_unleased"]


class Lease:
    """One pack task's hold on one of the runner's slots."""

    def __init__(self, slots: asyncio.Semaphore) -> None:
        self._slots = slots
        self.held = True

    async def away(self, wait: Awaitable[None]) -> None:
        """Await ``wait`` without the slot; hold it again before returning.

        Cancelled while queueing for it again, the lease holds nothing, so ``release`` then
        gives back nothing: the semaphore never counts more slots than ``--concurrency``.
        """
        self.release()
        try:
            await wait
        finally:
            await self._slots.acquire()
            self.held = True

    def release(self) -> None:
        """Give the slot back (at the end of the pack); a no-op when it is not held."""
        if self.held:
            self.held = False
            self._slots.release()


_LEASE: ContextVar[Lease | None] = ContextVar("forge_slot_lease", default=None)


def lend(slots: asyncio.Semaphore) -> Lease:
    """Make the slot the current task holds (acquired already) one it may lend out while waiting."""
    lease = Lease(slots)
    _LEASE.set(lease)
    return lease


async def wait_unleased(wait: Awaitable[None]) -> None:
    """Await ``wait``, without the current task's slot if it holds one of the runner's."""
    lease = _LEASE.get()
    if lease is None or not lease.held:
        await wait
    else:
        await lease.away(wait)
