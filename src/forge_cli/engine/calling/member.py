"""One provider of a chain with everything that is its own: caller (breaker, gate, retries, AIMD
limit, RPM/TPM buckets), latency average, prices, weight and whether it is still in the run.

Kept apart from ``chain.py`` so routers can read members without importing the chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from forge_cli.core.errors import FatalProviderError
from forge_cli.engine.calibration import TokenCalibration
from forge_cli.engine.calling.caller import Caller
from forge_cli.engine.resilience.breaker import BreakerState
from forge_cli.engine.stats import ProviderStats
from forge_cli.providers.base import Provider

#: seconds of a provider-wide pause after which packs go to the next provider instead of waiting
PAUSE_WORTH_SKIPPING = 2.0


class Ewma:
    """Exponentially weighted moving average; None until the first sample."""

    __slots__ = ("alpha", "value")

    def __init__(self, alpha: float = 0.2) -> None:
        self.alpha = alpha
        self.value: float | None = None

    def observe(self, sample: float) -> None:
        self.value = (
            sample if self.value is None else self.value + self.alpha * (sample - self.value)
        )


@dataclass(eq=False)
class Member:
    provider: Provider
    caller: Caller
    #: share of the traffic under ``balanced`` routing
    weight: float = 1.0

    def __post_init__(self) -> None:
        self.latency = Ewma()
        self.dropped: str | None = None
        #: the error that dropped it (None for a drop by hand): a stall or a refused key
        self.drop_error: FatalProviderError | None = None
        #: this provider's tokens against forge's estimates: its tokenizer, its prompt template
        self.calibration = TokenCalibration()

    @property
    def name(self) -> str:
        return self.provider.name

    @property
    def usage(self) -> ProviderStats:
        return self.caller.usage

    @property
    def baseline(self) -> bool:
        """A stand-in such as the offline classifier: free and instant, but not a model, so routing
        strategies keep it as the last resort instead of picking it for its price or speed."""
        return not self.provider.cacheable

    def cost_of(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.provider.price_in + tokens_out * self.provider.price_out) / 1e6

    def breaker_open(self) -> bool:
        """Open and still cooling down: a pack would only be held here."""
        breaker = self.caller.breaker
        return breaker.state is BreakerState.OPEN and breaker.retry_in() > 0

    def paused(self) -> bool:
        """Told to wait (429 + Retry-After) longer than a fallback is worth skipping for."""
        return self.caller.gate.remaining() > PAUSE_WORTH_SKIPPING

    def usable(self) -> bool:
        return self.dropped is None and not self.breaker_open() and not self.paused()

    def drop(self, reason: str, error: FatalProviderError | None = None) -> None:
        self.dropped = reason
        self.drop_error = error
        self.usage.dropped = reason
