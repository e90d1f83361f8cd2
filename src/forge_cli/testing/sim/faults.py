"""Scripted misbehaviour: what a test can make the simulated upstream do wrong, and when.

Faults are how tests reproduce the failures forge must survive (429 storms, 5xx, hung calls,
answers that are truncated, incomplete, mislabelled, wrapped in reasoning or quoting the tickets
back, hostile ones included; servers that hang, trickle, cut a body short, answer 100 MB or HTML, or
garble the token counts) without a real
provider's randomness: one-shot ``Fault`` objects queued in arrival order, and rules that pick a
fault from a request's pack items (a poison ticket that always fails).
"""

from __future__ import annotations

import email.utils
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, get_args

__all__ = [
    "ERROR_FAULTS",
    "FAULT_KINDS",
    "QUOTE_PLACES",
    "Fault",
    "FaultKind",
    "FaultRule",
    "FaultScript",
    "retry_after_header",
    "retry_after_seconds",
]

FaultKind = Literal[
    "429",
    "500",
    "503",
    "timeout",
    "malformed",
    "partial",
    "invalid_label",
    "think",
    "reasoning",
    "empty",
    "quote",
    "401",
    "reset",
    "overloaded",
    "hang",
    "trickle",
    "short_body",
    "huge",
    "garbage",
    "bad_usage",
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
#: faults that replace the answer with an error or no response at all
ERROR_FAULTS: frozenset[str] = frozenset({"429", "500", "503", "401", "reset", "overloaded"})

#: where a "quote" fault puts the quoted texts
QUOTE_PLACES: frozenset[str] = frozenset({"before", "after", "prose"})

FaultRule = Callable[[list[dict[str, Any]]], "Fault | None"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted misbehaviour for one upcoming request."""

    kind: FaultKind
    #: for "429"/"503"/"overloaded": seconds or an HTTP-date string, sent as Retry-After (None: no
    #: header)
    retry_after: float | str | None = None
    #: for "timeout": seconds to sleep before answering normally; "trickle": seconds between two
    #: bytes of the answer (0: one second); "hang", "short_body": the most seconds to hold the
    #: connection open without a (complete) answer (0: until the client leaves, ten minutes at most)
    delay: float = 0.0
    #: for "partial": how many items to leave out of the answer (the first ones)
    drop: int = 1
    #: for "quote": where the pack's texts, quoted word for word, go around the (fenced) answer:
    #: "before" it, "after" it, or "prose" (in sentences on both sides of an unfenced answer)
    place: Literal["before", "after", "prose"] = "before"
    #: for "huge": the body's size in bytes (0: 100 MB)
    size: int = 0

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}"
            )
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.drop < 0:
            raise ValueError("drop must be >= 0")
        if self.place not in QUOTE_PLACES:
            raise ValueError(f"place must be one of {sorted(QUOTE_PLACES)}, not {self.place!r}")
        if self.size < 0:
            raise ValueError("size must be >= 0")
        if isinstance(self.retry_after, int | float) and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")


class FaultScript:
    """The queued one-shot faults and the per-request rules, safe to change while serving."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._rules: list[FaultRule] = []

    def script(self, *faults: Fault) -> None:
        """Queue one-shot faults, each for the next request that asks (see ``next``)."""
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"script() takes Fault objects, not {type(fault).__name__}")
        with self._lock:
            self._faults.extend(faults)

    def fault_when(self, predicate: FaultRule) -> None:
        """Add a rule on a request's pack items; rules run in the order added."""
        with self._lock:
            self._rules.append(predicate)

    def clear(self) -> None:
        """Forget queued faults and rules."""
        with self._lock:
            self._faults.clear()
            self._rules.clear()

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._faults)

    def next(self, items: list[dict[str, Any]]) -> Fault | None:
        """The fault for this request: the oldest queued one, else the first rule that fires.

        Rules are called outside the lock, so a slow or re-entrant rule cannot stall other
        requests or deadlock a test that scripts faults from inside one.
        """
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            rules = list(self._rules)
        for rule in rules:
            fault = rule(items)
            if fault is not None:
                return fault
        return None


def retry_after_header(value: float | str) -> str:
    """A Retry-After value as sent: HTTP-dates verbatim, whole seconds without a fraction."""
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def retry_after_seconds(value: float | str | None) -> float | None:
    """Seconds a Retry-After value asks for, to quote the same wait in the error message."""
    if value is None:
        return None
    if not isinstance(value, str):
        return float(value)
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())
