"""The stall watch and what the caller and the chain do with its verdict, on a fake clock.

When a provider is given up on decides whether a run with a dead provider ends, and whether a run
with a flaky one is cut short: both sides are pinned here (the subprocess cases against real
servers are in test_reliability_net.py).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

import pytest

from forge_cli.core.calls import Completion, PackRequest
from forge_cli.core.errors import (
    FatalProviderError,
    InvalidResponseError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StalledError,
    UnreachableError,
    UpstreamError,
)
from forge_cli.core.models import Item
from forge_cli.engine.calling.caller import Caller, CallFailed
from forge_cli.engine.calling.chain import Chain, Member
from forge_cli.engine.resilience.retry import default_retry_policy
from forge_cli.engine.resilience.stall import StallWatch
from forge_cli.engine.rounds import sort_back
from forge_cli.engine.stats import RunStats


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def timeout() -> ProviderTimeoutError:
    return ProviderTimeoutError("no complete answer within 2 s", provider="p")


def refused() -> UnreachableError:
    return UnreachableError("cannot connect to http://127.0.0.1:9", provider="p")


def fail_at(
    watch: StallWatch, clock: Clock, error: ProviderError, sent: float, ended: float
) -> None:
    clock.now = ended
    watch.failed(error, sent)


def test_nothing_listening_before_any_answer_drops_at_once() -> None:
    clock = Clock()
    watch = StallWatch(180, clock=clock)
    watch.enter()
    fail_at(watch, clock, refused(), clock.now, clock.now + 0.01)
    assert watch.verdict is not None and watch.verdict.startswith("nothing listening")
    assert "http://127.0.0.1:9" in watch.verdict


def test_a_server_that_answered_once_is_not_dropped_at_the_first_refusal() -> None:
    clock = Clock()
    watch = StallWatch(60, clock=clock)
    watch.enter()
    watch.answered()
    fail_at(watch, clock, refused(), 1000.0, 1001.0)
    assert watch.verdict is None  # a restart, maybe: give it the stall time
    fail_at(watch, clock, refused(), 1030.0, 1030.5)
    assert watch.verdict is None
    fail_at(watch, clock, refused(), 1061.0, 1061.5)
    assert (
        watch.verdict is not None
        and "no answer for 62 s, past the stall timeout of 60 s" in watch.verdict
    )
    assert "3 could not connect" in watch.verdict


def test_any_answer_before_proves_something_listens() -> None:
    clock = Clock()
    watch = StallWatch(60, clock=clock)
    watch.enter()
    fail_at(watch, clock, InvalidResponseError("not a chat completion", provider="p"), 1000, 1000)
    fail_at(watch, clock, refused(), 1001.0, 1001.0)
    assert watch.verdict is None


def test_one_long_timeout_never_drops_a_provider_alone() -> None:
    clock = Clock()
    watch = StallWatch(30, clock=clock)
    watch.enter()
    fail_at(watch, clock, timeout(), 1000.0, 1100.0)  # a single call, longer than the limit
    assert watch.verdict is None
    fail_at(watch, clock, timeout(), 1100.0, 1101.0)
    assert watch.verdict is not None and "2 timed out" in watch.verdict


def test_an_answer_starts_the_count_again() -> None:
    clock = Clock()
    watch = StallWatch(10, clock=clock)
    watch.enter()
    fail_at(watch, clock, timeout(), 1000.0, 1002.0)
    clock.now = 1008.0
    watch.answered()
    # sent before the answer came: the stretch counts from the answer, not from its sending
    fail_at(watch, clock, timeout(), 1001.0, 1012.0)
    fail_at(watch, clock, timeout(), 1012.0, 1017.0)
    assert watch.verdict is None  # 9 s since the answer
    fail_at(watch, clock, timeout(), 1017.0, 1019.0)
    assert watch.verdict is not None and "3 timed out" in watch.verdict


def test_answers_that_say_nothing_of_health_neither_drop_nor_save_a_provider() -> None:
    clock = Clock()
    watch = StallWatch(10, clock=clock)
    watch.enter()
    for second in range(0, 60, 5):  # a minute of 429s and rejected requests: a live server
        fail_at(
            watch, clock, RateLimitError("slow down", provider="p", status=429), 0, 1000 + second
        )
    assert watch.verdict is None
    fail_at(watch, clock, UpstreamError("server error", provider="p", status=503), 1060, 1061)
    fail_at(watch, clock, RateLimitError("slow down", provider="p", status=429), 1062, 1063)
    fail_at(watch, clock, UpstreamError("server error", provider="p", status=503), 1070, 1071)
    assert watch.verdict is not None and "2 HTTP 503" in watch.verdict


def test_a_quiet_spell_longer_than_the_limit_forgets_old_failures() -> None:
    clock = Clock()
    watch = StallWatch(30, clock=clock)
    watch.enter()
    fail_at(watch, clock, timeout(), 1000.0, 1002.0)
    watch.leave()
    clock.now = 1100.0  # nobody wanted the provider for longer than the stall time
    watch.enter()
    fail_at(watch, clock, timeout(), 1100.0, 1102.0)
    assert watch.verdict is None
    # while it stays wanted, the time counts: a breaker's cooldown between probes is no pause
    watch.leave()
    clock.now = 1112.0
    watch.enter()
    fail_at(watch, clock, timeout(), 1112.0, 1132.0)
    assert watch.verdict is not None


def test_a_limit_of_zero_never_drops() -> None:
    clock = Clock()
    watch = StallWatch(0, clock=clock)
    watch.enter()
    fail_at(watch, clock, refused(), 1000.0, 1000.0)
    fail_at(watch, clock, timeout(), 1000.0, 5000.0)
    assert watch.verdict is None
    with pytest.raises(ValueError):
        StallWatch(-1)


# ------------------------------------------------------------------ caller and chain


class Scripted:
    """A provider that fails with the given errors, or answers when the script says "ok"."""

    cacheable = True
    price_in = price_out = 0.0

    def __init__(self, name: str, script: list[ProviderError | str]) -> None:
        self.name, self.model = name, f"{name}-model"
        self.script = list(script)
        self.calls = 0

    async def complete(self, request: PackRequest) -> Completion:
        self.calls += 1
        step = self.script[min(self.calls, len(self.script)) - 1]
        if isinstance(step, ProviderError):
            raise step
        return Completion(content="[]", tokens_in=1, tokens_out=1, model=self.model)

    async def aclose(self) -> None:
        pass


async def _no_sleep(seconds: float) -> None:
    await asyncio.sleep(0)


def scripted_member(name: str, script: list[ProviderError | str], stall: float) -> Member:
    provider = Scripted(name, script)
    caller = Caller(
        provider,
        RunStats(),
        retry=default_retry_policy(3, initial=0.0),
        sleep=_no_sleep,
        stall=StallWatch(stall),
    )
    return Member(provider, caller)


def request() -> PackRequest:
    return PackRequest(messages=[{"role": "user", "content": "[]"}], items=[])


def test_a_refused_first_call_drops_the_member_and_the_next_answers_with_one_notice() -> None:
    notices: list[str] = []
    dead = scripted_member("local", [refused()], stall=180)
    backup = scripted_member("backup", ["ok"], stall=180)
    chain = Chain([dead, backup], stats=RunStats(), notify=notices.append)

    async def go() -> list[str]:
        answered = [(await chain.call(request()))[2].name for _ in range(5)]
        return answered

    assert asyncio.run(go()) == ["backup"] * 5
    assert dead.provider.calls == 1  # not retried, not probed again: dropped  # type: ignore[attr-defined]
    assert notices == [
        "local dropped for this run: nothing listening, cannot connect to "
        "http://127.0.0.1:9; going on with backup"
    ]
    assert isinstance(dead.drop_error, StalledError)


def test_when_every_member_stalled_the_chain_says_stalled_not_misconfigured() -> None:
    only = scripted_member("local", [refused()], stall=180)
    chain = Chain([only], stats=RunStats())
    with pytest.raises(CallFailed) as failed:
        asyncio.run(chain.call(request()))
    assert isinstance(failed.value.error, StalledError)

    a = scripted_member("a", [refused()], stall=180)
    b = scripted_member("b", [refused()], stall=180)
    both = Chain([a, b], stats=RunStats())
    with pytest.raises(CallFailed) as failed:
        asyncio.run(both.call(request()))
    assert isinstance(failed.value.error, StalledError)
    assert str(failed.value.error).startswith("no provider left: a: nothing listening")
    # a refused key among them is the user's to fix: not a stall
    c = scripted_member("c", [refused()], stall=180)
    c.drop("c: bad key", FatalProviderError("bad key"))
    mixed = Chain([c, scripted_member("d", [refused()], stall=180)], stats=RunStats())
    with pytest.raises(CallFailed) as failed:
        asyncio.run(mixed.call(request()))
    assert not isinstance(failed.value.error, StalledError)


def test_avoided_members_are_passed_over_while_another_is_left() -> None:
    a = scripted_member("a", ["ok"], stall=0)
    b = scripted_member("b", ["ok"], stall=0)
    chain = Chain([a, b], stats=RunStats())
    assert asyncio.run(chain.call(request(), avoid={"a"}))[2] is b
    assert chain.has_other(["a"]) and not chain.has_other(["a", "b"])
    b.drop("gone")
    # nobody else is left: the avoided member is better than no answer at all
    assert asyncio.run(chain.call(request(), avoid={"a"}))[2] is a


class OneHangsTheRestTimeOut:
    """The first call never comes back; every later one fails with a timeout after a moment."""

    cacheable = True
    price_in = price_out = 0.0
    name, model = "local", "local-model"

    def __init__(self) -> None:
        self.calls = 0

    async def complete(self, request: PackRequest) -> Completion:
        self.calls += 1
        await asyncio.sleep(3600 if self.calls == 1 else 0.01)
        raise timeout()

    async def aclose(self) -> None:
        pass


def test_a_stall_cuts_off_every_call_still_waiting_on_the_provider() -> None:
    provider = OneHangsTheRestTimeOut()
    caller = Caller(
        provider,
        RunStats(),
        retry=default_retry_policy(20, initial=0.0),
        sleep=_no_sleep,
        breaker_threshold=100,
        stall=StallWatch(0.05),
    )

    async def go() -> list[BaseException]:
        calls = [asyncio.ensure_future(caller.call(request())) for _ in range(3)]
        # a cut-off call ends now, not when the hung request or a breaker cooldown would
        done = await asyncio.wait_for(asyncio.gather(*calls, return_exceptions=True), 10)
        return [outcome for outcome in done if isinstance(outcome, BaseException)]

    failures = asyncio.run(go())
    assert len(failures) == 3
    assert all(isinstance(f, CallFailed) and isinstance(f.error, StalledError) for f in failures)
    assert caller.stall.verdict is not None and "timed out" in caller.stall.verdict


def test_ctrl_c_still_cancels_a_call_the_stall_did_not_cut() -> None:
    caller = Caller(OneHangsTheRestTimeOut(), RunStats(), stall=StallWatch(60))

    async def go() -> None:
        call = asyncio.ensure_future(caller.call(request()))
        await asyncio.sleep(0.01)
        call.cancel()
        await call

    with pytest.raises(asyncio.CancelledError):
        asyncio.run(go())


def test_an_item_answered_badly_past_its_rounds_goes_to_the_others_then_fails() -> None:
    members = {"openai", "gemini"}

    def has_other(names: Iterable[str]) -> bool:
        return bool(members - set(names))

    fresh, spent = Item("a", 1, "x"), Item("b", 2, "y", rounds=3)
    again, onward, failed = sort_back([fresh, spent], 3, "openai", has_other)
    assert (again, onward, failed) == ([fresh], [spent], [])
    assert fresh.rounds == 1 and (spent.rounds, spent.avoid) == (0, ("openai",))
    # gemini answers it badly too, past its own rounds: nobody is left
    spent.rounds = 3
    assert sort_back([spent], 3, "gemini", has_other) == ([], [], [spent])
    # a call that failed on every member (no answer to blame) never moves on
    other = Item("c", 3, "z", rounds=3)
    assert sort_back([other], 3, None, has_other) == ([], [], [other])
