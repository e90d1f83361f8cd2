"""Token estimates by script and the run's correction from reported usage.

The texts mix scripts the way tickets do (an English template around a customer's own words); the
expected counts come from OpenAI's cl100k_base tokenizer, measured with
``benchmarks/token_estimates.py`` and written here as ranges so that the test does not need it.
"""

from __future__ import annotations

import asyncio

from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.core.models import Complexity, Item
from forge_cli.core.text import estimate_tokens
from forge_cli.engine.batcher import PackLimits, Scheduler
from forge_cli.engine.calibration import MAX_RATIO, TokenCalibration
from forge_cli.engine.calling.caller import Caller
from forge_cli.engine.calling.chain import Chain
from forge_cli.engine.calling.member import Member
from forge_cli.engine.resilience.buckets import RateLimiter
from forge_cli.engine.stats import RunStats
from forge_cli.tasks.classify.task import TicketTask

CHINESE = "您好，我的账户无法登录，密码重置邮件一直没有收到，请尽快帮我处理。谢谢！"
JAPANESE = "こんにちは。注文した商品がまだ届いていません。配送状況を確認していただけますか。"
RUSSIAN = "Здравствуйте! Не могу войти в личный кабинет, письмо для сброса пароля не приходит."
GREEK = "Καλησπέρα, δεν μπορώ να συνδεθώ στον λογαριασμό μου από χθες το βράδυ."
ENGLISH = "Hello, I cannot log in to my account and the password reset e-mail never arrives."


def test_ascii_keeps_four_characters_a_token() -> None:
    assert estimate_tokens("") == 1
    assert estimate_tokens("a" * 400) == 101
    assert estimate_tokens(ENGLISH) == len(ENGLISH) // 4 + 1


def test_cjk_counts_about_a_token_a_character() -> None:
    # cl100k counts 35 tokens for the Chinese line (36 characters), 36 for the Japanese (40)
    assert 35 <= estimate_tokens(CHINESE) <= 50
    assert 40 <= estimate_tokens(JAPANESE) <= 55


def test_cyrillic_and_greek_are_denser_than_latin() -> None:
    # cl100k: 41 tokens for the Russian line (83 characters), 62 for the Greek (70)
    assert 35 <= estimate_tokens(RUSSIAN) <= 55
    assert 45 <= estimate_tokens(GREEK) <= 75
    assert estimate_tokens(RUSSIAN) > 2 * (len(RUSSIAN) // 4)


def test_mixed_scripts_add_up_by_part() -> None:
    """A ticket that quotes a customer: each part costs what it would alone (within rounding)."""
    parts = [ENGLISH, CHINESE, RUSSIAN, " order #12345 ", JAPANESE, GREEK]
    whole = estimate_tokens("".join(parts))
    assert abs(whole - sum(estimate_tokens(p) for p in parts)) <= len(parts)


def test_odd_characters_never_raise() -> None:
    assert estimate_tokens("\ud800 broken surrogate") >= 5  # from a JSON "\ud800" escape
    assert estimate_tokens("🙂" * 10) >= 10
    assert (
        estimate_tokens("ü" * 10 + "€") >= 10
    )  # € is in cp1251 but is not Cyrillic: still counted


def test_calibration_learns_the_reported_ratio() -> None:
    cal = TokenCalibration()
    assert cal.scale((100, 50)) == (100, 50)  # nothing learned yet
    for _ in range(30):
        cal.observe((100, 50), (300, 25))
    assert abs(cal.ratio - 3.0) < 1e-9
    assert cal.scale((100, 50)) == (300, 25)
    cal.observe((100, 50), (0, 0))  # a provider that reports no usage teaches nothing
    assert abs(cal.ratio - 3.0) < 1e-9
    for _ in range(30):
        cal.observe((10, 10), (10_000, 10))  # absurd usage cannot make the pacing absurd
    assert cal.ratio == MAX_RATIO


def test_calibration_follows_a_change_of_tokenizer() -> None:
    cal = TokenCalibration()
    for _ in range(50):
        cal.observe((100, 10), (100, 10))
    for _ in range(60):
        cal.observe((100, 10), (200, 10))
    assert 1.9 < cal.ratio <= 2.0


class RecordingLimiter(RateLimiter):
    """The real RPM/TPM limiter, remembering what each call was charged."""

    def __init__(self) -> None:
        super().__init__(None, None)
        self.charged: list[int] = []

    async def acquire(self, tokens: int) -> float:
        self.charged.append(tokens)
        return await super().acquire(tokens)


class CountingProvider:
    """Reports four times the tokens forge estimates, as a denser tokenizer would."""

    name = "dense"
    model = "m"
    cacheable = True
    price_in = price_out = 0.0

    async def complete(self, request: PackRequest) -> Completion:
        return Completion('{"results": []}', 400, 20, self.model, latency_ms=1.0)

    async def aclose(self) -> None:
        return None


def test_tpm_pacing_is_charged_the_learned_cost() -> None:
    provider = CountingProvider()
    stats = RunStats()
    limiter = RecordingLimiter()
    caller = Caller(provider, stats, rate=limiter)
    chain = Chain([Member(provider, caller)], stats=stats)
    request = TicketTask().build_request([PackItem("1", CHINESE)])

    async def two_calls() -> None:
        await chain.call(request, (100, 20))
        await chain.call(request, (100, 20))

    asyncio.run(asyncio.wait_for(two_calls(), 10))
    assert limiter.charged == [120, 420]  # first the estimate, then what the provider counts
    assert chain.calibration.ratio == 4.0


def test_pack_budget_is_of_real_tokens() -> None:
    sched = Scheduler(PackLimits(token_budget=1000))
    for n in range(10):
        item = Item(id=str(n), line=n + 1, text="x")
        item.complexity, item.tokens = Complexity.SIMPLE, 100
        sched.push(item)
    first = sched.take()
    assert first is not None and len(first) == 10
    for pack_item in first:
        sched.push(pack_item)
    sched.token_ratio = 2.0  # the provider counts twice the estimate
    second = sched.take()
    assert second is not None and len(second) == 5
