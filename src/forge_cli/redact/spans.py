"""What every detector shares: the spans claimed so far, the detector signature, and the character
classes that decide where a match may start or end."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable

#: ASCII letters and digits: a token glued to one of these is part of a longer word, so detectors
#: check the character before a match against this set in Python instead of with a look-behind
ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")
#: the characters that continue an identifier or a token
WORDISH = ALNUM | frozenset("_-")


class Claims:
    """Non-overlapping spans, first come first served (detectors run strongest first)."""

    __slots__ = ("ends", "kinds", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.ends: list[int] = []
        self.kinds: list[str | None] = []

    def overlaps(self, start: int, end: int) -> bool:
        """Whether [start, end) touches a claimed span (a stronger detector found it first)."""
        i = bisect_right(self.starts, start)
        return bool(
            (i and self.ends[i - 1] > start) or (i < len(self.starts) and self.starts[i] < end)
        )

    def add(self, start: int, end: int, kind: str | None) -> bool:
        """Claim [start, end) unless it overlaps a claimed span (a stronger detector found it)."""
        if end <= start:
            return False
        i = bisect_right(self.starts, start)
        if i and self.ends[i - 1] > start:
            return False
        if i < len(self.starts) and self.starts[i] < end:
            return False
        self.starts.insert(i, start)
        self.ends.insert(i, end)
        self.kinds.insert(i, kind)
        return True


#: a detector reads the text and its lower-cased copy (same offsets) and adds what it finds
Detector = Callable[[str, str, Claims], None]
