"""The run's own token ratio: what a provider counted against what forge estimated.

The script-aware estimate (``core/tokens.py``) is fitted to one tokenizer; each provider counts with
its own, and prompts add their template's tokens. Every answer reports its real usage, so the run
learns the ratio as it goes and scales later estimates by it: the tokens-per-minute bucket is charged
what the call will really cost (not a quarter of it, as a Chinese text under "characters / 4" was),
and a pack's token budget measures real tokens.

Sums decay a little with every answer so that the ratio follows a provider that changes (a fallback
with another tokenizer) without keeping any history; it stays within [1/4, 4] so one odd usage report
cannot make the pacing absurd. An answer without usage (0 tokens) teaches nothing.
"""

from __future__ import annotations

MIN_RATIO = 0.25
MAX_RATIO = 4.0
#: weight kept by the past at each answer: the last ~20 answers count most
DECAY = 0.95


class _Ratio:
    __slots__ = ("_actual", "_estimated", "value")

    def __init__(self) -> None:
        self._actual = 0.0
        self._estimated = 0.0
        self.value = 1.0

    def observe(self, estimated: int, actual: int) -> None:
        if estimated <= 0 or actual <= 0:
            return
        self._actual = self._actual * DECAY + actual
        self._estimated = self._estimated * DECAY + estimated
        self.value = min(MAX_RATIO, max(MIN_RATIO, self._actual / self._estimated))


class TokenCalibration:
    """Learned ratios for input and output tokens (1.0 until the first answer with usage)."""

    __slots__ = ("input", "output")

    def __init__(self) -> None:
        self.input = _Ratio()
        self.output = _Ratio()

    @property
    def ratio(self) -> float:
        """The input ratio: what estimates of text (pack budgets, prompts) are multiplied by."""
        return self.input.value

    def observe(self, estimated: tuple[int, int], actual: tuple[int, int]) -> None:
        """Fold in one answer: its (input, output) estimate and the usage the provider reported."""
        self.input.observe(estimated[0], actual[0])
        self.output.observe(estimated[1], actual[1])

    def scale(self, estimated: tuple[int, int]) -> tuple[int, int]:
        """An (input, output) estimate corrected by what the run has learned so far."""
        return round(estimated[0] * self.input.value), round(estimated[1] * self.output.value)
