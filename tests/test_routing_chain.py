"""Routers, the provider chain and the caller under it, with scripted in-process providers.

``ScriptedProvider`` implements the ``Provider`` interface: each call takes the next step of its
script (a forge error to raise, or a text to answer with) and answers "ok" once the script runs
out. Breakers and rate gates run on a ``FakeTime`` clock whose sleep advances it, so a pack held
through a 5 s cooldown takes no real time. HTTP behaviour is covered by test_chain.py against
loopback servers.
"""

from __future__ import annotations

import asyncio
import random

import pytest

from conftest import FakeTime
from forge_cli.core.calls import Completion, PackItem, PackRequest, RateInfo
from forge_cli.core.errors import (
    AuthError,
    FatalProviderError,
    NotFoundError,
    ProviderError,
    RateLimitError,
    RequestError,
    UpstreamError,
)
from forge_cli.engine.calling.caller import Caller, CallFailed
from forge_cli.engine.calling.chain import Chain
from forge_cli.engine.calling.member import Member
from forge_cli.engine.calling.routing import (
    ROUTERS,
    Balanced,
    Cheapest,
    Fastest,
    Ordered,
    make_router,
)
from forge_cli.engine.resilience.aimd import AimdLimiter
from forge_cli.engine.resilience.breaker import BreakerState, CircuitBreaker
from forge_cli.engine.resilience.buckets import RateLimiter
from forge_cli.engine.resilience.gate import RateGate
from forge_cli.engine.resilience.retry import default_retry_policy
from forge_cli.engine.stats import LATENCY_SAMPLES, ProviderStats, RunStats
from forge_cli.tasks.classify.task import TicketTask

REQUEST = TicketTask().build_request([PackItem("1", "x")])


async def no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


class ScriptedProvider:
    """A Provider that plays a script: errors are raised, texts are answered."""

    def __init__(
        self,
        name: str,
        script: list[ProviderError | str] | None = None,
        *,
        model: str = "m",
        price: tuple[float, float] = (0.0, 0.0),
        cacheable: bool = True,
        rate: RateInfo | None = None,
        gate: asyncio.Event | None = None,
    ) -> None:
        self.name = name
        self.model = model
        self.cacheable = cacheable
        self.price_in, self.price_out = price
        self.script = list(script or [])
        self.rate = rate
        self.gate = gate
        self.calls = 0
        self.closed = False

    async def complete(self, request: PackRequest) -> Completion:
        self.calls += 1
        if self.gate is not None:
            await self.gate.wait()
        step = self.script.pop(0) if self.script else "ok"
        if isinstance(step, ProviderError):
            raise step
        return Completion(step, 10, 5, self.model, latency_ms=100.0, rate=self.rate)

    async def aclose(self) -> None:
        self.closed = True


def member(
    name: str,
    script: list[ProviderError | str] | None = None,
    *,
    time: FakeTime,
    stats: RunStats | None = None,
    attempts: int = 1,
    threshold: int = 5,
    weight: float = 1.0,
    cap: int = 4,
    **provider_kw: object,
) -> Member:
    provider = ScriptedProvider(name, script, **provider_kw)  # type: ignore[arg-type]
    caller = Caller(
        provider,
        stats or RunStats(),
        retry=default_retry_policy(attempts, initial=0.0),
        sleep=no_sleep,
        limiter=AimdLimiter(cap),
        gate=RateGate(time, time.sleep),
    )
    # the same breaker the caller builds, on the fake clock
    caller.breaker = CircuitBreaker(
        name, failure_threshold=threshold, cooldown=5.0, clock=time, sleep=time.sleep
    )
    return Member(provider, caller, weight=weight)


def trip(m: Member) -> None:
    while m.caller.breaker.state is not BreakerState.OPEN:
        m.caller.breaker.record_failure()


def calls(m: Member) -> int:
    provider = m.provider
    assert isinstance(provider, ScriptedProvider)
    return provider.calls


