"""Retry, circuit breaking and provider-wide pauses for calls to model providers.

The pieces are small strategy objects in the manner of tenacity (stop and wait policies) plus two
stateful guards (``CircuitBreaker``, ``RateGate``). They know nothing about wire formats or tasks:
they read ``ProviderError.retryable``, ``retry_after`` and ``trips_breaker`` and leave the calls
to the engine. Everything that reads a clock, sleeps or draws a random number takes it as an
argument, so tests drive whole outage cycles on a fake clock in milliseconds, the same every run.

Everything here is asyncio-only and runs on one event loop: state changes happen between awaits, so
no locks are needed, and waiting callers park on ``asyncio.Event`` objects rather than polling.
"""

from __future__ import annotations

import asyncio
import math
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from forge_cli.core.errors import ProviderError

Clock = Callable[[], float]
Sleep = Callable[[float], Awaitable[object]]

__all__ = [
    "BreakerState",
    "CircuitBreaker",
    "RateGate",
    "RetryPolicy",
    "StopPolicy",
    "WaitPolicy",
    "stop_after_attempt",
    "stop_after_delay",
    "stop_all",
    "stop_any",
    "wait_exponential_jitter",
    "wait_fixed",
]


# --------------------------------------------------------------------------------------------------
# stop policies


class StopPolicy(Protocol):
    """Decides, after a failed attempt, whether to give up.

    ``attempt`` counts the attempts made so far (1 after the first call); ``elapsed`` is the seconds
    since the first attempt started. True means: do not try again.
    """

    def __call__(self, attempt: int, elapsed: float) -> bool: ...


class stop_base:
    """Gives every stop policy ``|`` (either) and ``&`` (both), so limits compose without a DSL."""

    def __call__(self, attempt: int, elapsed: float) -> bool:
        raise NotImplementedError

    def __or__(self, other: StopPolicy) -> stop_any:
        return stop_any(self, other)

    def __ror__(self, other: StopPolicy) -> stop_any:
        return stop_any(other, self)

    def __and__(self, other: StopPolicy) -> stop_all:
        return stop_all(self, other)

    def __rand__(self, other: StopPolicy) -> stop_all:
        return stop_all(other, self)


class stop_after_attempt(stop_base):
    """Gives up once ``n`` attempts have been made (``n`` = 1 means no retry at all)."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"stop_after_attempt needs n >= 1, got {n}")
        self.n = n

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return attempt >= self.n

    def __repr__(self) -> str:
        return f"stop_after_attempt({self.n})"


class stop_after_delay(stop_base):
    """Gives up once ``seconds`` have passed since the first attempt, however few attempts that was.

    The engine checks it before sleeping, so a long Retry-After cannot push one item past its budget
    by more than one wait.
    """

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"stop_after_delay needs seconds >= 0, got {seconds}")
        self.seconds = seconds

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return elapsed >= self.seconds

    def __repr__(self) -> str:
        return f"stop_after_delay({self.seconds})"


class stop_any(stop_base):
    """Gives up as soon as any of its policies would (what ``a | b`` builds)."""

    def __init__(self, *stops: StopPolicy) -> None:
        self.stops = stops

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return any(stop(attempt, elapsed) for stop in self.stops)

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.stops))


class stop_all(stop_base):
    """Gives up only when every one of its policies would (what ``a & b`` builds)."""

    def __init__(self, *stops: StopPolicy) -> None:
        self.stops = stops

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return all(stop(attempt, elapsed) for stop in self.stops)

    def __repr__(self) -> str:
        return " & ".join(map(repr, self.stops))


# --------------------------------------------------------------------------------------------------
# wait policies


class WaitPolicy(Protocol):
    """Seconds to wait before the next attempt, given how many attempts have failed (>= 1)."""

    def __call__(self, attempt: int) -> float: ...


class wait_fixed:
    """The same pause every time: handy in tests and for providers that publish a fixed back-off."""

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"wait_fixed needs seconds >= 0, got {seconds}")
        self.seconds = seconds

    def __call__(self, attempt: int) -> float:
        return self.seconds

    def __repr__(self) -> str:
        return f"wait_fixed({self.seconds})"


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


# --------------------------------------------------------------------------------------------------
# Retry-After and the retry policy


@dataclass
class RetryPolicy:
    """When to try a failed call again and how long to wait first.

    A provider's own Retry-After beats our back-off (it knows its quota window), but is capped by
    ``max_retry_after`` so a confused header ("retry in 1 day") cannot stall a run; the stop policy
    still decides whether waiting that long is worth it at all.
    """

    stop: StopPolicy
    wait: WaitPolicy
    max_retry_after: float = 120.0

    def should_retry(self, error: BaseException) -> bool:
        """Only errors that say another attempt may succeed; bugs and auth errors never are."""
        return isinstance(error, ProviderError) and error.retryable

    def gives_up(self, attempt: int, elapsed: float) -> bool:
        """The stop policy, under the name the engine's loop reads best with."""
        return self.stop(attempt, elapsed)

    def delay_for(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, ProviderError) and retry_after is not None:
            retry_after = float(retry_after)
            if not math.isnan(retry_after):
                return min(max(retry_after, 0.0), self.max_retry_after)
        return self.wait(attempt)


# --------------------------------------------------------------------------------------------------
# circuit breaker


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
        return self._state is BreakerState.HALF_OPEN or self.retry_in() > 0

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
        try:
            yield
        except ProviderError as exc:
            if exc.trips_breaker:
                self.record_failure()
            else:
                self.record_neutral()
            raise
        except BaseException:
            if probe and self.is_probe():
                self.record_failure()
            raise
        else:
            self.record_success()

    async def _acquire(self) -> bool:
        """The acquire loop; True when the caller became the half-open probe."""
        while True:
            state = self._state
            if state is BreakerState.CLOSED:
                return False
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
            self._consecutive_failures += 1
            if self._consecutive_failures >= self.failure_threshold:
                self._open()

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


# --------------------------------------------------------------------------------------------------
# provider-wide pause


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
