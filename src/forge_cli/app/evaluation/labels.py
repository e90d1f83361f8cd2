"""From raw cell values to labels that can be compared, forgiving but never ambiguous.

Gold files and model answers spell the same label differently (``Technical Support``,
``technical_support``, ``"technical-support"``), so both sides are compared after a normalisation
that ignores case, surrounding spaces and quotes, and treats runs of spaces, ``_`` and ``-`` as one.
That must never make two labels the gold data keeps apart into one: when two gold spellings
normalise alike, the field is compared exactly and the reason is reported. Pure functions, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

import orjson

from forge_cli.tasks.classify.fields import label_key

__all__ = ["NO_ANSWER", "LabelSpace", "as_label", "as_labels", "normalise"]

#: the column of a confusion matrix for records that got no answer (failed or missing)
NO_ANSWER = "(no answer)"

#: separators of a multi-label string ("a; b", "a,b")
_MULTI_SPLIT = re.compile(r"[;,]")

#: the comparison key of a label: the same folding classify uses to match answers to labels
normalise = label_key


def as_label(value: Any) -> str | None:
    """One cell as a single label; None when it holds none (missing, null, empty)."""
    if value is None:
        return None
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, list | tuple):
        # a list in a single-label field: one element is that label, more is no single answer
        labels = [v for v in (as_label(v) for v in value) if v is not None]
        return labels[0] if len(labels) == 1 else None
    else:
        text = str(value)
    return text if text.strip() else None


def as_labels(value: Any) -> list[str] | None:
    """One cell as a list of labels (a multi-label field); None when the cell is missing.

    A list is taken as it is; a string is a JSON array (how CSV writers store lists) or labels
    separated by ``;`` or ``,``. An empty cell is an empty list: "none of the labels".
    """
    if value is None:
        return None
    if isinstance(value, list | tuple):
        items: Iterable[Any] = value
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                parsed = orjson.loads(text)
            except orjson.JSONDecodeError:
                parsed = None
            if isinstance(parsed, list):
                return as_labels(parsed)
        # the spaces after a separator belong to the separator, also when labels are compared exactly
        items = [part.strip() for part in _MULTI_SPLIT.split(text)]
    else:
        items = [value]
    labels = (as_label(v) for v in items)
    return [label for label in labels if label is not None]


class LabelSpace:
    """How the labels of one field are compared: forgiving, or exact when forgiving would merge.

    Built from every gold label of the field. ``key`` maps any spelling onto the label it is
    compared as: the gold spelling when one normalises alike, otherwise the first spelling seen.
    """

    def __init__(self, gold_labels: Iterable[str]) -> None:
        spellings: dict[str, list[str]] = {}
        for label in gold_labels:
            same = spellings.setdefault(normalise(label), [])
            if label not in same:
                same.append(label)
        #: groups of distinct gold labels that would normalise alike (each group sorted)
        self.collisions: tuple[tuple[str, ...], ...] = tuple(
            sorted(tuple(sorted(group)) for group in spellings.values() if len(group) > 1)
        )
        #: True when labels are compared exactly as written (a collision was found)
        self.exact = bool(self.collisions)
        self._known: dict[str, str] = {} if self.exact else {k: v[0] for k, v in spellings.items()}

    def key(self, label: str) -> str:
        """The label ``label`` counts as."""
        if self.exact:
            return label
        return self._known.setdefault(normalise(label), label)

    def note(self) -> str | None:
        """Why this field is compared exactly, in one line; None when it is not."""
        if not self.exact:
            return None
        groups = "; ".join(
            " and ".join(repr(label) for label in group) for group in self.collisions
        )
        return (
            f"gold labels {groups} would be the same after normalisation: "
            "labels compared exactly as written (case, spaces, _ and - count)"
        )