def upstream(name: str) -> UpstreamError:
    return UpstreamError("bad gateway", provider=name, status=502)


# ------------------------------------------------------------------------------------ routers


@pytest.fixture
def time() -> FakeTime:
    return FakeTime()


def names(members: list[Member]) -> list[str]:
    return [m.name for m in members]


def test_ordered_keeps_the_chain_order(time: FakeTime) -> None:
    chain = [member(n, time=time) for n in "abc"]
    order = Ordered().order(chain, (100, 10))
    assert names(order) == ["a", "b", "c"]
    assert order is not chain


def test_cheapest_sorts_by_the_packs_price_and_keeps_ties_in_chain_order(time: FakeTime) -> None:
    pricey = member("pricey", time=time, price=(2.5, 10.0))
    cheap1 = member("cheap1", time=time, price=(0.15, 0.6))
    cheap2 = member("cheap2", time=time, price=(0.15, 0.6))
    assert names(Cheapest().order([pricey, cheap1, cheap2], (1000, 100))) == [
        "cheap1",
        "cheap2",
        "pricey",
    ]
    assert names(Cheapest().order([cheap2, pricey, cheap1], (1000, 100))) == [
        "cheap2",
        "cheap1",
        "pricey",
    ]


def test_cheapest_depends_on_the_token_mix(time: FakeTime) -> None:
    cheap_in = member("cheap_in", time=time, price=(0.1, 10.0))
    cheap_out = member("cheap_out", time=time, price=(1.0, 1.0))
    assert cheap_in.cost_of(1000, 100) == pytest.approx((1000 * 0.1 + 100 * 10.0) / 1e6)
    chain = [cheap_out, cheap_in]
    assert names(Cheapest().order(chain, (10_000, 10))) == ["cheap_in", "cheap_out"]
    assert names(Cheapest().order(chain, (10, 10_000))) == ["cheap_out", "cheap_in"]


def test_fastest_tries_unmeasured_first_then_the_lowest_latency(time: FakeTime) -> None:
    slow, new1, quick, new2 = (member(n, time=time) for n in ("slow", "new1", "quick", "new2"))
    slow.latency.observe(800.0)
    quick.latency.observe(120.0)
    assert names(Fastest().order([slow, new1, quick, new2], (0, 0))) == [
        "new1",
        "new2",
        "quick",
        "slow",
    ]


def test_fastest_follows_the_moving_average(time: FakeTime) -> None:
    a, b = member("a", time=time), member("b", time=time)
    a.latency.observe(100.0)
    b.latency.observe(200.0)
    assert names(Fastest().order([a, b], (0, 0))) == ["a", "b"]
    for _ in range(10):  # a got slow: its average follows within a few samples
        a.latency.observe(1000.0)
    assert a.latency.value is not None and a.latency.value > 200.0
    assert names(Fastest().order([a, b], (0, 0))) == ["b", "a"]


def test_balanced_three_to_one_is_smooth(time: FakeTime) -> None:
    a, b = member("a", time=time, weight=3), member("b", time=time, weight=1)
    router = Balanced()
    firsts = [router.order([a, b], (0, 0))[0].name for _ in range(8)]
    assert firsts == ["a", "a", "b", "a", "a", "a", "b", "a"]


def test_balanced_keeps_the_rest_of_the_chain_as_fallback_order(time: FakeTime) -> None:
    a, b, c = (member(n, time=time) for n in "abc")
    router = Balanced()
    orders = [names(router.order([a, b, c], (0, 0))) for _ in range(3)]
    assert orders == [["a", "b", "c"], ["b", "a", "c"], ["c", "a", "b"]]


def test_balanced_skips_members_that_cannot_take_a_pack(time: FakeTime) -> None:
    a, b, c = member("a", time=time, weight=3), member("b", time=time), member("c", time=time)
    a.drop("auth")
    router = Balanced()
    firsts = [router.order([a, b, c], (0, 0))[0].name for _ in range(4)]
    assert firsts == ["b", "c", "b", "c"]
    trip(b)  # an open breaker is passed over too
    assert {router.order([a, b, c], (0, 0))[0].name for _ in range(3)} == {"c"}


