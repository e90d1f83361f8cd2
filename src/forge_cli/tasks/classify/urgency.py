"""How urgent a record says it is: its priority/urgency/severity field folded onto 0..4.

A rule about tickets, not about input formats: the classify task's urgency hook, which the engine
calls for every record it admits, so that urgent tickets are scheduled first.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["URGENCY_FIELDS", "record_urgency", "remembered_urgency", "urgency_of"]

#: the fields looked at, in order: the first one present decides
URGENCY_FIELDS = ("priority", "urgency", "severity")

_URGENCY_WORDS: dict[str, int] = {
    **dict.fromkeys(("urgent", "critical", "blocker", "p0", "sev1", "emergency"), 4),
    **dict.fromkeys(("high", "p1", "sev2", "major"), 3),
    **dict.fromkeys(("medium", "normal", "p2", "sev3"), 2),
    **dict.fromkeys(("low", "minor", "p3", "p4", "trivial", "sev4"), 1),
}
_URGENCY_NOISE = re.compile(r"[\s_\-]+")
#: urgency strings already mapped: millions of records repeat the same few spellings
_URGENCY_SEEN: dict[str, int] = {}
#: bound on the remembered spellings, so an input with a unique value per record cannot grow it
_SEEN_LIMIT = 4096


def urgency_of(value: Any) -> int:
    """Map a priority/urgency/severity value onto 0..4 (0 = nothing usable given).

    Inputs use every vocabulary there is (P0, sev2, "High", 3), so the common words are folded onto
    one scale the scheduler can compare; anything unrecognised is 0 rather than a guess.
    """
    if value is None or isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return max(0, min(4, value))
    if isinstance(value, float):
        return max(0, min(4, int(value))) if value.is_integer() else 0
    if isinstance(value, str):
        word = _URGENCY_NOISE.sub("", value).lower()
        found = _URGENCY_WORDS.get(word)
        if found is not None:
            return found
        if word.isdigit():
            return min(4, int(word))
    return 0


def remembered_urgency(value: Any) -> int:
    """``urgency_of`` for the per-record path: a string seen before costs one dict lookup."""
    if type(value) is not str:
        return urgency_of(value)
    found = _URGENCY_SEEN.get(value)
    if found is None:
        found = urgency_of(value)
        if len(_URGENCY_SEEN) < _SEEN_LIMIT:  # inputs use a handful of spellings
            _URGENCY_SEEN[value] = found
    return found


def record_urgency(fields: Mapping[str, Any]) -> int:
    """The urgency of a record's first urgency field (priority, urgency, severity), or 0."""
    for name in URGENCY_FIELDS:
        if name in fields:
            return remembered_urgency(fields[name])
    return 0
