"""The retry policy: which failed calls to try again, when to stop, and how long to wait first.

It knows nothing about wire formats or tasks: it reads ``ProviderError.retryable`` and
``retry_after`` and leaves the calls themselves to the engine's caller.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from forge_cli.core.errors import ProviderError
from forge_cli.engine.resilience.stop import StopPolicy, stop_after_attempt
from forge_cli.engine.resilience.wait import WaitPolicy, wait_exponential_jitter

__all__ = ["RetryPolicy", "default_retry_policy"]


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

    def delay_for(self, attempt: int, error: BaseException) -> float:
        """Seconds to wait before attempt ``attempt + 1``."""
        retry_after = getattr(error, "retry_after", None)
        if isinstance(error, ProviderError) and retry_after is not None:
            retry_after = float(retry_after)
            if not math.isnan(retry_after):
                return min(max(retry_after, 0.0), self.max_retry_after)
        return self.wait(attempt)


def default_retry_policy(attempts: int = 3, initial: float = 0.5) -> RetryPolicy:
    """Up to ``attempts`` calls, waiting ``initial`` x 2^n seconds (+-20%) between them."""
    return RetryPolicy(
        stop=stop_after_attempt(max(1, attempts)),
        wait=wait_exponential_jitter(initial=initial, multiplier=2.0, maximum=30.0, jitter=0.2),
    )