def test_balanced_with_nothing_usable_keeps_the_chain_order(time: FakeTime) -> None:
    a, b = member("a", time=time), member("b", time=time)
    trip(a)
    trip(b)
    assert names(Balanced().order([a, b], (0, 0))) == ["a", "b"]


def test_strategies_keep_the_offline_baseline_last(time: FakeTime) -> None:
    # free and instant, the baseline would win every contest; it stays the last resort
    offline = member("offline", time=time, cacheable=False)
    pricey = member("pricey", time=time, price=(5.0, 20.0))
    slow = member("slow", time=time)
    offline.latency.observe(0.1)
    pricey.latency.observe(300.0)
    slow.latency.observe(900.0)
    chain = [offline, pricey, slow]
    assert names(Cheapest().order(chain, (1000, 100)))[-1] == "offline"
    assert names(Fastest().order(chain, (0, 0))) == ["pricey", "slow", "offline"]
    router = Balanced()
    assert all(names(router.order(chain, (0, 0)))[-1] == "offline" for _ in range(6))
    assert names(Ordered().order(chain, (0, 0)))[0] == "offline"  # as written, if so written


def test_make_router_knows_every_strategy_by_name() -> None:
    assert set(ROUTERS) == {"ordered", "cheapest", "fastest", "balanced"}
    for name in ROUTERS:
        assert make_router(name).name == name
    # a fresh router each time: balanced keeps per-run state
    assert make_router("balanced") is not make_router("balanced")
    with pytest.raises(ValueError, match=r"unknown routing 'random'.*ordered, cheapest"):
        make_router("random")


# ------------------------------------------------------------------------------------ chain


def test_a_healthy_first_provider_answers_alone(time: FakeTime) -> None:
    stats = RunStats()
    a, b = member("a", ["answer"], time=time, stats=stats), member("b", time=time, stats=stats)
    chain = Chain([a, b], stats=stats)
    completion, attempts, answered = asyncio.run(chain.call(REQUEST, (100, 10)))
    assert (completion.content, attempts, answered) == ("answer", 1, a)
    assert calls(b) == 0
    assert a.latency.value == 100.0 and b.latency.value is None


def test_a_failing_provider_hands_the_pack_to_the_next(time: FakeTime) -> None:
    stats = RunStats()
    a = member("a", [upstream("a"), upstream("a")], time=time, stats=stats, attempts=2)
    b = member("b", time=time, stats=stats)
    chain = Chain([a, b], stats=stats)
    completion, attempts, answered = asyncio.run(chain.call(REQUEST))
    assert answered is b and completion.content == "ok"
    assert attempts == 3  # two at a, one at b
    assert a.usage.fallbacks == 1 and b.usage.fallbacks == 0
    assert a.usage.upstream_errors == 2 and stats.upstream_errors == 2
    assert stats.retries == 1
    assert a.latency.value is None and b.latency.value == 100.0


def test_the_last_provider_failing_fails_the_pack_with_its_error(time: FakeTime) -> None:
    stats = RunStats()
    a = member("a", [upstream("a")], time=time, stats=stats)
    b = member("b", [RequestError("bad request", provider="b", status=400)], time=time)
    chain = Chain([a, b], stats=stats)
    with pytest.raises(CallFailed) as failed:
        asyncio.run(chain.call(REQUEST))
    assert isinstance(failed.value.error, RequestError)
    assert failed.value.attempts == 2
    assert a.usage.fallbacks == 1 and b.usage.fallbacks == 0  # b had no one to hand it to


