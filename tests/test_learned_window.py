"""A limit nobody announced, learned from the provider's 429s (issue 14).

A Gemini-wire provider with nothing configured says nothing of its rate limit until it refuses a
call with a 429 whose RetryInfo asks for a wait. forge used to bounce off such a limit: each 429
paused the provider and halved its concurrency, and the pause ended in a burst that collected the
next 429s, window after window. Now the first refusal teaches the window's count and a bound of its
length, and the calls after it are paced by a mirror of that window.

The first tests drive the rate limiter on a fake clock (what it learns, when a call may go, how a
refusal that was not a full window of ours is found out); the last runs forge against the
simulated Gemini upstream on 127.0.0.1, whose sliding window answers 429s as Gemini does, and
counts the 429s that come after the first ones.
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path

from conftest import API_KEY, KEY_ENV, FakeTime, forge, read_jsonl, write_tickets
from forge_cli.engine.resilience.buckets import RateLimiter
from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream


def unknown_limit(time: FakeTime) -> RateLimiter:
    return RateLimiter(clock=time, sleep=time.sleep)


async def answered(rl: RateLimiter, time: FakeTime, *, latency: float = 0.01) -> int:
    """One call that goes at once (or when the limiter lets it) and is accepted ``latency`` later;
    returns its number."""
    await rl.acquire(0)
    call = rl.sent
    time.now += latency
    rl.accepted(call)
    rl.release(call)
    return call


async def refused(rl: RateLimiter, time: FakeTime, delay: float | None) -> int:
    await rl.acquire(0)
    call = rl.sent
    time.now += 0.01
    rl.rejected(call, delay)
    rl.release(call)
    return call


async def fill_then_refuse(rl: RateLimiter, time: FakeTime, n: int, delay: float | None) -> None:
    """``n`` calls accepted 0.1 s apart, then one refused asking to wait ``delay``."""
    for _ in range(n):
        await answered(rl, time)
        time.now += 0.09
    await refused(rl, time, delay)


def test_the_first_refusal_teaches_the_count_and_a_bound_of_the_window() -> None:
    async def main() -> RateLimiter:
        time = FakeTime()
        rl = unknown_limit(time)
        await fill_then_refuse(rl, time, 10, 2.0)
        assert not rl.learned_window  # not before the pause it asked for is over
        time.now += 2.0
        await answered(rl, time)
        return rl

    rl = asyncio.run(main())
    learner = rl.learner
    assert rl.learned_window
    assert learner.cap == 10
    # the refusal came 1.01 s after the first call went and asked for 2 s more: the window is at
    # most 3.01 s long, and (the delay being whole seconds, rounded up) longer than 1.99 s
    assert learner.bound is not None and abs(learner.bound - 3.01) < 1e-6
    assert abs(learner.floor - 1.99) < 1e-6


def test_a_refusal_without_a_delay_teaches_nothing() -> None:
    async def main() -> RateLimiter:
        time = FakeTime()
        rl = unknown_limit(time)
        await fill_then_refuse(rl, time, 10, None)
        time.now += 5.0
        await answered(rl, time)
        return rl

    rl = asyncio.run(main())
    assert not rl.learned_window and rl.learner.cap is None


def test_a_known_limit_is_never_learned_from_429s() -> None:
    async def main() -> RateLimiter:
        time = FakeTime()
        rl = RateLimiter(rpm=600, clock=time, sleep=time.sleep)
        await fill_then_refuse(rl, time, 10, 2.0)
        time.now += 5.0
        await answered(rl, time)
        return rl

    rl = asyncio.run(main())
    assert not rl.learned_window and rl.learner.cap is None


class SlidingWindow:
    """The provider's side: ``cap`` calls within any ``length`` seconds, refusals asking for the
    whole seconds (rounded up) until the oldest leaves, as Gemini's RetryInfo does."""

    def __init__(self, cap: int, length: float) -> None:
        self.cap = cap
        self.length = length
        self.admitted: list[float] = []
        self.refusals = 0

    def admit(self, now: float) -> float | None:
        """None when admitted, else the delay the refusal asks."""
        inside = [t for t in self.admitted if t > now - self.length]
        if len(inside) < self.cap:
            self.admitted.append(now)
            return None
        self.refusals += 1
        return float(math.ceil(inside[0] + self.length - now))


async def through(rl: RateLimiter, time: FakeTime, window: SlidingWindow) -> None:
    """One call paced by the limiter, sent to ``window``, answered 0.01 s later."""
    await rl.acquire(0)
    call = rl.sent
    delay = window.admit(time.now)
    time.now += 0.01
    if delay is None:
        rl.accepted(call)
    else:
        rl.rejected(call, delay)
    rl.release(call)


