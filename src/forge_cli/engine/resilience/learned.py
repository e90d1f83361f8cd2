"""Learning an unannounced sliding window from the provider's own 429s (issue 14).

A Gemini-wire provider with nothing configured says nothing of its limit until it refuses a call:
a 429 RESOURCE_EXHAUSTED whose ``google.rpc.RetryInfo`` ``retryDelay`` is the wait until its
window frees a slot. Halving concurrency and pausing for that delay alone bounces off the limit
once per window (7.9% of calls refused at 3,000 RPM over a 3 s window), because a sliding window
hands back its slots in the pattern they were taken, and each pause ends in a burst.

What the first refusal tells, if the run's calls are the only ones in the window and the run
filled it before it turned over (the premise):

- its count (``cap``): every call accepted until then is still in the window;
- an upper bound of its length: our first call is its oldest and leaves at most ``retryDelay``
  after the refusal (Gemini's and the simulator's delays are whole seconds, never early), so the
  window is at most (refusal - first send) + retryDelay long; a second less is a lower bound.

Every later accepted call proves a bound too (``bound``): when it arrived, the call ``cap``
accepted calls before it had left the window. Calls are paced by a mirror of the window
(``window.py``, accepted calls only): a call goes while those that ended within ``level`` seconds
plus those in flight are fewer than ``cap``. Started at the first bound, that refuses nothing,
but the bound can be a second too long (0.81 of the rate for a 3 s window), and calls paced by it
prove nothing shorter. So the level is walked down by tests: a call that a shorter ``trial``
would let go early is a test (one at a time), and what it tests is how long before it the
call whose slot it takes ended. An accepted test moves the level to that length plus the finest
step (a margin for the calls it stands for) and the trial a step below, the step doubling while
tests are accepted; the first refused test sends the walk back to the last level accepted in the
finest steps, the second ends it. The walk costs two 429s. Once the level paces the
calls, a 429 no longer pauses the provider nor halves its concurrency (``caller.py``): the mirror
already holds every call the window has no room for, and a pause would leave slots unused.

Kept conservative, so a refusal that was not a full window of ours (another client, a spurious
429) cannot throttle a run for good: a bound proven no longer than the lower bound falsifies the
premise and the learning is dropped (three learnings at most a run); a call the level let go that
is refused anyway (latency jitter, another client) widens the level by two steps (a refused
level already at the proven bound widens both by a quarter: a provider that rounds its delay
down), and the third such gives the learning up: the provider is paced by its 429s and AIMD alone
again. The calls refused together with one count once.
"""

from __future__ import annotations

import asyncio
import bisect
import time
from collections.abc import Callable

from forge_cli.engine.resilience.clock import Clock, Sleep
from forge_cli.engine.resilience.window import SendLog

__all__ = ["WindowLearner"]

#: a learned window longer than this is not believed (Gemini's limits are per minute)
MAX_WINDOW = 60.0
#: the walk's finest step: this share of the first bound's uncertainty, at most STEP_SHARE of
#: the bound; it doubles with each test accepted, up to a GALLOP share of the uncertainty
STEPS = 20
STEP_SHARE = 0.02
GALLOP = 0.25
#: tests in flight at once (each one in flight when the walk goes too far is refused; two were
#: measured no faster and a 429 or two dearer)
TESTS = 1
#: refused calls the level said were free before the learning is given up
MISSES = 3
#: learnings started per run (a dropped one may be learned again from a later refusal)
ATTEMPTS = 3
#: accepted calls kept beyond the learned count (the bound needs the one ``cap`` back)
KEEP = 64
#: accepted calls kept before any refusal (the first window must fit)
KEEP_UNLEARNED = 100_000