def test_an_auth_error_drops_the_provider_with_one_notice(time: FakeTime) -> None:
    stats = RunStats()
    lines: list[str] = []
    auth = AuthError("invalid API key", provider="a", status=401)
    a = member("a", [auth], time=time, stats=stats)
    b = member("b", time=time, stats=stats)
    chain = Chain([a, b], stats=stats, notify=lines.append)

    async def run() -> list[Member]:
        return [(await chain.call(REQUEST))[2] for _ in range(4)]

    assert asyncio.run(run()) == [b] * 4
    assert lines == ["a dropped for this run: invalid API key; going on with b"]
    assert stats.notices == lines
    assert calls(a) == 1 and calls(b) == 4  # never asked again
    assert a.dropped == "a: invalid API key (HTTP 401)"
    assert a.usage.fallbacks == 1
    assert stats.summary()["providers"]["a"]["dropped"] == a.dropped


def test_two_packs_failing_auth_at_once_give_one_notice(time: FakeTime) -> None:
    stats = RunStats()
    lines: list[str] = []
    gate = asyncio.Event()
    script: list[ProviderError | str] = [AuthError("revoked", provider="a", status=403)] * 2
    a = member("a", script, time=time, stats=stats, gate=gate)
    b = member("b", time=time, stats=stats)
    chain = Chain([a, b], stats=stats, notify=lines.append)

    async def run() -> list[Member]:
        packs = [asyncio.create_task(chain.call(REQUEST)) for _ in range(2)]
        await asyncio.sleep(0.01)
        assert calls(a) == 2  # both in flight at a when it turns out to be revoked
        gate.set()
        return [answered for _, _, answered in await asyncio.gather(*packs)]

    assert asyncio.run(run()) == [b, b]
    assert lines == ["a dropped for this run: revoked; going on with b"]


def test_every_provider_dropped_ends_with_no_provider_left(time: FakeTime) -> None:
    stats = RunStats()
    lines: list[str] = []
    a = member("a", [AuthError("invalid API key", provider="a", status=401)], time=time)
    b = member("b", [NotFoundError("no such model", provider="b", status=404)], time=time)
    chain = Chain([a, b], stats=stats, notify=lines.append)
    with pytest.raises(CallFailed) as failed:
        asyncio.run(chain.call(REQUEST))
    error = failed.value.error
    assert isinstance(error, FatalProviderError)
    assert error.message == (
        "no provider left: a: invalid API key (HTTP 401); b: no such model (HTTP 404)"
    )
    assert failed.value.attempts == 2
    assert lines == [
        "a dropped for this run: invalid API key; going on with b",
        "b dropped for this run: no such model",
    ]
    # later packs fail at once, without calling anyone
    with pytest.raises(CallFailed, match="no provider left") as again:
        asyncio.run(chain.call(REQUEST))
    assert again.value.attempts == 0
    assert calls(a) == calls(b) == 1


def test_an_open_breaker_is_skipped_while_a_later_provider_can_answer(time: FakeTime) -> None:
    stats = RunStats()
    a, b = member("a", time=time, stats=stats), member("b", time=time, stats=stats)
    trip(a)
    assert a.breaker_open() and not a.usable()
    _, attempts, answered = asyncio.run(Chain([a, b], stats=stats).call(REQUEST))
    assert answered is b and attempts == 1
    assert calls(a) == 0 and a.usage.fallbacks == 0  # passed over, not failed
    assert time.now == 0.0  # nobody waited out the cooldown


def test_an_open_breaker_holds_the_pack_when_it_is_the_last_one(time: FakeTime) -> None:
    stats = RunStats()
    b = member("b", [upstream("b")], time=time, stats=stats)
    a = member("a", time=time, stats=stats)
    trip(a)
    _, attempts, answered = asyncio.run(Chain([b, a], stats=stats).call(REQUEST))
    assert answered is a and attempts == 2
    assert time.now == 5.0  # held through a's cooldown, then a's probe answered
    assert a.caller.breaker.state is BreakerState.CLOSED
    assert b.usage.fallbacks == 1


