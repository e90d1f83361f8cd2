"""The stall watch: when a provider has shown no progress for long enough to give up on it.

Retries, the breaker and the rate gate all assume a provider comes back. One that never does
(nothing listening, a server that hangs or resets every connection, a local model server that
crashed mid-run) would hold the run forever: the breaker holds packs without failing them, and each
probe that fails opens it again. The watch ends that. It hears how each call of one provider went
and says when the provider is to be dropped for the run, as a refused key is:

- at once, when nothing accepts the connection and the provider has never answered (a wrong port,
  a server not started): waiting cannot help and the user should know now;
- otherwise when every call for ``limit`` seconds failed the way a sick server fails (timeouts,
  resets, refused connections, 5xx), at least twice, with no answer in between.

Only time the provider was wanted counts: a stretch without calls longer than ``limit`` (input that
paused, a router that sent everything elsewhere) starts the count again, so a provider is never
dropped for failing once after a quiet hour. Answers that say nothing about health (429, a rejected
request, an invalid answer) neither end a stretch nor extend it, as for the breaker.
"""

from __future__ import annotations

import time
from collections import Counter

from forge_cli.core.errors import (
    ProviderError,
    ProviderTimeoutError,
    UnreachableError,
)
from forge_cli.engine.resilience.clock import Clock

__all__ = ["StallWatch"]

#: failed calls a stretch needs before it can drop a provider: one unlucky timeout never does
MIN_FAILURES = 2


class StallWatch:
    """The calls of one provider, as far as they tell whether it still makes progress.

    ``limit`` is in seconds; 0 turns the watch off (nothing is ever dropped for a stall).
    ``verdict`` is None while the provider may go on, else the reason to drop it.
    """

    def __init__(self, limit: float, *, clock: Clock = time.monotonic) -> None:
        if limit < 0:
            raise ValueError(f"limit must be >= 0, got {limit}")
        self.limit = limit
        self._clock = clock
        self.verdict: str | None = None
        #: the provider answered at least once (any HTTP answer, even an error status)
        self._reached = False
        self._busy = 0
        self._idle_since: float | None = None
        self._progress_at = -float("inf")
        #: when the current stretch without progress began (None: no failure since the last answer)
        self._start: float | None = None
        self._failures: Counter[str] = Counter()

    # ------------------------------------------------------------------ the caller's side

    def enter(self) -> None:
        """A call for this provider begins (it may wait for the breaker or the rate gate first)."""
        idle = self._busy == 0 and self._idle_since is not None
        if idle and self._clock() - (self._idle_since or 0.0) >= self.limit:
            self._reset()  # not wanted for a whole stall time: old failures say nothing now
        self._busy += 1

    def leave(self) -> None:
        self._busy = max(0, self._busy - 1)
        if self._busy == 0:
            self._idle_since = self._clock()

    def now(self) -> float:
        """The watch's clock: what ``failed`` takes as the time a call was sent."""
        return self._clock()

    def answered(self) -> None:
        """A call came back with an answer: progress."""
        self._reached = True
        self._progress_at = self._clock()
        self._reset()

    def failed(self, error: ProviderError, sent: float) -> None:
        """A call sent at ``sent`` (on the watch's clock) ended with ``error``."""
        if error.status is not None or not error.trips_breaker:
            self._reached = True  # an HTTP answer, even an error or garbage: something listens
        if not error.trips_breaker or self.verdict is not None or not self.limit:
            return
        if isinstance(error, UnreachableError) and not self._reached:
            self.verdict = f"nothing listening, {error.message}"
            return
        began = max(sent, self._progress_at)
        self._start = began if self._start is None else min(self._start, began)
        self._failures[_label(error)] += 1
        stalled = self._clock() - self._start
        if sum(self._failures.values()) >= MIN_FAILURES and stalled >= self.limit:
            tally = ", ".join(f"{n} {label}" for label, n in self._failures.most_common())
            self.verdict = (
                f"no answer for {stalled:.0f} s, past the stall timeout of {self.limit:g} s "
                f"({tally}; last: {error.message})"
            )

    def _reset(self) -> None:
        self._start = None
        self._failures.clear()


def _label(error: ProviderError) -> str:
    """How a call failed, in the words of the tally: "3 timed out, 2 HTTP 503"."""
    if isinstance(error, ProviderTimeoutError):
        return "timed out"
    if isinstance(error, UnreachableError):
        return "could not connect"
    if error.status is not None:
        return f"HTTP {error.status}"
    return "cut off"  # a reset connection, a body given up on
