"""How long the rest of a run will take, from per-complexity moving averages."""

from __future__ import annotations

import math
from collections.abc import Mapping

from forge_cli.core.models import Complexity


class EwmaEta:
    """Time left in a run, from per-complexity moving averages of seconds per item.

    Averages are kept per class because a complex item can take several times as long as a simple
    one and the queue serves complex items first: one global average would overestimate the tail of
    a run and underestimate its start. An exponentially weighted average follows a provider that
    slows down or speeds up mid-run without keeping any history.
    """

    def __init__(self, alpha: float = 0.3) -> None:
        if not 0 < alpha <= 1:
            raise ValueError(f"alpha must be in (0, 1], got {alpha}")
        self.alpha = alpha
        self._mean: dict[Complexity, float] = {}

    def observe(self, complexity: Complexity, seconds_per_item: float) -> None:
        """Fold one measurement in; the first one of a class seeds its average.

        Negative or non-finite measurements (a clock hiccup, a division by zero items) are dropped
        rather than allowed to poison the average for the rest of the run.
        """
        if not math.isfinite(seconds_per_item) or seconds_per_item < 0:
            return
        previous = self._mean.get(complexity)
        if previous is None:
            self._mean[complexity] = seconds_per_item
        else:
            self._mean[complexity] = self.alpha * seconds_per_item + (1 - self.alpha) * previous

    def per_item(self, complexity: Complexity) -> float | None:
        """The class's average; before it has one, the mean of the classes seen; else None."""
        mean = self._mean.get(complexity)
        if mean is not None:
            return mean
        if not self._mean:
            return None
        return sum(self._mean.values()) / len(self._mean)

    def eta(self, remaining: Mapping[Complexity, int], concurrency: int) -> float | None:
        """Seconds until the remaining items are done with ``concurrency`` slots busy.

        None until anything has been observed: a made-up number early in a run is worse than none.
        """
        if not self._mean:
            return None
        total = 0.0
        for complexity, count in remaining.items():
            if count > 0:
                per_item = self.per_item(complexity)
                assert per_item is not None  # some class has been observed
                total += count * per_item
        return total / max(concurrency, 1)