def test_with_every_breaker_open_the_first_provider_holds_the_pack(time: FakeTime) -> None:
    stats = RunStats()
    a, b = member("a", time=time, stats=stats), member("b", time=time, stats=stats)
    trip(a)
    trip(b)
    _, _, answered = asyncio.run(Chain([a, b], stats=stats).call(REQUEST))
    assert answered is a and calls(b) == 0
    assert time.now == 5.0


def test_a_breaker_opening_mid_call_hands_the_pack_on_without_waiting(time: FakeTime) -> None:
    stats = RunStats()
    a = member("a", [upstream("a")] * 3, time=time, stats=stats, attempts=3, threshold=1)
    b = member("b", time=time, stats=stats)
    _, attempts, answered = asyncio.run(Chain([a, b], stats=stats).call(REQUEST))
    assert answered is b
    assert calls(a) == 1 and attempts == 2  # a's retries were not spent on a cooling breaker
    assert time.now == 0.0
    assert a.usage.fallbacks == 1


def test_a_long_pause_is_skipped_and_a_short_one_waited_out(time: FakeTime) -> None:
    stats = RunStats()
    a, b = member("a", time=time, stats=stats), member("b", time=time, stats=stats)
    chain = Chain([a, b], stats=stats)
    a.caller.gate.defer(30.0)  # 429 with Retry-After: 30
    assert a.paused()
    assert asyncio.run(chain.call(REQUEST))[2] is b
    assert time.now == 0.0

    time.now += 29.0  # one second left: not worth a fallback
    assert not a.paused()
    assert asyncio.run(chain.call(REQUEST))[2] is a
    assert time.now == pytest.approx(30.0)


def test_the_chain_calls_in_the_routers_order(time: FakeTime) -> None:
    stats = RunStats()
    pricey = member("pricey", time=time, stats=stats, price=(5.0, 15.0))
    cheap = member("cheap", time=time, stats=stats, price=(0.1, 0.4))
    chain = Chain([pricey, cheap], stats=stats, router=Cheapest())
    assert asyncio.run(chain.call(REQUEST, (1000, 100)))[2] is cheap

    a, b = member("a", time=time, stats=stats, weight=2), member("b", time=time, stats=stats)
    balanced = Chain([a, b], stats=stats, router=Balanced())

    async def run() -> list[str]:
        return [(await balanced.call(REQUEST))[2].name for _ in range(6)]

    assert asyncio.run(run()) == ["a", "b", "a", "a", "b", "a"]


def test_what_the_runner_reads_from_a_chain(time: FakeTime) -> None:
    stats = RunStats()
    a = member("a", time=time, stats=stats, model="gpt-4o", cap=4, cacheable=False)
    b = member("b", time=time, stats=stats, model="gpt-4o", cap=6, cacheable=False)
    c = member("c", time=time, stats=stats, model="gemini-2.0-flash", cap=2)
    chain = Chain([a, b, c], stats=stats)
    assert chain.label == "a,b,c"
    assert chain.model_label == "gpt-4o,gemini-2.0-flash"
    assert chain.identity == "a|gpt-4o,b|gpt-4o,c|gemini-2.0-flash"
    assert chain.concurrency == 12
    assert chain.cacheable
    assert not Chain([a, b], stats=RunStats()).cacheable
    assert list(stats.providers) == ["a", "b", "c"]
    assert stats.providers["a"] is a.usage
    asyncio.run(chain.aclose())
    assert all(m.provider.closed for m in (a, b, c))  # type: ignore[attr-defined]


def test_a_chain_needs_a_provider_and_single_wraps_one_caller(time: FakeTime) -> None:
    with pytest.raises(ValueError):
        Chain([], stats=RunStats())
    stats = RunStats()
    caller = member("solo", time=time, stats=stats).caller
    chain = Chain.single(caller, stats)
    assert chain.label == "solo" and chain.members[0].caller is caller
    assert asyncio.run(chain.call(REQUEST))[2].name == "solo"


# ------------------------------------------------------------------------------------ caller