class WindowLearner:
    """The window an unknown limit enforces, learned from its 429s; ``take`` paces by it."""

    def __init__(self, *, clock: Clock = time.monotonic, sleep: Sleep = asyncio.sleep) -> None:
        #: the mirror: accepted calls only (a refused call never entered the provider's window)
        self._log = SendLog(clock=clock, sleep=sleep)
        self._clock = clock
        self._sleep = sleep
        #: (sent, answered) of the calls the provider accepted, in order of sending
        self._accepted: list[tuple[float, float]] = []
        self._sent_at: dict[int, float] = {}
        #: the first refusal until the calls in flight with it are answered:
        #: (its send time, its answer time, the delay it asked)
        self._pending: tuple[float, float, float] | None = None
        #: the calls the window admits and the proven bound of its length (None: not learned)
        self.cap: int | None = None
        self.bound: float | None = None
        #: the lower bound of the length the first refusal implies
        self.floor = 0.0
        #: the length calls are paced at (<= bound), and tests at while walking (None: walk over)
        self.level: float | None = None
        self.trial: float | None = None
        #: the walk's finest step, its step now, and whether it is down to the finest
        self._base = self._step = self._widest = 0.0
        self._fine = False
        #: the tests in flight: call number -> (when it went, the length it tested: how long
        #: before it the call whose slot it took ended)
        self._tests: dict[int, tuple[float, float]] = {}
        self.misses = 0
        #: the newest call sent so far, and when the last miss came
        self._newest = self._missed = 0
        self.attempts = 0
        self.given_up = False
        #: tests sent and how many were refused (for tests and benchmarks)
        self.tests = 0
        self.refused_tests = 0

    @property
    def active(self) -> bool:
        return self.cap is not None and self.level is not None

    # -- what happened to our calls ---------------------------------------------------------------

    def sent(self, call: int) -> None:
        """Call number ``call`` goes now."""
        self._sent_at[call] = self._clock()
        self._newest = call
        if len(self._sent_at) > 4096:  # calls whose outcome never came (cancelled)
            for old in sorted(self._sent_at)[:2048]:
                del self._sent_at[old]

    def forget(self, call: int) -> None:
        """The call is over, however it ended (after ``accepted`` / ``refused`` if it was)."""
        self._sent_at.pop(call, None)
        self._tests.pop(call, None)

    def accepted(self, call: int) -> None:
        sent = self._sent_at.pop(call, None)
        if sent is None:
            return
        entry = (sent, self._clock())
        self._log.record()
        index = bisect.bisect(self._accepted, entry)
        self._accepted.insert(index, entry)
        if not self.active:
            if len(self._accepted) > KEEP_UNLEARNED:
                del self._accepted[: len(self._accepted) - KEEP_UNLEARNED]
            return
        assert self.cap is not None and self.bound is not None and self.level is not None
        test = self._tests.pop(call, None)
        if index >= self.cap:
            # the call `cap` accepted calls before this one had left the window when it arrived
            before = self._accepted[index - self.cap]
            self.bound = min(self.bound, entry[1] - before[0])
            if self.bound <= self.floor:
                self._drop()  # shorter than the first refusal allows: not a full window of ours
                return
        if test is not None:
            self.tests += 1
            if self.trial is not None:
                # the level follows a step behind: a margin for the calls the test stood for
                self.level = min(self.level, test[1] + self._base)
                if not self._fine:
                    self._step = min(self._step * 2, self._widest)
                # below the lower bound too: a window that takes that is not the one learned
                trial = min(self.trial, test[1] - self._step)
                self.trial = trial if trial > 0 else test[1] / 2
        self.level = min(self.level, self.bound)
        if len(self._accepted) > self.cap + KEEP:
            del self._accepted[: len(self._accepted) - self.cap - KEEP]

    def refused(self, call: int, delay: float | None) -> None:
        """A 429 for call ``call``, asking to wait ``delay`` seconds (None: it did not say)."""
        sent = self._sent_at.pop(call, None)
        if sent is None or self.given_up:
            return
        if not self.active:
            if (
                self._pending is None
                and delay is not None
                and 0 < delay <= MAX_WINDOW
                and self._accepted
                and self.attempts < ATTEMPTS
            ):
                self._pending = (sent, self._clock(), delay)
            return
        assert self.bound is not None and self.level is not None
        test = self._tests.pop(call, None)
        if test is not None:
            self.tests += 1
            self.refused_tests += 1
            if call <= self._missed:
                return  # went with a test refused already: the same news
            self._missed = self._newest
            if self._fine or self._step <= self._base:
                self.trial = None  # the walk ends: the level stays a step above the last accepted
            else:  # a long step went too far: walk on from the last accepted in the finest steps
                self._fine = True
                self._step = self._base
                self.trial = self.level - 2 * self._base
            return
        # the level said its slot was free: jitter, calls not ours, or a delay rounded down (the
        # calls that went with it at the same level tell the same: one miss)
        if call <= self._missed:
            return
        self._missed = self._newest
        self.misses += 1
        self.trial = None
        if self.misses >= MISSES:
            self._drop()
            self.given_up = True
        elif self.level < self.bound:
            self.level = min(self.bound, self.level + 2 * self._base)
        else:
            self.level = self.bound = min(MAX_WINDOW, self.bound * 1.25)
        if self.level is not None:
            self._log.window = self.bound

    def _drop(self) -> None:
        self.cap = self.bound = self.level = self.trial = None
        self._tests.clear()
        self._accepted.clear()
        self._log.window = self._log.cap = None

    def poll(self) -> None:
        """Learn from the first refusal once the calls in flight with it have been answered
        (the caller holds every call until the pause it asked for is over), so that the count
        of accepted calls is complete."""
        if self._pending is None or self.given_up:
            return
        refused_sent, refused_at, delay = self._pending
        if self._clock() < refused_at + min(delay, 1.0):
            return
        self._pending = None
        # calls sent before the refusal was answered reached a full window, bar the few that
        # overtook it (their order of arrival is not quite that of sending)
        window = [entry for entry in self._accepted if entry[0] < refused_at]
        if not window:
            return
        first_sent, first_answered = window[0]
        bound = refused_at - first_sent + delay
        floor = max(0.0, refused_sent - first_answered, refused_sent - first_answered + delay - 1)
        if bound > MAX_WINDOW or bound <= floor:
            return
        self.attempts += 1
        self.cap = len(window)
        self.bound = self.level = bound
        self.floor = floor
        self._base = self._step = min((bound - floor) / STEPS, bound * STEP_SHARE)
        self._widest = max(self._base, (bound - floor) * GALLOP)
        self._fine = False
        self.trial = bound - self._step
        self._log.window = bound
        self._log.cap = self.cap

    # -- pacing -------------------------------------------------------------------------------

    async def take(self, in_flight: Callable[[], int], next_call: Callable[[], int]) -> float:
        """Wait until a call fits the learned window, or may go as the walk's test; returns the
        seconds waited. ``next_call()`` is the number the call will have."""
        waited = 0.0
        log = self._log
        while self.cap is not None and self.level is not None:
            now = self._clock()
            busy = in_flight()
            if log.count(now, self.level) + busy < self.cap:
                break
            trial = self.trial
            for stale in [c for c, (at, _) in self._tests.items() if now - at > self.level]:
                del self._tests[stale]  # its outcome never came
            if (
                trial is not None
                and len(self._tests) < TESTS
                and log.count(now, trial) + busy < self.cap
            ):
                # what it tests: the age of the slot it takes (between the trial and the level)
                age = log.age(now, self.cap - busy)
                self._tests[next_call()] = (now, trial if age is None else max(trial, age))
                break
            # a slot frees when the oldest call within the level (or the trial) leaves it
            delay = self.level / 100
            for length in (self.level, trial):
                leaving = None if length is None else log.leaving_in(now, length)
                if leaving is not None:
                    delay = min(delay, leaving)
            delay = max(1e-3, delay)
            waited += delay
            await self._sleep(delay)
        return waited
