"""The circuit breaker: stop hammering a provider that keeps failing, without dropping any work.

It reads ``ProviderError.trips_breaker`` to tell a sick provider from a bad request. It is
asyncio-only and runs on one event loop: state changes happen between awaits, so no locks are
needed, and callers held by it park on ``asyncio.Event`` objects rather than polling.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from enum import StrEnum

from forge_cli.core.errors import ProviderError
from forge_cli.engine.resilience.clock import Clock, Sleep

__all__ = ["BreakerState", "CircuitBreaker"]


class BreakerState(StrEnum):
    """Where a provider's breaker stands; shown as-is in the live view."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


class CircuitBreaker:
    """Stops hammering a provider that keeps failing, without dropping any work.

    Unlike the textbook breaker, an open breaker never raises: ``acquire()`` holds callers until
    the cooldown ends, because forge's invariant is that every item ends somewhere and the fallback
    chain (not the breaker) decides when to give up on a provider. When the cooldown ends exactly
    one caller becomes the half-open probe; the rest park on an ``asyncio.Event`` until the probe's
    outcome is recorded. Success closes the breaker and releases everybody; failure re-opens it
    with a fresh cooldown.

    Every ``acquire()`` must be paired with one ``record_success`` / ``record_failure`` /
    ``record_neutral`` (``guard()`` does the pairing). Outcomes are not tied to a caller: any
    outcome recorded while HALF_OPEN resolves the probe, and outcomes recorded while OPEN (calls
    already in flight when it opened) are ignored, since they predate the cooldown. If the probe's
    task is cancelled before it records anything, that counts as a failure so the waiters are not
    stranded.
    """

    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 5,
        cooldown: float = 10.0,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
        on_change: Callable[[BreakerState, BreakerState], None] | None = None,
    ) -> None:
        if failure_threshold < 1:
            raise ValueError(f"failure_threshold must be >= 1, got {failure_threshold}")
        if cooldown < 0:
            raise ValueError(f"cooldown must be >= 0, got {cooldown}")
        self.name = name
        self.failure_threshold = failure_threshold
        self.cooldown = cooldown
        self._clock = clock
        self._sleep = sleep
        self._on_change = on_change
        self._state = BreakerState.CLOSED
        self._opened_at = 0.0
        self._consecutive_failures = 0
        #: calls inside ``guard`` by number, and the last number started when the failure streak
        #: began: a call from before the streak still out may yet succeed and end it
        self._started = 0
        self._open_calls: set[int] = set()
        self._streak_mark = 0
        #: set whenever a call under ``guard`` ends, for callers held while a streak waits on them
        self._ended: asyncio.Event | None = None
        self._opened_count = 0
        self._closed_count = 0
        self._probe_task: asyncio.Task[object] | None = None
        # created when a probe starts, inside the running loop, so one breaker survives several
        # asyncio.run() calls (tests, the bench sweeps)
        self._probe_done: asyncio.Event | None = None

    # read-only views for the live view and the summary

    @property
    def state(self) -> BreakerState:
        return self._state

    @property
    def opened_count(self) -> int:
        """How many times the breaker opened, re-openings after a failed probe included."""
        return self._opened_count

    @property
    def closed_count(self) -> int:
        """How many times it closed again after having opened (recoveries)."""
        return self._closed_count

    @property
    def consecutive_failures(self) -> int:
        return self._consecutive_failures

    def retry_in(self) -> float:
        """Seconds until a probe may go: 0 unless OPEN."""
        if self._state is not BreakerState.OPEN:
            return 0.0
        return max(self._opened_at + self.cooldown - self._clock(), 0.0)

    def blocking(self) -> bool:
        """A caller arriving now would be held: cooling down, or a probe is out."""
        return self._state is BreakerState.HALF_OPEN or self.retry_in() > 0 or self._deciding()

    def is_probe(self) -> bool:
        """True when the current task holds the half-open probe slot.

        For callers that record outcomes by hand: on cancellation or an unexpected exception, only
        the probe has to release the slot (``record_failure``); anyone else should record nothing.
        """
        return self._state is BreakerState.HALF_OPEN and self._probe_task is asyncio.current_task()

    # the caller's side

    async def acquire(self) -> None:
        """Return when a call may go out; wait (never raise) while the provider is cooling down."""
        await self._acquire()

    @asynccontextmanager
    async def guard(self) -> AsyncIterator[None]:
        """``acquire()`` plus the matching record, so no path can forget to release a probe.

        Clean exit: success. ``ProviderError`` with ``trips_breaker``: failure; any other
        ``ProviderError``: neutral. Anything else (cancellation, a bug) says nothing about the
        provider, but if this call was the probe it must not leave the others waiting: failure.
        """
        probe = await self._acquire()
        self._started += 1
        seq = self._started
        self._open_calls.add(seq)
        try:
            yield
        except ProviderError as exc:
            self._end(seq)
            if exc.trips_breaker:
                self.record_failure()
            else:
                self.record_neutral()
            raise
        except BaseException:
            self._end(seq)
            if probe and self.is_probe():
                self.record_failure()
            raise
        else:
            self._end(seq)
            self.record_success()

    def _end(self, seq: int) -> None:
        self._open_calls.discard(seq)
        if self._ended is not None:
            self._ended.set()

    def _deciding(self) -> bool:
        """A streak long enough to open waits only on calls from before it: until they are back,
        nothing more should go to a provider that may be dead."""
        return (
            self._state is BreakerState.CLOSED
            and self._consecutive_failures >= self.failure_threshold
            and self._older_out()
        )

    async def _acquire(self) -> bool:
        """The acquire loop; True when the caller became the half-open probe."""
        while True:
            state = self._state
            if state is BreakerState.CLOSED:
                if not self._deciding():
                    return False
                if self._ended is None:
                    self._ended = asyncio.Event()
                self._ended.clear()
                await self._ended.wait()
                continue
            if state is BreakerState.OPEN:
                remaining = self.retry_in()
                if remaining > 0:
                    # the cooldown is a deadline on the clock, so sleep it out and look again:
                    # the state may have moved (another caller probed) meanwhile
                    await self._sleep(remaining)
                    continue
                self._start_probe()  # no await between the check and here: exactly one probe
                return True
            # HALF_OPEN: a probe is out; park until it resolves, then look again
            assert self._probe_done is not None
            await self._probe_done.wait()

    # the outcome side

    def record_success(self) -> None:
        """The call reached the provider and got a usable answer."""
        if self._state is BreakerState.HALF_OPEN:
            self._close()
        elif self._state is BreakerState.CLOSED:
            self._consecutive_failures = 0

    def record_failure(self) -> None:
        """The call failed in a way that says the provider is unhealthy (5xx, timeout, reset)."""
        if self._state is BreakerState.HALF_OPEN:
            self._consecutive_failures += 1
            self._open()
        elif self._state is BreakerState.CLOSED:
            if self._consecutive_failures == 0:
                self._streak_mark = self._started
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.failure_threshold and not self._older_out():
                self._open()

    def _older_out(self) -> bool:
        """A call started before the failure streak began is still out.

        Errors often come back at once and answers take their time: at 20% 503s, the failures of
        the calls started in one answer's round trip outrun it, and five in a row would open the
        breaker on a healthy provider. The streak counts once the calls that could have broken it
        have come back (a dead provider fails those too; a hung one is the stall watch's)."""
        mark = self._streak_mark
        return any(seq <= mark for seq in self._open_calls)

    def record_neutral(self) -> None:
        """The call ended with an error that says nothing about the provider's health.

        Auth errors, invalid answers and rate limits all prove the provider is reachable and
        answering, which is what the probe was sent to find out, so a neutral outcome closes a
        half-open breaker. In CLOSED it leaves the failure streak as it is: it neither breaks nor
        extends it.
        """
        if self._state is BreakerState.HALF_OPEN:
            self._close()

    # transitions

    def _start_probe(self) -> None:
        self._probe_done = asyncio.Event()
        task = asyncio.current_task()
        self._probe_task = task
        if task is not None:
            task.add_done_callback(self._probe_task_ended)
        self._transition(BreakerState.HALF_OPEN)

    def _probe_task_ended(self, task: asyncio.Task[object]) -> None:
        # Only a cancelled task: one that ended normally may have handed the call to another task
        # (on 3.11, ``wait_for(breaker.acquire(), t)`` acquires in a throw-away inner task), and
        # failing its probe would re-open the breaker every cooldown and never let it close.
        if self._probe_task is task and self._state is BreakerState.HALF_OPEN and task.cancelled():
            self.record_failure()

    def _open(self) -> None:
        self._opened_at = self._clock()
        self._opened_count += 1
        self._transition(BreakerState.OPEN)

    def _close(self) -> None:
        self._consecutive_failures = 0
        self._closed_count += 1
        self._transition(BreakerState.CLOSED)

    def _transition(self, new: BreakerState) -> None:
        old = self._state
        self._state = new
        if old is BreakerState.HALF_OPEN:
            # the probe has resolved: forget it and wake everyone parked behind it
            task, self._probe_task = self._probe_task, None
            if task is not None:
                task.remove_done_callback(self._probe_task_ended)
            if self._probe_done is not None:
                self._probe_done.set()
        if self._on_change is not None and old is not new:
            self._on_change(old, new)

    def __repr__(self) -> str:
        return (
            f"CircuitBreaker({self.name!r}, state={self._state.value}, "
            f"failures={self._consecutive_failures}/{self.failure_threshold})"
        )