def test_a_429_halves_the_limit_and_drains_the_buckets(time: FakeTime) -> None:
    stats = RunStats()
    slow_down = RateLimitError("slow down", provider="a", status=429)
    m = member("a", [slow_down], time=time, stats=stats, attempts=2, cap=8)
    m.caller.rate = RateLimiter(tpm=6000, clock=time, sleep=time.sleep)  # 90 tokens/s, 90 held
    _, attempts = asyncio.run(m.caller.call(REQUEST, 10))
    assert attempts == 2
    assert m.caller.limiter.decreases == 1
    assert m.caller.limiter.limit == 4.0 + 1 / 4  # halved, then one additive success
    assert m.usage.rate_limited == 1 and stats.rate_limited == 1
    # 80 tokens were left after the first call; the 429 spent them, so the retry waited
    assert time.now == pytest.approx(10 / 90)
    assert m.usage.ok == 1 and m.usage.concurrency == 4


def test_a_429_with_retry_after_pauses_the_provider(time: FakeTime) -> None:
    slow_down = RateLimitError("slow down", provider="a", status=429, retry_after=3.0)
    m = member("a", [slow_down], time=time, attempts=2)
    _, attempts = asyncio.run(m.caller.call(REQUEST, 10))
    assert attempts == 2
    assert time.now == pytest.approx(3.0)  # the Retry-After pause, on the fake clock
    assert m.caller.gate.remaining() == 0.0


def test_the_caller_learns_limits_from_the_answers_headers(time: FakeTime) -> None:
    m = member("a", time=time, rate=RateInfo(rpm_limit=600, tpm_limit=90_000))
    m.caller.rate = RateLimiter(clock=time, sleep=time.sleep)
    asyncio.run(m.caller.call(REQUEST, 100))
    assert m.caller.rate.rpm == 600 and m.caller.rate.tpm == 90_000
    assert m.usage.rpm == 600
    assert len(m.usage.latencies) == 1


def test_a_caller_that_may_not_hold_gives_up_on_an_open_breaker(time: FakeTime) -> None:
    m = member("a", time=time)
    trip(m)
    with pytest.raises(CallFailed, match="circuit breaker open") as failed:
        asyncio.run(m.caller.call(REQUEST, hold=False))
    assert failed.value.attempts == 0 and calls(m) == 0


# ------------------------------------------------------------------------------------ stats


def test_percentiles_of_known_latencies() -> None:
    usage = ProviderStats("a")
    assert usage.percentile(0.5) is None
    samples = [float(ms) for ms in range(0, 201, 10)]  # 0, 10, ..., 200: 21 samples
    random.Random(7).shuffle(samples)
    usage.latencies.extend(samples)
    assert usage.percentile(0.5) == 100.0
    assert usage.percentile(0.95) == 190.0
    assert usage.percentile(0.0) == 0.0
    assert usage.percentile(1.0) == 200.0


def test_percentiles_follow_the_newest_samples() -> None:
    usage = ProviderStats("a")
    usage.latencies.extend([5000.0] * LATENCY_SAMPLES)
    usage.latencies.extend([10.0] * LATENCY_SAMPLES)  # the slow start has rolled out
    assert usage.percentile(0.95) == 10.0


def test_provider_summary() -> None:
    usage = ProviderStats("a", "gpt-4o", calls=3, ok=2, rate_limited=1, timeouts=1, cost=0.1234567)
    usage.latencies.extend([100.04, 200.06, 300.0])
    summary = usage.summary()
    assert set(summary) == {
        "model",
        "calls",
        "ok",
        "items",
        "errors",
        "rate_limited",
        "timeouts",
        "upstream_errors",
        "fallbacks",
        "tokens_in",
        "tokens_out",
        "cost_usd",
        "p50_ms",
        "p95_ms",
        "rpm",
        "breaker_opened",
        "dropped",
    }
    assert summary["errors"] == 2
    assert summary["cost_usd"] == 0.123457
    assert (summary["p50_ms"], summary["p95_ms"]) == (200.1, 300.0)
    assert ProviderStats("b").summary()["p50_ms"] is None
