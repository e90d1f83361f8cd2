"""Pacing a provider to its rate: token buckets for requests and tokens per minute.

The buckets are configured, or learn the limits from the ``x-ratelimit-*`` headers of the
provider's answers, so a run can sit at the provider's rate and collect almost no 429s instead of
bouncing off it. The bucket is the pace when nothing better is known; when the provider also says
how many requests remain in its window, that count is spent at once (less the calls already on
their way), so a run the window can hold goes as fast as the calls return, and a long run fills
each window to the brim instead of to the bucket's safety margin. How many calls the provider serves at once is a different limit, found by
``aimd.py``. Everything takes its clock and sleep as arguments and runs on one event loop without
locks.
"""

from __future__ import annotations

import asyncio
import math
import time

from forge_cli.core.calls import RateInfo
from forge_cli.engine.resilience.clock import Clock, Sleep
from forge_cli.engine.resilience.learned import WindowLearner
from forge_cli.engine.resilience.window import SendLog

__all__ = ["RateLimiter", "TokenBucket"]

#: pace at this fraction of a learned or configured limit: a sliding window counts the calls
#: already in flight when the limit was learned, and clocks on both sides drift (0.98 measured
#: worse: the bucket's burst plus jitter overfill a short window, and each 429 pauses the provider)
SAFETY = 0.9
#: seconds of refill a bucket may hold: a short burst, never a minute's worth at once
BURST_SECONDS = 0.1


