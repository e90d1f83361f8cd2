"""Stop policies: when a failed call has been tried often enough.

Small callables in the manner of tenacity's ``stop`` module, so the retry loop asks one question
and the answer can be swapped without touching the loop.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["StopPolicy", "stop_after_attempt", "stop_after_delay", "stop_all", "stop_any"]


class StopPolicy(Protocol):
    """Decides, after a failed attempt, whether to give up.

    ``attempt`` counts the attempts made so far (1 after the first call); ``elapsed`` is the seconds
    since the first attempt started. True means: do not try again.
    """

    def __call__(self, attempt: int, elapsed: float) -> bool: ...


class stop_base:
    """Gives every stop policy ``|`` (either) and ``&`` (both), so limits compose without a DSL."""

    def __call__(self, attempt: int, elapsed: float) -> bool:
        raise NotImplementedError

    def __or__(self, other: StopPolicy) -> stop_any:
        return stop_any(self, other)

    def __ror__(self, other: StopPolicy) -> stop_any:
        return stop_any(other, self)

    def __and__(self, other: StopPolicy) -> stop_all:
        return stop_all(self, other)

    def __rand__(self, other: StopPolicy) -> stop_all:
        return stop_all(other, self)


class stop_after_attempt(stop_base):
    """Gives up once ``n`` attempts have been made (``n`` = 1 means no retry at all)."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"stop_after_attempt needs n >= 1, got {n}")
        self.n = n

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return attempt >= self.n

    def __repr__(self) -> str:
        return f"stop_after_attempt({self.n})"


class stop_after_delay(stop_base):
    """Gives up once ``seconds`` have passed since the first attempt, however few attempts that was.

    The engine checks it before sleeping, so a long Retry-After cannot push one item past its budget
    by more than one wait.
    """

    def __init__(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"stop_after_delay needs seconds >= 0, got {seconds}")
        self.seconds = seconds

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return elapsed >= self.seconds

    def __repr__(self) -> str:
        return f"stop_after_delay({self.seconds})"


class stop_any(stop_base):
    """Gives up as soon as any of its policies would (what ``a | b`` builds)."""

    def __init__(self, *stops: StopPolicy) -> None:
        self.stops = stops

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return any(stop(attempt, elapsed) for stop in self.stops)

    def __repr__(self) -> str:
        return " | ".join(map(repr, self.stops))


class stop_all(stop_base):
    """Gives up only when every one of its policies would (what ``a & b`` builds)."""

    def __init__(self, *stops: StopPolicy) -> None:
        self.stops = stops

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return all(stop(attempt, elapsed) for stop in self.stops)

    def __repr__(self) -> str:
        return " & ".join(map(repr, self.stops))