def test_once_learned_the_window_refuses_almost_nothing() -> None:
    # 10 calls per 2.5 s; the run fills it in 0.9 s and its 11th call is refused (retry in 2 s):
    # learned as 10 calls in at most 3.01 s. The 200 calls after it, one at a time, are paced by
    # the mirror of that window while its length is walked down toward 2.5 s; only the walk's
    # tests that go too far are refused
    async def main() -> tuple[RateLimiter, SlidingWindow]:
        time = FakeTime()
        rl = unknown_limit(time)
        window = SlidingWindow(10, 2.5)
        for _ in range(11):
            await through(rl, time, window)
            time.now += 0.08
        assert window.refusals == 1
        time.now += 2.0  # the pause the refusal asked for
        for _ in range(200):
            await through(rl, time, window)
        return rl, window

    rl, window = asyncio.run(main())
    learner = rl.learner
    assert rl.learned_window and learner.cap == 10
    assert window.refusals - 1 <= 3, window.refusals
    assert learner.level is not None and 2.48 <= learner.level < 3.0


def test_a_refusal_that_was_no_full_window_of_ours_is_found_out() -> None:
    # a 429 after 3 calls (another client's burst, or a spurious one) asking for 1 s: learned
    # as 3 calls in at most 1.31 s, more than 0.29 s. The provider really takes 100 a second:
    # the walk's tests are all accepted, down past what that first refusal allowed, and the
    # learning is dropped instead of throttling the run to 3 calls a second
    async def main() -> tuple[RateLimiter, int]:
        time = FakeTime()
        rl = unknown_limit(time)
        await fill_then_refuse(rl, time, 3, 1.0)
        time.now += 1.0
        window = SlidingWindow(100, 1.0)
        calls = 0
        while rl.learner.cap is not None or calls == 0:
            await through(rl, time, window)
            calls += 1
            assert calls < 500, "still learned"
        return rl, window.refusals

    rl, refusals = asyncio.run(main())
    assert not rl.learned_window and rl.learner.attempts == 1
    assert refusals == 0


def test_three_misses_give_the_learning_up() -> None:
    # calls the learned window let go refused anyway, three times apart: the window is not what
    # it seemed (another client, or a provider rounding its delay down): back to the 429s alone
    async def main() -> RateLimiter:
        time = FakeTime()
        rl = unknown_limit(time)
        await fill_then_refuse(rl, time, 10, 2.0)
        time.now += 2.0
        for _ in range(3):
            time.now += 5.0
            await answered(rl, time)  # a later call, so the next refusal is news
            await refused(rl, time, 1.0)
        return rl

    rl = asyncio.run(main())
    assert rl.learner.given_up and rl.learner.misses == 3
    assert not rl.learned_window


# ------------------------------------------------------------------------------ over real HTTP


def test_after_the_first_429s_an_unknown_limit_is_kept(tmp_path: Path) -> None:
    # 3,000 RPM over a 2 s sliding window (100 calls per window), Gemini's wire: no rate-limit
    # headers, nothing configured, only 429s with RetryInfo. 500 calls span five windows; forge
    # used to collect a burst of 429s at each (every call in flight when the window filled).
    # Now only the first window's burst, and the few tests of the learned window's length
    with FakeUpstream(
        api_key=API_KEY, wire=GeminiWire(), rpm_limit=3000, rate_window=2.0, latency=0.005
    ) as server:
        (tmp_path / "forge.toml").write_text(
            f'[providers.g]\ntype = "gemini"\nbase_url = "{server.base_url}"\n'
            f'api_key_env = "{KEY_ENV}"\n'
        )
        src = write_tickets(tmp_path / "t.jsonl", [f"ticket number {i}" for i in range(500)])
        run = forge(
            "classify", str(src), "--provider", "g", "--pack", "1", "--concurrency", "8",
            "--retries", "6", "--no-progress", "--json-summary",
        )  # fmt: skip
        records = sorted(server.stats.records, key=lambda r: r.timestamp)
    assert run.exit_code == 0, run.stderr
    assert len(read_jsonl(src.with_name("t.results.jsonl"))) == 500
    statuses = [r.status for r in records]
    first = statuses.index(429)
    after_first_burst = statuses.index(200, first)
    burst = statuses[first:after_first_burst].count(429)
    later = statuses[after_first_burst:].count(429)
    assert 1 <= burst <= 8  # the calls in flight when the window filled
    assert later <= 6, (burst, later)  # the walk's tests and at most a miss or two
