"""Pacing on a fake clock: token buckets, the RPM/TPM limiter and the AIMD concurrency limit.

The buckets run on ``FakeTime``: its sleep advances the clock by exactly the delay asked for, so a
test measures the time a run would have taken without waiting for any of it. Rates are powers of
two where a test counts seconds, so the sums stay exact in binary floating point.
"""

from __future__ import annotations

import asyncio
import math
from contextlib import AsyncExitStack
from itertools import pairwise

import pytest

from forge_cli.core.calls import RateInfo
from forge_cli.engine.resilience.aimd import AimdLimiter
from forge_cli.engine.resilience.buckets import SAFETY, RateLimiter, TokenBucket


class FakeTime:
    """A clock whose sleep moves it forward by the delay asked for (and yields once)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        assert len(self.sleeps) < 10_000, "runaway sleep loop"
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)


def bucket(rate: float | None, time: FakeTime, burst_seconds: float = 0.5) -> TokenBucket:
    return TokenBucket(rate, burst_seconds=burst_seconds, clock=time, sleep=time.sleep)


def limiter(time: FakeTime, rpm: float | None = None, tpm: float | None = None) -> RateLimiter:
    return RateLimiter(rpm, tpm, clock=time, sleep=time.sleep)


async def take_all(b: TokenBucket, n: int, tokens: float = 1.0) -> list[float]:
    return [await b.take(tokens) for _ in range(n)]


# ------------------------------------------------------------------------------------ TokenBucket


@pytest.mark.parametrize("rate", [None, 0, -5, math.inf, math.nan])
def test_unlimited_bucket_never_waits(rate: float | None) -> None:
    time = FakeTime()
    b = bucket(rate, time)
    assert b.rate is None and b.capacity == math.inf
    assert asyncio.run(take_all(b, 100, tokens=1e9)) == [0.0] * 100
    assert time.sleeps == [] and time.now == 0.0


def test_bucket_starts_full_then_paces_at_its_rate() -> None:
    time = FakeTime()
    b = bucket(8.0, time)  # 8 tokens/s, holding 0.5 s of them
    assert b.capacity == 4.0 and b.level == 4.0
    moments: list[float] = []

    async def run() -> None:
        for _ in range(20):
            await b.take()
            moments.append(time.now)

    asyncio.run(run())
    # the first `capacity` go at once, every later one 1/rate after the previous
    assert moments[:4] == [0.0] * 4
    assert [later - earlier for earlier, later in pairwise(moments[3:])] == [0.125] * 16
    assert time.now == pytest.approx((20 - b.capacity) / b.rate)


def test_take_returns_the_seconds_it_waited() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    waits = asyncio.run(take_all(b, 6))
    assert waits == [0.0, 0.0, 0.0, 0.0, 0.125, 0.125]
    assert sum(waits) == time.now


@pytest.mark.parametrize("start", [0.0, 10.0, 123_456.789])
def test_one_sleep_per_paced_take_at_any_clock_reading(start: float) -> None:
    # a rate that is not a power of two leaves the level an ulp short after the exact delay;
    # the take must still go, not sleep for a delay too small to move the clock
    time = FakeTime()
    time.now = start
    b = bucket(9.0, time, burst_seconds=0.1)
    asyncio.run(take_all(b, 50))
    assert len(time.sleeps) == 49
    assert time.now - start == pytest.approx(49 / 9)


def test_a_take_bigger_than_the_bucket_goes_when_full_and_leaves_a_debt() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    assert asyncio.run(b.take(20)) == 0.0  # full bucket: allowed at once, never refused
    assert b.level == -16.0
    # the next take waits out the debt plus its own token
    assert asyncio.run(b.take(1)) == pytest.approx(17 / 8)


def test_a_big_take_on_a_partly_empty_bucket_waits_until_it_is_full() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    asyncio.run(b.take(3))  # level 1 of 4
    assert asyncio.run(b.take(100)) == pytest.approx(3 / 8)
    assert b.level == pytest.approx(-96.0)


def test_refill_stops_at_capacity() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    asyncio.run(b.take(4))
    time.now += 60.0  # a minute idle buys a burst of `capacity`, not 480 tokens
    assert b.level == 4.0


def test_adjust_gives_back_and_charges_tokens() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    asyncio.run(b.take(4))
    assert b.level == 0.0
    b.adjust(3.0)  # the call cost less than estimated
    assert b.level == 3.0
    assert asyncio.run(b.take(1)) == 0.0
    b.adjust(100.0)  # never above the capacity
    assert b.level == 4.0
    b.adjust(-6.0)  # it cost more: a debt
    assert b.level == -2.0
    assert asyncio.run(b.take(1)) == pytest.approx(3 / 8)


def test_adjust_on_an_unlimited_bucket_is_a_no_op() -> None:
    b = bucket(None, FakeTime())
    b.adjust(-1000.0)
    assert asyncio.run(b.take(5)) == 0.0


def test_drain_empties_the_bucket_but_keeps_a_debt() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    b.drain()
    assert b.level == 0.0
    assert asyncio.run(b.take()) == 0.125
    b.adjust(-3.0)
    b.drain()  # nothing left is not the same as forgiving what is owed
    assert b.level == -3.0


def test_set_rate_changes_the_pace_and_the_cap() -> None:
    time = FakeTime()
    b = bucket(8.0, time)
    b.set_rate(2.0)
    assert b.rate == 2.0
    assert b.capacity == 1.0  # max(1, 2 * 0.5)
    assert b.level == 1.0  # a lower cap lowers the level with it
    assert asyncio.run(take_all(b, 4)) == [0.0, 0.5, 0.5, 0.5]

    b.set_rate(16.0)
    assert b.capacity == 8.0
    assert b.level == 0.0  # a higher cap does not fill the bucket
    assert asyncio.run(b.take()) == 1 / 16

    b.set_rate(None)
    assert b.capacity == math.inf
    assert asyncio.run(take_all(b, 50)) == [0.0] * 50


def test_capacity_is_at_least_one_token() -> None:
    # a slow rate still lets one request through at a time, instead of never
    b = bucket(0.25, FakeTime(), burst_seconds=0.1)
    assert b.capacity == 1.0
    assert asyncio.run(b.take()) == 0.0
    assert asyncio.run(b.take()) == 4.0


# ------------------------------------------------------------------------------------ RateLimiter


def test_rate_limiter_learns_the_limits_from_headers() -> None:
    time = FakeTime()
    rl = limiter(time)
    assert rl.requests.rate is None and rl.tokens.rate is None and not rl.learned

    rl.observe(RateInfo(rpm_limit=600))
    assert rl.rpm == 600.0 and rl.learned
    assert rl.requests.rate == pytest.approx(600 * SAFETY / 60)  # 9 per second
    assert rl.tokens.rate is None

    rl.observe(RateInfo(tpm_limit=150_000))
    assert rl.tpm == 150_000.0
    assert rl.tokens.rate == pytest.approx(150_000 * SAFETY / 60)
    assert rl.tokens.capacity == pytest.approx(rl.tokens.rate)  # one second's worth of tokens


def test_a_learned_limit_starts_with_an_empty_bucket() -> None:
    # the answers that taught the limit were already counted by the provider's window
    time = FakeTime()
    rl = limiter(time)
    rl.observe(RateInfo(rpm_limit=600))
    assert asyncio.run(rl.acquire(0)) == pytest.approx(1 / 9)


def test_observe_ignores_nothing_and_empty_headers() -> None:
    rl = limiter(FakeTime())
    rl.observe(None)
    rl.observe(RateInfo())
    assert rl.rpm is None and rl.tpm is None and not rl.learned


def test_a_configured_limit_is_never_overridden_by_headers() -> None:
    rl = limiter(FakeTime(), rpm=120)
    rl.observe(RateInfo(rpm_limit=600, tpm_limit=60_000))
    assert rl.rpm == 120
    assert rl.requests.rate == pytest.approx(120 * SAFETY / 60)
    # the limit that was not configured is still learned
    assert rl.tpm == 60_000.0
    assert rl.tokens.rate == pytest.approx(900.0)


def test_a_configured_limit_lets_the_first_call_go_at_once() -> None:
    time = FakeTime()
    rl = limiter(time, rpm=15, tpm=60_000)  # a free tier: one call every 4.4 s
    assert asyncio.run(rl.acquire(500)) == 0.0
    assert asyncio.run(rl.acquire(500)) == pytest.approx(60 / (15 * SAFETY))


def test_remaining_zero_drains_the_bucket() -> None:
    time = FakeTime()
    rl = limiter(time, rpm=600, tpm=6000)
    time.now += 10.0
    rl.observe(RateInfo(rpm_remaining=3, tpm_remaining=100))
    assert rl.requests.level == 1.0 and rl.tokens.level == pytest.approx(90.0)

    rl.observe(RateInfo(rpm_remaining=0))
    assert rl.requests.level == 0.0
    assert rl.tokens.level == pytest.approx(90.0)
    assert asyncio.run(rl.requests.take()) == pytest.approx(1 / 9)

    rl.observe(RateInfo(tpm_remaining=0))
    assert rl.tokens.level == 0.0


def test_rejected_drains_both_buckets() -> None:
    time = FakeTime()
    rl = limiter(time, rpm=600, tpm=6000)
    rl.rejected()
    assert rl.requests.level == 0.0 and rl.tokens.level == 0.0


def test_settle_credits_and_charges_the_token_bucket() -> None:
    time = FakeTime()
    rl = limiter(time, tpm=6000)  # 90 tokens/s, holding one second of them
    assert rl.tokens.level == pytest.approx(90.0)
    asyncio.run(rl.acquire(50))
    assert rl.tokens.level == pytest.approx(40.0)
    rl.settle(estimated=50, actual=20)  # cheaper than estimated: 30 back
    assert rl.tokens.level == pytest.approx(70.0)
    rl.settle(estimated=50, actual=80)  # dearer: 30 more
    assert rl.tokens.level == pytest.approx(40.0)
    rl.settle(estimated=1000, actual=0)
    assert rl.tokens.level == pytest.approx(90.0)  # never above capacity


def test_acquire_waits_for_both_buckets() -> None:
    time = FakeTime()
    rl = limiter(time, rpm=600, tpm=6000)
    asyncio.run(rl.acquire(90))  # both buckets empty now
    waited = asyncio.run(rl.acquire(45))
    # 1/9 s for the request slot, then the rest of 0.5 s for 45 tokens at 90/s
    assert waited == pytest.approx(0.5)
    assert time.now == pytest.approx(0.5)


# ------------------------------------------------------------------------------------ AimdLimiter


def test_aimd_rejects_bad_bounds() -> None:
    for kwargs in ({"maximum": 0}, {"maximum": 4, "minimum": 0}, {"maximum": 4, "minimum": 5}):
        with pytest.raises(ValueError):
            AimdLimiter(**kwargs)


def test_aimd_starts_at_the_maximum_unless_told_otherwise() -> None:
    assert AimdLimiter(16).current == 16
    assert AimdLimiter(16, initial=100).current == 16
    assert AimdLimiter(16, initial=0, minimum=2).current == 2


def test_slow_start_grows_one_per_success_to_the_maximum() -> None:
    aimd = AimdLimiter(16, initial=2)
    seen = [aimd.current]
    for _ in range(20):
        aimd.on_success()
        seen.append(aimd.current)
    assert seen[:15] == list(range(2, 17))
    assert seen[15:] == [16] * 6  # capped


async def hold_slots(aimd: AimdLimiter, stack: AsyncExitStack, n: int) -> list[int]:
    return [await stack.enter_async_context(aimd.slot()) for _ in range(n)]


def test_overloads_from_one_window_halve_once_and_a_later_call_halves_again() -> None:
    async def run() -> None:
        aimd = AimdLimiter(16)
        async with AsyncExitStack() as stack:
            seqs = await hold_slots(aimd, stack, 8)
            assert seqs == list(range(1, 9)) and aimd.in_flight == 8
            for seq in seqs:  # all of them saw the same congestion
                aimd.on_overload(seq)
            assert aimd.limit == 8.0 and aimd.decreases == 1
        async with aimd.slot() as later:  # started after the decrease
            assert later == 9
        aimd.on_overload(later)
        assert aimd.limit == 4.0 and aimd.decreases == 2
        aimd.on_overload(3)  # a straggler from the first window
        assert aimd.limit == 4.0 and aimd.decreases == 2

    asyncio.run(run())


def test_overload_never_goes_below_the_minimum() -> None:
    async def run() -> None:
        aimd = AimdLimiter(16, minimum=3)
        for _ in range(10):
            async with aimd.slot() as seq:
                pass
            aimd.on_overload(seq)
        assert aimd.limit == 3.0 and aimd.current == 3

    asyncio.run(run())


def test_overload_ends_slow_start() -> None:
    async def run() -> None:
        aimd = AimdLimiter(32, initial=4)
        aimd.on_success()
        assert aimd.limit == 5.0
        async with aimd.slot() as seq:
            pass
        aimd.on_overload(seq)
        assert aimd.limit == 2.5
        aimd.on_success()
        assert aimd.limit == pytest.approx(2.5 + 1 / 2.5)  # additive now, not +1

    asyncio.run(run())


def test_additive_increase_after_an_overload_is_one_slot_per_window() -> None:
    async def run() -> None:
        aimd = AimdLimiter(16)
        async with aimd.slot() as seq:
            pass
        aimd.on_overload(seq)
        assert aimd.current == 8
        successes = 0
        while aimd.current == 8:
            aimd.on_success()
            successes += 1
        assert aimd.current == 9
        assert 8 <= successes <= 9  # about `limit` successes per extra slot
        for _ in range(1000):
            aimd.on_success()
        assert aimd.limit == 16.0  # capped at the maximum

    asyncio.run(run())


def test_slot_blocks_at_the_limit_and_wakes_on_release() -> None:
    async def run() -> None:
        aimd = AimdLimiter(2)
        release = {n: asyncio.Event() for n in range(3)}
        entered: list[int] = []

        async def call(n: int) -> None:
            async with aimd.slot():
                entered.append(n)
                await release[n].wait()

        tasks = [asyncio.create_task(call(n)) for n in range(3)]
        await asyncio.sleep(0.01)
        assert entered == [0, 1] and aimd.in_flight == 2
        release[1].set()
        await asyncio.sleep(0.01)
        assert entered == [0, 1, 2] and aimd.in_flight == 2
        release[0].set()
        release[2].set()
        await asyncio.gather(*tasks)
        assert aimd.in_flight == 0

    asyncio.run(run())


def test_a_success_that_raises_the_limit_wakes_a_waiting_call() -> None:
    async def run() -> None:
        aimd = AimdLimiter(4, initial=1)
        done = asyncio.Event()
        entered: list[str] = []

        async def holder() -> None:
            async with aimd.slot():
                entered.append("holder")
                await done.wait()

        async def waiter() -> None:
            async with aimd.slot():
                entered.append("waiter")

        tasks = [asyncio.create_task(holder()), asyncio.create_task(waiter())]
        await asyncio.sleep(0.01)
        assert entered == ["holder"]
        aimd.on_success()  # slow start: the limit is 2 now, with the holder still in flight
        await asyncio.sleep(0.01)
        assert entered == ["holder", "waiter"]
        done.set()
        await asyncio.gather(*tasks)

    asyncio.run(run())


def test_a_cancelled_waiter_takes_no_slot() -> None:
    async def run() -> None:
        aimd = AimdLimiter(1)
        async with aimd.slot():
            waiter = asyncio.create_task(aimd.slot().__aenter__())
            await asyncio.sleep(0.01)
            assert not waiter.done()
            waiter.cancel()
            with pytest.raises(asyncio.CancelledError):
                await waiter
            assert aimd.in_flight == 1
        assert aimd.in_flight == 0
        async with aimd.slot() as seq:
            assert seq == 2

    asyncio.run(run())


# ------------------------------------------------------------------------- remaining as credit


async def paced_calls(rl: RateLimiter, n: int) -> tuple[int, float]:
    """Acquire and release ``n`` calls one after another; how many waited, and how long in all."""
    waits = []
    for _ in range(n):
        waits.append(await rl.acquire(0))
        rl.release()
    return sum(1 for w in waits if w > 0), sum(waits)


def test_remaining_requests_go_at_once_past_the_safety_margin() -> None:
    # 600 RPM announced, 500 of them still free: the next 499 calls need not wait for the bucket
    # (issue 14: 500 calls under a 600-RPM window were paced at 9 per second)
    time = FakeTime()
    rl = limiter(time)
    asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=500), call=rl.sent)
    rl.release()
    # the 501st waits: the credit is spent and the bucket, learned from this answer, starts empty
    assert asyncio.run(paced_calls(rl, 501)) == (1, pytest.approx(60 / (600 * SAFETY)))
    assert rl.on_credit == 500


def test_credit_counts_the_calls_still_in_flight() -> None:
    time = FakeTime()
    rl = limiter(time)
    for _ in range(4):
        asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=10), call=rl.sent)
    assert rl.credit == 10 - 3


def test_an_older_calls_answer_does_not_raise_the_credit_again() -> None:
    time = FakeTime()
    rl = limiter(time)
    asyncio.run(rl.acquire(0))
    asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=3), call=2)
    rl.release()
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=50), call=1)
    rl.release()
    assert rl.credit == 3 - 1  # the other call in flight then counted against it


def test_a_spent_window_hands_pacing_back_to_the_bucket() -> None:
    # a sliding window frees its slots in the pattern they were taken: after it was spent once,
    # a fresh remaining count must not start another burst
    time = FakeTime()
    rl = limiter(time)
    asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=0), call=rl.sent)
    rl.release()
    asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=300), call=rl.sent)
    rl.release()
    waited, _ = asyncio.run(paced_calls(rl, 10))
    assert waited == 10 and rl.on_credit == 0


def test_a_429_ends_the_credit() -> None:
    time = FakeTime()
    rl = limiter(time, rpm=600)
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=300), call=1)
    assert rl.credit == 300
    rl.rejected(call=2)
    assert rl.credit == 0 and rl.exhausted


# ------------------------------------------------------------------ mirror of the provider's window


def test_a_known_window_is_filled_as_our_own_calls_leave_it() -> None:
    # 600 RPM over a 1 s window (10 calls): once the reset header told its length, calls go at
    # once while fewer than 10 are in flight or ended within the last second, then one by one as
    # the oldest leaves (issue 14: the bucket's 90% pace left a tenth of the window unused)
    time = FakeTime()
    rl = limiter(time)
    asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=9, rpm_reset=1.0), call=rl.sent)
    rl.release()
    assert rl.mirrored and (rl.log.window, rl.log.cap) == (1.0, 10)
    started = time.now
    waited, _ = asyncio.run(paced_calls(rl, 9))
    assert waited == 0 and time.now == started  # the window's other 9 slots at once
    waited, total = asyncio.run(paced_calls(rl, 10))
    assert waited == 1 and total == pytest.approx(1.0)  # then the next window, whole again


def test_calls_in_flight_count_against_the_window() -> None:
    time = FakeTime()
    rl = limiter(time)
    rl.log.learn(600, 1.0)
    for _ in range(10):  # ten on their way, none ended: the eleventh waits for one to end
        asyncio.run(rl.acquire(0))

    async def eleventh() -> bool:
        task = asyncio.ensure_future(rl.acquire(0))
        await asyncio.sleep(0)
        waiting = not task.done()
        rl.release()  # one ends: it is logged, and counts for a window from now
        await task
        return waiting

    assert asyncio.run(eleventh())


def test_a_refilling_bucket_teaches_a_short_window_of_the_same_rate() -> None:
    # a provider whose reset is the time to refill one request (OpenAI: 600 RPM, reset 0.1 s)
    time = FakeTime()
    rl = limiter(time)
    rl.log.learn(600, 0.1)
    assert not rl.mirrored  # a tenth of a second is too short to mirror from our own calls
    rl.log.learn(600, 0.5)
    assert (rl.log.window, rl.log.cap) == (0.5, 5)  # 10 calls a second, as announced
    rl.log.learn(600, 0.3)
    assert rl.log.window == 0.5  # only ever widens
    _, total = asyncio.run(paced_calls(rl, 50))
    assert total == pytest.approx(4.5, abs=0.01)  # 5 at once, then 5 per half second


def test_two_429s_of_mirrored_calls_hand_pacing_back_to_the_bucket() -> None:
    time = FakeTime()
    rl = limiter(time)
    asyncio.run(rl.acquire(0))
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=9, rpm_reset=1.0), call=rl.sent)
    rl.release()
    asyncio.run(rl.acquire(0))
    rl.rejected(call=rl.sent)
    rl.release()
    assert rl.mirrored  # one 429 (another client may have used the window): still the mirror
    asyncio.run(rl.acquire(0))
    rl.rejected(call=rl.sent)
    rl.release()
    assert not rl.mirrored and rl.log.window is None
    rl.observe(RateInfo(rpm_limit=600, rpm_remaining=9, rpm_reset=1.0), call=rl.sent)
    assert not rl.mirrored  # not learned again
