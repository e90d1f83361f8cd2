"""What a classification asks for: one or more fields, each a label set (single or multi-label) or
free text, and how a model's answer is matched to the user's own labels.

Labels are kept exactly as the user wrote them (any case, spaces, punctuation, non-ASCII) and results
carry them that way. A model's answer is matched forgivingly (case, spacing, ``_``/``-``/space,
surrounding quotes and unicode forms do not matter) but never by guessing: two labels that differ
only in those ways must be answered exactly, and anything else is not a label.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

#: the fields of a classification when the user names none: forge's ticket triage
DEFAULT_FIELD_NAMES = ("category", "priority", "summary")
#: input fields whose value says how urgent a record is (its scheduling, not its answer)
URGENCY_NAMES = ("priority", "urgency", "severity")
SUMMARY_CHARS = 160

_QUOTES = "\"'`\u201c\u201d\u2018\u2019\u201e\u00ab\u00bb"
_EDGES = re.compile(rf"^[\s{_QUOTES}]+|[\s{_QUOTES}]+$")
_SEPARATORS = re.compile(r"[\s_\-]+")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


@functools.lru_cache(maxsize=4096)
def label_key(text: str) -> str:
    """What two spellings of one label share: NFKC, case-folded, unquoted, runs of space/_/- as one.

    Used both to match a model's answer to a label and, by ``forge eval``, to compare gold labels
    with answers. NFKC first, so a decomposed accent, a full-width letter or a no-break space
    compare like their plain forms; accents themselves are kept (``café`` and ``cafe`` differ).
    Kept for the few thousand spellings last seen: answers repeat the same labels all run long.
    """
    text = _EDGES.sub("", unicodedata.normalize("NFKC", text))
    return _SEPARATORS.sub(" ", text).strip(" ").casefold()


class LabelSet:
    """A field's labels, and the forgiving but never-guessing match of an answer to one of them."""

    __slots__ = ("_by_key", "_exact", "labels")

    def __init__(self, labels: Iterable[str]) -> None:
        self.labels: tuple[str, ...] = tuple(labels)
        self._exact = frozenset(self.labels)
        by_key: dict[str, str | None] = {}
        for label in self.labels:
            key = label_key(label)
            # two labels with one key: neither may be matched loosely (None marks the clash)
            by_key[key] = None if key in by_key and by_key[key] != label else label
        self._by_key = by_key

    def match(self, value: str) -> str | None:
        """The user's label ``value`` means, or None."""
        if value in self._exact:
            return value
        return self._by_key.get(label_key(value))

    def why_not(self, value: str) -> str:
        key = label_key(value)
        if key in self._by_key and self._by_key[key] is None:
            clash = [label for label in self.labels if label_key(label) == key]
            return f"{value!r} could be any of {clash}: answer one of them exactly"
        return f"{value!r} is not one of the labels"


@dataclass(frozen=True, slots=True)
class Field:
    """One thing a classification says about a record."""

    name: str
    #: the label set; empty for a free-text field
    labels: tuple[str, ...] = ()
    #: several labels may apply (the answer is a list)
    multi: bool = False
    #: what the field means, for the model
    description: str = ""
    #: label -> what it means, for the model
    label_descriptions: Mapping[str, str] = field(default_factory=dict)
    #: the field says how urgent a record is: a record that already carries it is scheduled first
    urgency: bool = False

    @property
    def is_text(self) -> bool:
        return not self.labels

    def label_set(self) -> LabelSet:
        return LabelSet(self.labels)

    def identity(self) -> list[Any]:
        """Everything about the field that changes answers: a part of the cache key."""
        meanings = sorted((k, v) for k, v in self.label_descriptions.items() if k in self.labels)
        return [self.name, list(self.labels), self.multi, self.description, meanings]


def parse_labels(value: Any) -> tuple[str, ...]:
    """``"a, b,c"`` or a list -> distinct labels as written (spaces, case and unicode kept)."""
    raw = value.split(",") if isinstance(value, str) else list(value)
    labels: list[str] = []
    for part in raw:
        if not isinstance(part, str | int | float) or isinstance(part, bool):
            raise ValueError(f"label {part!r} is not text")
        name = str(part).strip()
        if not name:
            continue
        if any(ord(c) < 32 for c in name):
            raise ValueError(f"label {name!r} holds a control character")
        if name in labels:
            raise ValueError(f"label {name!r} is given twice")
        labels.append(name)
    if len(labels) < 2:
        raise ValueError("give at least two labels, separated by commas")
    return tuple(labels)


def field_from_flag(spec: str) -> Field:
    """``NAME=L1,L2`` (one label), ``NAME[]=L1,L2`` (one or more labels), ``NAME`` (free text)."""
    name, sep, labels = spec.partition("=")
    name = name.strip()
    multi = name.endswith("[]")
    name = name.removesuffix("[]").strip()
    _check_name(name)
    if not sep:
        if multi:
            raise ValueError(f"--field {spec!r}: a multi-label field needs labels: {name}[]=A,B")
        return Field(name)
    return Field(name, parse_labels(labels), multi=multi, urgency=name in URGENCY_NAMES)


def field_from_table(name: str, table: Mapping[str, Any]) -> Field:
    """A ``[classify.fields.NAME]`` table of forge.toml: labels, multi, text, description, urgency."""
    _check_name(name)
    known = {"labels", "multi", "text", "description", "urgency", "label_descriptions"}
    unknown = sorted(set(table) - known)
    if unknown:
        raise ValueError(f"fields.{name}: unknown setting {unknown[0]!r} (known: {sorted(known)})")
    text = bool(table.get("text", False))
    labels = () if text else parse_labels(table.get("labels", ()))
    descriptions = table.get("label_descriptions", {})
    if not isinstance(descriptions, Mapping):
        raise ValueError(f"fields.{name}.label_descriptions must be a table of label = meaning")
    return Field(
        name,
        labels,
        multi=bool(table.get("multi", False)),
        description=str(table.get("description", "")),
        label_descriptions={str(k): str(v) for k, v in descriptions.items()},
        urgency=bool(table.get("urgency", name in URGENCY_NAMES and not text)),
    )


def check_fields(fields: Sequence[Field]) -> tuple[Field, ...]:
    if not fields:
        raise ValueError("a classification needs at least one field")
    names = [f.name for f in fields]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"field {name!r} is given twice")
        if name in ("id", "text"):
            raise ValueError(f"field name {name!r} is taken: answers are keyed by id and text")
    if all(f.is_text for f in fields):
        raise ValueError("give at least one field with labels")
    return tuple(fields)


def _check_name(name: str) -> None:
    if not _NAME.match(name):
        raise ValueError(
            f"field name {name!r}: use letters, digits, _ and -, starting with a letter"
        )


def clip_summary(value: str) -> str:
    flat = " ".join(value.split())
    return flat if len(flat) <= SUMMARY_CHARS else flat[: SUMMARY_CHARS - 1] + "…"