class TokenBucket:
    """``rate`` tokens per second, holding at most ``capacity``; ``take`` waits for its tokens.

    A take larger than the capacity is allowed (it drives the level negative, a debt later takes
    wait out), so one huge request is slowed, never refused. ``rate`` None means unlimited.
    """

    def __init__(
        self,
        rate: float | None,
        *,
        burst_seconds: float = BURST_SECONDS,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self._clock = clock
        self._sleep = sleep
        self._burst_seconds = burst_seconds
        self.rate: float | None = None
        self.capacity = 0.0
        self._level = 0.0
        self._stamp = clock()
        self.set_rate(rate)
        # a configured bucket starts full: the first call goes at once (a rate learned later via
        # set_rate starts empty, as the calls that taught it were already spent)
        self._level = self.capacity if self.rate is not None else 0.0

    def set_rate(self, rate: float | None) -> None:
        """Change the refill rate; the level is kept (a lower rate also lowers the cap)."""
        self._refill()
        if rate is not None and (not math.isfinite(rate) or rate <= 0):
            rate = None
        self.rate = rate
        if rate is None:
            self.capacity = math.inf
            return
        self.capacity = max(1.0, rate * self._burst_seconds)
        self._level = min(self._level, self.capacity)

    def _refill(self) -> None:
        now = self._clock()
        if self.rate is not None:
            self._level = min(self.capacity, self._level + (now - self._stamp) * self.rate)
        self._stamp = now

    @property
    def level(self) -> float:
        self._refill()
        return self._level

    def drain(self) -> None:
        """Empty the bucket (the provider said nothing is left in its window)."""
        self._refill()
        self._level = min(self._level, 0.0)

    def spend(self, tokens: float = 1.0) -> None:
        """Take ``tokens`` without waiting and without running into debt: a call that went on
        the provider's word (its remaining count) still counts against the pace, but must not
        make the next paced call wait for tokens it never needed."""
        self._refill()
        self._level = max(0.0, self._level - tokens) if self.rate is not None else 0.0

    def adjust(self, tokens: float) -> None:
        """Give back (positive) or charge more (negative) after the real cost was known."""
        if self.rate is None:
            return
        self._refill()
        self._level = min(self.capacity, self._level + tokens)

    async def take(self, tokens: float = 1.0) -> float:
        """Wait until ``tokens`` may be spent and spend them; returns the seconds waited."""
        waited = 0.0
        while self.rate is not None:
            self._refill()
            # a request bigger than the bucket goes when the bucket is full
            needed = min(tokens, self.capacity)
            # (a tolerance: after sleeping the exact delay, rounding may leave the level an ulp
            # short, and a sleep too small to move the clock would then loop for ever)
            if self._level >= needed - 1e-9:
                self._level -= tokens
                break
            delay = (needed - self._level) / self.rate
            waited += delay
            await self._sleep(delay)
        return waited


class RateLimiter:
    """One provider's requests-per-minute and tokens-per-minute buckets.

    Configured limits win; otherwise the buckets learn the limits the provider announces in its
    headers (at ``SAFETY`` of them) the first time it does, and a response saying nothing is left
    drains the bucket so the next call waits for the refill instead of collecting a 429.

    A response's remaining-requests count is credit: that many calls may go at once, less the
    calls still in flight (some of them may not have reached the provider's window when it
    counted; counting them all errs on the safe side). A call that goes on credit does not wait
    for the bucket.
    """

    def __init__(
        self,
        rpm: float | None = None,
        tpm: float | None = None,
        *,
        clock: Clock = time.monotonic,
        sleep: Sleep = asyncio.sleep,
    ) -> None:
        self.configured_rpm = rpm
        self.configured_tpm = tpm
        self.requests = TokenBucket(_per_second(rpm), clock=clock, sleep=sleep)
        self.tokens = TokenBucket(_per_second(tpm), burst_seconds=1.0, clock=clock, sleep=sleep)
        #: the limits in force (per minute) and where they came from, for the live view
        self.rpm: float | None = rpm
        self.tpm: float | None = tpm
        self.learned = False
        #: requests the provider last said remain in its window, less the calls sent since
        self.credit = 0
        #: calls between ``acquire`` and ``release``; calls acquired so far (a call's number)
        self.in_flight = 0
        self.sent = 0
        #: the number of the newest call whose answer set the credit: an older call's answer,
        #: arriving late, counted a window that has filled since and must not raise it again
        self._credit_from = 0
        #: calls that went on credit, not on the bucket's pace (for tests and benchmarks)
        self.on_credit = 0
        #: the window was once spent (nothing remained, or a 429): from then on the bucket alone
        #: paces. A sliding window gives back its slots in the pattern they were taken, so
        #: spending the credit again would turn every window into a burst and a 429
        self.exhausted = False
        #: once the headers told the window's length, calls go as our own earlier calls leave it
        #: (``window.py``); the remaining count and the bucket are the pace otherwise
        self.log = SendLog(clock=clock, sleep=sleep)
        #: 429s of calls the log paced: two mean it does not mirror this provider (back to the
        #: bucket); the number of the first call it paced (0: none yet)
        self._log_rejections = 0
        self._log_from = 0
        #: with no limit announced or configured, the window is learned from the 429s
        self.learner = WindowLearner(clock=clock, sleep=sleep)

    @property
    def learned_window(self) -> bool:
        """The window learned from the 429s paces the calls: a further 429 is the learning's
        business (a test, or a margin to widen), not a reason to pause the provider or halve its
        concurrency, which would leave slots of its window unused."""
        return self.unknown and self.learner.active

    @property
    def unknown(self) -> bool:
        """Nothing configured and nothing announced: only the 429s tell the limit."""
        return self.configured_rpm is None and self.configured_tpm is None and self.rpm is None

    @property
    def mirrored(self) -> bool:
        """Whether calls are paced by the mirror of the provider's window (not the bucket)."""
        return self.log.ready and self.configured_rpm is None

    async def acquire(self, tokens: int) -> float:
        """Wait for one request and ``tokens`` tokens; returns the seconds waited.

        Every ``acquire`` must be followed by one ``release`` once the call is over.
        """
        learner = self.learner if self.unknown else None
        if learner is not None:
            learner.poll()
        if learner is not None and learner.active:
            waited = await learner.take(lambda: self.in_flight, lambda: self.sent + 1)
        elif self.mirrored:
            if not self._log_from:
                self._log_from = self.sent + 1
            waited = await self.log.take(lambda: self.in_flight)
        elif self.credit > 0 and not self.exhausted:
            self.credit -= 1
            self.on_credit += 1
            self.requests.spend(1.0)
            waited = 0.0
        else:
            waited = await self.requests.take(1.0)
        waited += await self.tokens.take(float(tokens))
        self.in_flight += 1
        self.sent += 1
        if learner is not None:
            learner.sent(self.sent)
        return waited

    def release(self, call: int | None = None) -> None:
        """The call (number ``call``, when known) is over (answered, failed or cancelled)."""
        self.in_flight = max(0, self.in_flight - 1)
        self.log.record()
        if call is not None:
            self.learner.forget(call)

    def accepted(self, call: int) -> None:
        """The provider answered call number ``call`` (it took a slot of its window)."""
        if self.unknown:
            self.learner.accepted(call)

    def settle(self, estimated: int, actual: int) -> None:
        """Correct the token bucket once the answer says what the call really cost."""
        self.tokens.adjust(float(estimated - actual))

    def observe(self, info: RateInfo | None, call: int | None = None) -> None:
        """Learn from a response's rate-limit headers; ``call`` is the call's number (``sent``
        right after its ``acquire``), without which its remaining count is not credited."""
        if info is None:
            return
        if self.configured_rpm is None and info.rpm_limit and info.rpm_limit != self.rpm:
            self.rpm = float(info.rpm_limit)
            self.requests.set_rate(_per_second(self.rpm))
            self.learned = True
        if self.configured_rpm is None and info.rpm_limit and self._log_rejections < 2:
            self.log.learn(float(info.rpm_limit), info.rpm_reset)
        if self.configured_tpm is None and info.tpm_limit and info.tpm_limit != self.tpm:
            self.tpm = float(info.tpm_limit)
            self.tokens.set_rate(_per_second(self.tpm))
            self.learned = True
        if info.rpm_remaining is not None and call is not None and call > self._credit_from:
            # the other calls in flight may not have been counted yet: assume none was
            self._credit_from = call
            self.credit = max(0, info.rpm_remaining - max(0, self.in_flight - 1))
        if info.rpm_remaining == 0:
            self.exhausted = True
            self.requests.drain()
        if info.tpm_remaining == 0:
            self.tokens.drain()

    def rejected(self, call: int | None = None, delay: float | None = None) -> None:
        """A 429: whatever the buckets saved up is spent, so the pause does not end in a burst.
        With the limit unknown, the refusal and the ``delay`` it asked teach its window."""
        if call is not None and self.unknown:
            self.learner.refused(call, delay)
        if self.mirrored and self._log_from and (call or self.sent) >= self._log_from:
            self._log_rejections += 1
            if self._log_rejections >= 2:
                self.log.window = self.log.cap = None
        self.credit = 0
        self.exhausted = True
        self._credit_from = max(self._credit_from, call or self.sent)
        self.requests.drain()
        self.tokens.drain()


def _per_second(per_minute: float | None) -> float | None:
    return None if not per_minute else per_minute * SAFETY / 60.0
