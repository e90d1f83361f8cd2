"""Retry policies, the circuit breaker and the rate gate, on fake clocks.

The breaker tests drive a ``FakeTime`` whose sleeps end only when the test moves the clock, so every
step of an outage (held, probing, released) can be observed between two lines of the test, with no
real waiting and no timing assumptions. One test runs the real clock with a 0.05 s cooldown to
check the default wiring.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import pytest

from forge_cli.core.errors import (
    AuthError,
    InvalidResponseError,
    ProviderTimeoutError,
    RateLimitError,
    RequestError,
    UpstreamError,
)
from forge_cli.core.text import parse_retry_after
from forge_cli.engine.resilience.breaker import BreakerState, CircuitBreaker
from forge_cli.engine.resilience.gate import RateGate
from forge_cli.engine.resilience.retry import RetryPolicy, default_retry_policy
from forge_cli.engine.resilience.stop import stop_after_attempt
from forge_cli.engine.resilience.wait import wait_exponential_jitter

CLOSED, OPEN, HALF_OPEN = BreakerState.CLOSED, BreakerState.OPEN, BreakerState.HALF_OPEN


class FakeTime:
    """A clock that moves only when told to; its sleeps end when it reaches their deadline."""

    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.sleeps: list[float] = []
        self._tick = asyncio.Event()

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        deadline = self.now + seconds
        while self.now < deadline:
            await self._tick.wait()

    def advance(self, seconds: float) -> None:
        self.now += seconds
        tick, self._tick = self._tick, asyncio.Event()
        tick.set()


async def settle() -> None:
    """Let every task that can run, run (wake-ups chain through a few loop iterations)."""
    for _ in range(20):
        await asyncio.sleep(0)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), timeout=5))


# ---------------------------------------------------------------------------------------- stop/wait


def test_stop_after_attempt():
    stop = stop_after_attempt(3)
    assert [stop(n, 0.0) for n in (1, 2, 3, 4)] == [False, False, True, True]
    with pytest.raises(ValueError):
        stop_after_attempt(0)


def test_wait_exponential_without_jitter_doubles_then_caps():
    wait = wait_exponential_jitter(initial=0.5, multiplier=2.0, maximum=30.0, jitter=0.0)
    assert [wait(n) for n in range(1, 9)] == [0.5, 1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0]
    assert wait(10_000) == 30.0  # no OverflowError after thousands of attempts


def test_wait_jitter_stays_within_twenty_percent_and_spreads():
    wait = wait_exponential_jitter(rng=random.Random(7))
    assert wait.jitter == 0.2
    for attempt, base in ((1, 0.5), (3, 2.0), (12, 30.0)):
        draws = [wait(attempt) for _ in range(5000)]
        assert all(base * 0.8 <= d <= base * 1.2 for d in draws)
        # the draws really spread over the band rather than sitting on the base
        assert min(draws) < base * 0.82
        assert max(draws) > base * 1.18
    # same seed, same waits: tests and benchmarks are reproducible
    a = wait_exponential_jitter(rng=random.Random(1))
    b = wait_exponential_jitter(rng=random.Random(1))
    assert [a(n) for n in range(1, 6)] == [b(n) for n in range(1, 6)]


# ------------------------------------------------------------------------------------- Retry-After


def test_retry_after_seconds():
    assert parse_retry_after("3") == 3.0
    assert parse_retry_after("1.5") == 1.5
    assert parse_retry_after(" 7 ") == 7.0
    assert parse_retry_after("0") == 0.0
    assert parse_retry_after("-5") == 0.0


def test_retry_after_http_date():
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC).timestamp()
    header = "Wed, 01 May 2024 12:00:30 GMT"
    assert parse_retry_after(header, now=now) == 30.0
    later = email.utils.format_datetime(datetime.fromtimestamp(now + 90, UTC), usegmt=True)
    assert parse_retry_after(later, now=now) == 90.0
    # a date in the past means "go now", not a negative wait
    assert parse_retry_after("Wed, 01 May 2024 11:59:00 GMT", now=now) == 0.0
    # "-0000" dates come back without a timezone; they are still GMT
    assert parse_retry_after("Wed, 01 May 2024 12:00:10 -0000", now=now) == 10.0


@pytest.mark.parametrize(
    "value", [None, "", "   ", "soon", "3 seconds", "nan", "inf", "1e3", "Wed"]
)
def test_retry_after_garbage_is_none(value: str | None):
    assert parse_retry_after(value, now=0.0) is None


# ------------------------------------------------------------------------------------ RetryPolicy


def test_retry_policy_retries_only_retryable_errors():
    policy = default_retry_policy(3)
    for error in (RateLimitError("x"), UpstreamError("x"), ProviderTimeoutError("x")):
        assert policy.should_retry(error)
    for error in (AuthError("x"), InvalidResponseError("x"), RequestError("x"), ValueError("x")):
        assert not policy.should_retry(error)
    assert policy.stop(3, 0.0)
    assert not policy.stop(2, 0.0)


def test_retry_policy_prefers_retry_after_over_backoff_and_caps_it():
    wait = wait_exponential_jitter(initial=1.0, jitter=0.0)
    policy = RetryPolicy(stop=stop_after_attempt(5), wait=wait)
    assert policy.max_retry_after == 120.0
    assert policy.delay_for(3, RateLimitError("429", retry_after=7.0)) == 7.0
    assert policy.delay_for(3, UpstreamError("503", retry_after=2.5)) == 2.5
    assert policy.delay_for(1, RateLimitError("429", retry_after=0.0)) == 0.0
    assert policy.delay_for(3, RateLimitError("429", retry_after=86400.0)) == 120.0
    assert policy.delay_for(3, RateLimitError("429", retry_after=-3.0)) == 0.0
    # no Retry-After (or a NaN one): the backoff decides
    assert policy.delay_for(3, RateLimitError("429")) == 4.0
    assert policy.delay_for(3, UpstreamError("500", retry_after=float("nan"))) == 4.0
    assert policy.delay_for(2, ProviderTimeoutError("slow")) == 2.0
    capped = RetryPolicy(stop=stop_after_attempt(5), wait=wait, max_retry_after=5.0)
    assert capped.delay_for(1, RateLimitError("429", retry_after=60.0)) == 5.0


# ---------------------------------------------------------------------------- breaker: bookkeeping


def test_breaker_opens_after_threshold_consecutive_failures():
    clock = FakeTime()
    changes: list[tuple[BreakerState, BreakerState]] = []
    breaker = CircuitBreaker(
        "p", failure_threshold=3, cooldown=10.0, clock=clock, on_change=lambda *c: changes.append(c)
    )
    assert breaker.state is CLOSED
    assert breaker.retry_in() == 0.0
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is CLOSED
    assert breaker.consecutive_failures == 2
    breaker.record_failure()
    assert breaker.state is OPEN
    assert breaker.opened_count == 1
    assert breaker.closed_count == 0
    assert changes == [(CLOSED, OPEN)]
    assert breaker.retry_in() == 10.0
    clock.now += 4.0
    assert breaker.retry_in() == 6.0
    clock.now += 20.0
    assert breaker.retry_in() == 0.0


def test_success_resets_the_consecutive_count():
    breaker = CircuitBreaker("p", failure_threshold=3, clock=FakeTime())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()
    assert breaker.consecutive_failures == 0
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state is CLOSED
    # neutral outcomes (auth, invalid answers, 429s) neither break nor extend the streak
    breaker.record_neutral()
    assert breaker.consecutive_failures == 2
    breaker.record_failure()
    assert breaker.state is OPEN


def _guarded(breaker: CircuitBreaker, answer: asyncio.Future[bool]) -> asyncio.Task[None]:
    """A call under the breaker that succeeds or fails (503) when ``answer`` says so."""

    async def call() -> None:
        async with breaker.guard():
            if not await answer:
                raise UpstreamError("503", provider="p")

    return asyncio.ensure_future(call())


def test_fast_failures_do_not_open_the_breaker_while_an_older_call_is_out():
    # errors come back at once, answers take their time: failures of calls started while a slow
    # call is out say nothing yet, and its answer ends the streak. Meanwhile nothing more goes
    async def scenario() -> None:
        breaker = CircuitBreaker("p", failure_threshold=3, clock=FakeTime())
        loop = asyncio.get_running_loop()
        slow: asyncio.Future[bool] = loop.create_future()
        slow_call = _guarded(breaker, slow)
        await settle()
        for _ in range(3):
            failing: asyncio.Future[bool] = loop.create_future()
            failing.set_result(False)
            await asyncio.gather(_guarded(breaker, failing), return_exceptions=True)
        assert breaker.state is CLOSED and breaker.consecutive_failures == 3
        assert breaker.blocking()
        later: asyncio.Future[bool] = loop.create_future()
        later.set_result(True)
        held = _guarded(breaker, later)
        await settle()
        assert not held.done()  # held until the older call is back
        slow.set_result(True)
        await slow_call
        await held
        assert breaker.state is CLOSED and breaker.consecutive_failures == 0

    run(scenario)


def test_the_older_call_failing_too_opens_the_breaker():
    async def scenario() -> None:
        breaker = CircuitBreaker("p", failure_threshold=3, clock=FakeTime())
        loop = asyncio.get_running_loop()
        slow: asyncio.Future[bool] = loop.create_future()
        slow_call = _guarded(breaker, slow)
        await settle()
        for _ in range(3):
            failing: asyncio.Future[bool] = loop.create_future()
            failing.set_result(False)
            await asyncio.gather(_guarded(breaker, failing), return_exceptions=True)
        assert breaker.state is CLOSED
        slow.set_result(False)
        await asyncio.gather(slow_call, return_exceptions=True)
        assert breaker.state is OPEN

    run(scenario)


def test_outcomes_of_calls_in_flight_while_open_are_ignored():
    clock = FakeTime()
    breaker = CircuitBreaker("p", failure_threshold=1, cooldown=10.0, clock=clock)
    breaker.record_failure()
    clock.now += 3.0
    breaker.record_failure()  # a call sent before the breaker opened: must not restart the cooldown
    breaker.record_success()  # nor close it before anything was probed
    breaker.record_neutral()
    assert breaker.state is OPEN
    assert breaker.retry_in() == 7.0
    assert breaker.opened_count == 1


def test_breaker_rejects_nonsense_settings():
    with pytest.raises(ValueError):
        CircuitBreaker("p", failure_threshold=0)
    with pytest.raises(ValueError):
        CircuitBreaker("p", cooldown=-1.0)


# ------------------------------------------------------------------------------ breaker: the cycle


async def _open(breaker: CircuitBreaker) -> None:
    for _ in range(breaker.failure_threshold):
        await breaker.acquire()
        breaker.record_failure()
    assert breaker.state is OPEN


def _start(n: int, breaker: CircuitBreaker, passed: list[int]) -> list[asyncio.Task[None]]:
    async def caller(i: int) -> None:
        await breaker.acquire()
        passed.append(i)

    return [asyncio.create_task(caller(i)) for i in range(n)]


def test_full_cycle_holds_callers_sends_one_probe_then_releases_all():
    async def scenario() -> None:
        time = FakeTime()
        changes: list[tuple[BreakerState, BreakerState]] = []
        breaker = CircuitBreaker(
            "p",
            failure_threshold=3,
            cooldown=10.0,
            clock=time,
            sleep=time.sleep,
            on_change=lambda *c: changes.append(c),
        )
        await _open(breaker)
        passed: list[int] = []
        tasks = _start(11, breaker, passed)
        await settle()
        # OPEN: everybody is held; nobody is failed or dropped
        assert passed == []
        assert not any(t.done() for t in tasks)
        time.advance(9.0)
        await settle()
        assert passed == []
        # cooldown over: exactly one probe goes out, ten wait on it
        time.advance(1.0)
        await settle()
        assert breaker.state is HALF_OPEN
        assert len(passed) == 1
        # the others wait for the probe's outcome, not for time
        time.advance(1000.0)
        await settle()
        assert len(passed) == 1
        assert sum(not t.done() for t in tasks) == 10
        breaker.record_success()
        await settle()
        assert breaker.state is CLOSED
        assert sorted(passed) == list(range(11))
        assert all(t.done() and t.exception() is None for t in tasks)
        assert breaker.opened_count == 1
        assert breaker.closed_count == 1
        assert breaker.consecutive_failures == 0
        assert changes == [(CLOSED, OPEN), (OPEN, HALF_OPEN), (HALF_OPEN, CLOSED)]

    run(scenario)


def test_probe_failure_reopens_with_a_fresh_cooldown():
    async def scenario() -> None:
        time = FakeTime()
        breaker = CircuitBreaker(
            "p", failure_threshold=2, cooldown=10.0, clock=time, sleep=time.sleep
        )
        await _open(breaker)
        passed: list[int] = []
        tasks = _start(5, breaker, passed)
        time.advance(10.0)
        await settle()
        assert len(passed) == 1
        time.advance(2.5)  # the probe takes a while, then fails
        breaker.record_failure()
        assert breaker.state is OPEN
        assert breaker.opened_count == 2
        assert breaker.retry_in() == 10.0  # counted from the probe's failure, not the first opening
        await settle()
        assert len(passed) == 1  # the waiters went back to being held
        time.advance(9.9)
        await settle()
        assert len(passed) == 1
        time.advance(0.1)
        await settle()
        assert breaker.state is HALF_OPEN
        assert len(passed) == 2  # a second probe, still only one
        breaker.record_success()
        await settle()
        assert sorted(passed) == list(range(5))
        assert all(t.done() for t in tasks)
        assert (breaker.opened_count, breaker.closed_count) == (2, 1)

    run(scenario)


def test_neutral_probe_outcome_closes_the_breaker():
    async def scenario() -> None:
        time = FakeTime()
        breaker = CircuitBreaker(
            "p", failure_threshold=1, cooldown=1.0, clock=time, sleep=time.sleep
        )
        await _open(breaker)
        passed: list[int] = []
        tasks = _start(3, breaker, passed)
        time.advance(1.0)
        await settle()
        assert len(passed) == 1
        breaker.record_neutral()  # e.g. the probe got a 429: the provider is up
        await settle()
        assert breaker.state is CLOSED
        assert len(passed) == 3
        assert all(t.done() for t in tasks)

    run(scenario)


def test_cancelled_probe_does_not_strand_the_waiters():
    async def scenario() -> None:
        time = FakeTime()
        breaker = CircuitBreaker(
            "p", failure_threshold=1, cooldown=5.0, clock=time, sleep=time.sleep
        )
        await _open(breaker)
        passed: list[int] = []

        async def hanging_probe() -> None:
            await breaker.acquire()
            passed.append(-1)
            await asyncio.Event().wait()  # the call never comes back and never records anything

        probe = asyncio.create_task(hanging_probe())
        await settle()
        waiters = _start(4, breaker, passed)
        await settle()
        time.advance(5.0)
        await settle()
        assert passed == [-1]
        assert breaker.state is HALF_OPEN
        probe.cancel()
        await settle()
        # the cancelled probe counts as a failed one: open again, fresh cooldown, nobody stuck
        assert breaker.state is OPEN
        assert breaker.retry_in() == 5.0
        time.advance(5.0)
        await settle()
        assert len(passed) == 2
        breaker.record_success()
        await settle()
        assert sorted(passed) == [-1, 0, 1, 2, 3]
        assert all(t.done() for t in waiters)

    run(scenario)


def test_cancelled_waiters_leave_the_others_alone():
    async def scenario() -> None:
        time = FakeTime()
        breaker = CircuitBreaker(
            "p", failure_threshold=1, cooldown=5.0, clock=time, sleep=time.sleep
        )
        await _open(breaker)
        passed: list[int] = []
        tasks = _start(4, breaker, passed)
        await settle()
        tasks[3].cancel()  # cancelled while held in OPEN
        time.advance(5.0)
        await settle()
        assert len(passed) == 1
        waiting = [t for i, t in enumerate(tasks[:3]) if i not in passed]
        waiting[0].cancel()  # cancelled while waiting on the probe
        breaker.record_success()
        await settle()
        assert len(passed) == 2
        assert all(t.done() for t in tasks)
        assert breaker.state is CLOSED

    run(scenario)


def test_guard_records_outcomes_and_fails_a_cancelled_probe():
    async def scenario() -> None:
        time = FakeTime()
        breaker = CircuitBreaker(
            "p", failure_threshold=2, cooldown=5.0, clock=time, sleep=time.sleep
        )
        async with breaker.guard():
            pass
        with pytest.raises(UpstreamError):
            async with breaker.guard():
                raise UpstreamError("503")
        assert breaker.consecutive_failures == 1
        with pytest.raises(AuthError):
            async with breaker.guard():
                raise AuthError("401")
        assert breaker.consecutive_failures == 1  # neutral
        with pytest.raises(ProviderTimeoutError):
            async with breaker.guard():
                raise ProviderTimeoutError("slow")
        assert breaker.state is OPEN

        started = asyncio.Event()

        async def probe() -> None:
            async with breaker.guard():
                started.set()
                await asyncio.Event().wait()

        task = asyncio.create_task(probe())
        await settle()
        time.advance(5.0)
        await started.wait()
        assert breaker.state is HALF_OPEN
        assert not breaker.is_probe()  # this test's task is not the probe; ``task`` is
        task.cancel()
        await settle()
        assert breaker.state is OPEN
        assert breaker.opened_count == 2

    run(scenario)


def test_probe_acquired_in_a_helper_task_stays_the_probe():
    """On 3.11 ``wait_for`` acquires in an inner task that ends at once; that is no failed probe."""

    async def scenario() -> None:
        time = FakeTime()
        breaker = CircuitBreaker("p", failure_threshold=1, cooldown=0.0, clock=time)
        await _open(breaker)
        await breaker.acquire()
        assert breaker.is_probe()
        breaker.record_failure()
        assert not breaker.is_probe()
        await asyncio.wait_for(breaker.acquire(), timeout=1.0)
        await settle()
        assert breaker.state is HALF_OPEN
        breaker.record_success()
        assert breaker.state is CLOSED

    run(scenario)


def test_breaker_on_the_real_clock():
    """The default clock and sleep, with a short cooldown; no timing is asserted."""

    async def scenario() -> None:
        breaker = CircuitBreaker("p", failure_threshold=2, cooldown=0.05)
        await _open(breaker)
        passed: list[int] = []
        tasks = _start(10, breaker, passed)
        while not passed:
            await asyncio.sleep(0.01)
        assert breaker.state is HALF_OPEN
        await asyncio.sleep(0.1)  # a cooldown and then some: still one probe
        assert len(passed) == 1
        breaker.record_success()
        await asyncio.gather(*tasks)
        assert sorted(passed) == list(range(10))

    run(scenario)


def test_one_breaker_survives_several_event_loops():
    time = FakeTime()
    breaker = CircuitBreaker("p", failure_threshold=1, cooldown=0.0, clock=time)

    async def cycle() -> None:
        await breaker.acquire()
        breaker.record_failure()
        await breaker.acquire()  # cooldown 0: straight to the probe
        assert breaker.state is HALF_OPEN
        breaker.record_success()

    asyncio.run(cycle())
    asyncio.run(cycle())
    assert (breaker.opened_count, breaker.closed_count) == (2, 2)


# -------------------------------------------------------------------------------------- RateGate


class AutoTime:
    """A fake clock whose sleeps move it forward at once."""

    def __init__(self) -> None:
        self.now = 50.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_gate_defer_extends_never_shortens():
    time = AutoTime()
    gate = RateGate(clock=time, sleep=time.sleep)
    assert gate.remaining() == 0.0
    gate.defer(5.0)
    assert gate.remaining() == 5.0
    gate.defer(2.0)
    assert gate.remaining() == 5.0
    gate.defer(8.0)
    assert gate.remaining() == 8.0
    for nonsense in (-3.0, 0.0, float("nan"), float("inf")):
        gate.defer(nonsense)
    assert gate.remaining() == 8.0


def test_rate_gate_wait():
    async def scenario() -> None:
        time = AutoTime()
        gate = RateGate(clock=time, sleep=time.sleep)
        assert await gate.wait() == 0.0
        assert time.sleeps == []
        gate.defer(3.0)
        time.now += 1.0
        assert await gate.wait() == 2.0
        assert time.sleeps == [2.0]
        assert await gate.wait() == 0.0

    run(scenario)


def test_rate_gate_holds_every_caller_and_follows_a_later_defer():
    async def scenario() -> None:
        time = FakeTime()
        gate = RateGate(clock=time, sleep=time.sleep)
        gate.defer(4.0)
        waited: list[float] = []

        async def caller() -> None:
            waited.append(await gate.wait())

        tasks = [asyncio.create_task(caller()) for _ in range(3)]
        await settle()
        time.advance(2.0)
        gate.defer(5.0)  # another 429 while they wait: now 7 s from the start
        time.advance(2.0)
        await settle()
        assert waited == []
        time.advance(3.0)
        await settle()
        assert waited == [7.0, 7.0, 7.0]
        assert all(t.done() for t in tasks)

    run(scenario)
