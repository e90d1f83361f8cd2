"""Stop policies: when a failed call has been tried often enough.

Small callables in the manner of tenacity's ``stop`` module, so the retry loop asks one question
and the answer can be swapped without touching the loop.
"""

from __future__ import annotations

from typing import Protocol

__all__ = ["StopPolicy", "stop_after_attempt"]


class StopPolicy(Protocol):
    """Decides, after a failed attempt, whether to give up.

    ``attempt`` counts the attempts made so far (1 after the first call); ``elapsed`` is the seconds
    since the first attempt started, so a policy may budget time as well as attempts. True means:
    do not try again.
    """

    def __call__(self, attempt: int, elapsed: float) -> bool: ...


class stop_after_attempt:
    """Gives up once ``n`` attempts have been made (``n`` = 1 means no retry at all)."""

    def __init__(self, n: int) -> None:
        if n < 1:
            raise ValueError(f"stop_after_attempt needs n >= 1, got {n}")
        self.n = n

    def __call__(self, attempt: int, elapsed: float) -> bool:
        return attempt >= self.n

    def __repr__(self) -> str:
        return f"stop_after_attempt({self.n})"
