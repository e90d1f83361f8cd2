"""The simulator's RPM/TPM limits: a true sliding window, as a provider enforces them.

A token bucket would be kinder than real providers are; a sliding window refuses a burst exactly
when the provider would, and reports the wait until the oldest request leaves it, which is what
forge's pacing has to cope with.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from forge_cli.testing.sim.wire import Limited, WindowState

__all__ = ["RATE_WINDOW", "RateWindow"]

#: OpenAI's RPM/TPM limits are per minute; the simulator uses a true sliding window of this length.
RATE_WINDOW = 60.0


class RateWindow:
    """Requests and tokens admitted within the last ``window`` seconds, against per-minute limits.

    Limits are quoted per minute and enforced as ``limit x window / 60`` within a shorter window,
    so a test can run "at 600 RPM" for a few seconds. TPM counts what the caller says a request
    may use (prompt tokens plus ``max_tokens``, as OpenAI estimates it).
    """

    def __init__(
        self, rpm_limit: int | None, tpm_limit: int | None, window: float = RATE_WINDOW
    ) -> None:
        if rpm_limit is not None and rpm_limit < 1:
            raise ValueError("rpm_limit must be >= 1 or None")
        if tpm_limit is not None and tpm_limit < 1:
            raise ValueError("tpm_limit must be >= 1 or None")
        if window <= 0:
            raise ValueError("rate_window must be > 0 seconds")
        self.rpm_limit = rpm_limit
        self.tpm_limit = tpm_limit
        self.window = window
        self._scale = window / RATE_WINDOW
        self._lock = threading.Lock()
        self._requests: deque[float] = deque()
        self._tokens: deque[tuple[float, int]] = deque()

    def admit(self, tokens: int) -> tuple[Limited | None, WindowState]:
        """Admit one request of ``tokens`` or say why not; with the window as it then stands.

        Only admitted requests enter the window, so a client hammering a full window does not
        push its own reset further away.
        """
        now = time.monotonic()
        horizon = now - self.window
        with self._lock:
            while self._requests and self._requests[0] <= horizon:
                self._requests.popleft()
            while self._tokens and self._tokens[0][0] <= horizon:
                self._tokens.popleft()
            used_tokens = sum(n for _, n in self._tokens)
            limited: Limited | None = None
            rpm_cap, tpm_cap = self._caps()
            if rpm_cap is not None and len(self._requests) >= rpm_cap:
                wait = self._requests[0] + self.window - now
                limited = Limited("requests", self.rpm_limit or 0, len(self._requests), 1, wait)
            elif tpm_cap is not None and used_tokens + tokens > tpm_cap:
                wait = self._tokens_free_in(tokens, now)
                limited = Limited("tokens", self.tpm_limit or 0, used_tokens, tokens, wait)
            else:
                self._requests.append(now)
                self._tokens.append((now, tokens))
                used_tokens += tokens
            state = self._state(now, used_tokens)
        return limited, state

    def _caps(self) -> tuple[int | None, int | None]:
        """The RPM / TPM limits as counts within the (possibly shortened) window."""
        rpm = None if self.rpm_limit is None else max(1, round(self.rpm_limit * self._scale))
        tpm = None if self.tpm_limit is None else max(1, round(self.tpm_limit * self._scale))
        return rpm, tpm

    def _tokens_free_in(self, tokens: int, now: float) -> float:
        """Seconds until enough tokens leave the window for this request (caller holds the lock)."""
        cap = self._caps()[1]
        assert cap is not None
        if tokens > cap:
            return self.window
        excess = sum(n for _, n in self._tokens) + tokens - cap
        for stamp, n in self._tokens:
            excess -= n
            if excess <= 0:
                return stamp + self.window - now
        return self.window

    def _state(self, now: float, used_tokens: int) -> WindowState:
        """The configured limits' remaining counts and resets (caller holds the lock).

        Reset is "time until the limit is back to its initial state", i.e. until the newest
        request in the window expires. Remaining counts what may be sent now, in the window as
        enforced: under a shortened window that is the scaled cap less what is in it (what a
        client may spend at once), not a per-minute figure no real window would allow. Dimensions without a configured limit stay None rather
        than faked, so a client never paces itself on made-up numbers.
        """
        state = WindowState()
        rpm_cap, tpm_cap = self._caps()
        if self.rpm_limit is not None and rpm_cap is not None:
            state.rpm_limit = self.rpm_limit
            state.rpm_remaining = max(0, rpm_cap - len(self._requests))
            state.rpm_reset = self._requests[-1] + self.window - now if self._requests else 0.0
        if self.tpm_limit is not None and tpm_cap is not None:
            state.tpm_limit = self.tpm_limit
            state.tpm_remaining = max(0, tpm_cap - used_tokens)
            state.tpm_reset = self._tokens[-1][0] + self.window - now if self._tokens else 0.0
        return state
