"""One provider call with everything around it: breaker, pauses, pacing, retries with backoff.

The breaker holds callers while it is open (they wait for its half-open probe; none is failed by the
breaker itself), the rate gate pauses every caller of a provider after it answered 429 with a
Retry-After, the AIMD limiter caps calls in flight at what the provider has shown it can take, and
the RPM/TPM buckets pace calls to its announced limits. Only real calls count as attempts: time
spent held does not use up a pack's retries.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from forge_cli.core.calls import Completion, PackRequest
from forge_cli.core.errors import (
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    StalledError,
    UpstreamError,
)
from forge_cli.engine.calling.lease import wait_unleased
from forge_cli.engine.resilience.aimd import AimdLimiter
from forge_cli.engine.resilience.breaker import BreakerState, CircuitBreaker
from forge_cli.engine.resilience.buckets import RateLimiter
from forge_cli.engine.resilience.gate import RateGate
from forge_cli.engine.resilience.retry import RetryPolicy, default_retry_policy
from forge_cli.engine.resilience.stall import StallWatch
from forge_cli.engine.stats import ProviderStats, RunStats
from forge_cli.providers.base import Provider


class CallFailed(Exception):
    """A call that failed for good: the last error and how many attempts were made."""

    def __init__(self, error: ProviderError, attempts: int) -> None:
        super().__init__(str(error))
        self.error = error
        self.attempts = attempts


class Caller:
    """Calls one provider under its breaker, rate gate and retry policy."""

    def __init__(
        self,
        provider: Provider,
        stats: RunStats,
        *,
        retry: RetryPolicy | None = None,
        breaker_threshold: int = 5,
        breaker_cooldown: float = 10.0,
        gate: RateGate | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        limiter: AimdLimiter | None = None,
        rate: RateLimiter | None = None,
        usage: ProviderStats | None = None,
        stall: StallWatch | None = None,
    ) -> None:
        self.provider = provider
        self.stats = stats
        self.usage = usage or ProviderStats(provider.name, provider.model)
        self.limiter = limiter or AimdLimiter(1024)
        self.rate = rate or RateLimiter()
        self.retry = retry or default_retry_policy()
        self.breaker = CircuitBreaker(
            provider.name,
            failure_threshold=breaker_threshold,
            cooldown=breaker_cooldown,
            on_change=self._on_breaker,
        )
        self.gate = gate or RateGate()
        #: says when the provider has made no progress for long enough to be dropped (off: 0)
        self.stall = stall or StallWatch(0)
        self._sleep = sleep
        #: the tasks inside ``call`` now, and those of them cut off because the provider stalled
        self._calls: set[asyncio.Task[Any] | None] = set()
        self._cut: set[asyncio.Task[Any] | None] = set()

    def _on_breaker(self, old: BreakerState, new: BreakerState) -> None:
        self.stats.breaker_state = new.value
        self.usage.breaker_state = new.value
        if new is BreakerState.OPEN and old is BreakerState.CLOSED:
            self.stats.breaker_opened += 1
            self.usage.breaker_opened += 1
        elif new is BreakerState.CLOSED and old is not BreakerState.CLOSED:
            self.stats.breaker_closed += 1

    async def call(
        self, request: PackRequest, tokens: int = 0, *, hold: bool = True
    ) -> tuple[Completion, int]:
        """The completion and the number of attempts it took, or ``CallFailed``.

        ``tokens`` is the request's estimated size (input plus expected output), what the
        tokens-per-minute bucket is charged until the answer tells the real cost. ``hold=False``
        (another provider could take the pack) gives up instead of waiting out an open breaker.
        """
        started = time.monotonic()
        attempt = 0
        last: ProviderError | None = None
        task = asyncio.current_task()
        self.stall.enter()
        self._calls.add(task)
        try:
            while True:
                attempt += 1
                self._check_stall(attempt - 1)
                if not hold and self.breaker.blocking():
                    error = last or UpstreamError(
                        "circuit breaker open", provider=self.provider.name
                    )
                    raise CallFailed(error, attempt - 1)
                try:
                    # the guard holds us while the breaker is open and records how the call went
                    async with self.breaker.guard():
                        await self.gate.wait()
                        completion = await self._attempt(request, tokens)
                except ProviderError as error:
                    last = error
                    self._count(error)
                    self._check_stall(attempt)
                    if error.retry_after is not None and not self.rate.learned_window:
                        self.gate.defer(min(error.retry_after, self.retry.max_retry_after))
                    elapsed = time.monotonic() - started
                    if not self.retry.should_retry(error) or self.retry.stop(attempt, elapsed):
                        raise CallFailed(error, attempt) from None
                    self.stats.retries += 1
                    # the back-off sends nothing: its concurrency slot goes to other work
                    await wait_unleased(self._sleep(self.retry.delay_for(attempt, error)))
                else:
                    return completion, attempt
        except asyncio.CancelledError:
            # cut off because the provider stalled (not Ctrl-C): this call fails like the rest
            if task is not None and task in self._cut and task.uncancel() == 0:
                raise CallFailed(self._stalled(), attempt) from None
            raise
        finally:
            self._calls.discard(task)
            self._cut.discard(task)
            self.stall.leave()

    def _stalled(self) -> StalledError:
        assert self.stall.verdict is not None
        return StalledError(self.stall.verdict, provider=self.provider.name)

    def _check_stall(self, attempts: int) -> None:
        """Once the provider has stalled, fail this call for good, and every other call that is
        waiting on it (breaker, rate gate, backoff) or talking to it: it is being dropped, and
        nothing it has in hand should keep the run waiting for a timeout or a cooldown."""
        if self.stall.verdict is None:
            return
        current = asyncio.current_task()
        for other in self._calls - self._cut:
            if other is not None and other is not current:
                self._cut.add(other)
                other.cancel()
        raise CallFailed(self._stalled(), attempts)

    async def _attempt(self, request: PackRequest, tokens: int) -> Completion:
        usage = self.usage
        async with self.limiter.slot() as seq:
            await self.rate.acquire(tokens)
            while self.gate.remaining() > 0:
                # a 429 paused the provider while this call waited for the bucket: what it was
                # allowed then is stale (sent now, with every other caller held there, it would
                # only collect another)
                self.rate.release(self.rate.sent)
                await self.gate.wait()
                await self.rate.acquire(tokens)
            call = self.rate.sent
            try:
                self.stats.calls += 1
                usage.calls += 1
                sent, sent_at = time.monotonic(), self.stall.now()
                completion = await self.provider.complete(request)
            except ProviderError as error:
                self.stall.failed(error, sent_at)
                self.rate.observe(error.rate, call)
                if isinstance(error, RateLimitError):
                    if not self.rate.learned_window:
                        self.limiter.on_overload(seq)
                    self.rate.rejected(call, error.retry_after)
                raise
            else:
                self.rate.observe(completion.rate, call)
                self.rate.accepted(call)
            finally:
                self.rate.release(call)
                usage.concurrency = self.limiter.current
        self.stall.answered()
        usage.latencies.append((time.monotonic() - sent) * 1000)
        usage.ok += 1
        self.limiter.on_success()
        self.rate.settle(tokens, completion.tokens_in + completion.tokens_out)
        usage.rpm = self.rate.rpm
        usage.concurrency = self.limiter.current
        return completion

    def _count(self, error: ProviderError) -> None:
        usage = self.usage
        if isinstance(error, RateLimitError):
            self.stats.rate_limited += 1
            usage.rate_limited += 1
        elif isinstance(error, ProviderTimeoutError):
            self.stats.timeouts += 1
            usage.timeouts += 1
        elif isinstance(error, UpstreamError):
            self.stats.upstream_errors += 1
            usage.upstream_errors += 1
        else:
            usage.other_errors += 1
