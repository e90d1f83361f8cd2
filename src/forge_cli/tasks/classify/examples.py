"""Labelled examples in the prompt: the user's labelled records, matched to the task's fields, and
the few of them each pack is shown.

A model labels the user's own categories far better when it sees how the user labels them, but the
whole labelled history would cost more than the pack. So each pack gets a few examples near its
texts (word overlap weighted by rarity: cheap, no model, no new dependency), a few per label of the
first label field so every label the budget allows is shown, the most similar first, and never more
than a token budget. The choice depends only on the pack's texts and the examples, so a pack sent
again is shown the same examples (ties go to the earlier record of the file).
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

from forge_cli.core.text import estimate_tokens
from forge_cli.tasks.classify.fields import Field, LabelSet, clip_summary

#: how the selection works: part of the cache key, so a change of the rule is a change of answers
SELECTION_VERSION = "examples-v1"
#: an example's text is cut to this many characters: a few hundred show the kind of ticket
EXAMPLE_CHARS = 300
HEADER = (
    "Examples (already answered, do not answer them; they show how tickets are labelled, "
    "and none of them is in the array you answer):"
)
#: a word in more than this share of the examples says little and would make every lookup touch
#: every example, so it is left out of the similarity
COMMON_SHARE = 0.5

_WORD = re.compile(r"\w\w+")

#: a field's value in an example: a label, a list of labels (multi-label field) or free text
Value = str | list[str]


@dataclass(frozen=True, slots=True)
class Example:
    """One labelled record, ready for the prompt."""

    #: position among the usable examples of the file (a pool breaks ties by its own order, which
    #: is the file's: choices never depend on luck)
    index: int
    text: str
    #: field name -> the user's label (or labels, or text), only for the fields the record gives
    values: Mapping[str, Value]

    def entry(self, fields: Sequence[Field]) -> str:
        """The example as the model sees it: ``{"text", <field>: <label>...}`` in field order."""
        shown: dict[str, Any] = {"text": _clip(self.text)}
        for f in fields:
            if f.name in self.values:
                shown[f.name] = self.values[f.name]
        return orjson.dumps(shown).decode()


@dataclass
class Labelled:
    """The examples read from a file, and what the user should hear about the rest."""

    examples: list[Example] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def label_examples(
    records: Iterable[tuple[str, Mapping[str, Any]]], fields: Sequence[Field]
) -> Labelled:
    """Match each record's columns named like the fields to the fields' labels.

    A label that is not one of the field's labels drops that field from the record (and is reported
    once, with how often it occurs); a record left with no field is skipped.
    """
    sets = {f.name: f.label_set() for f in fields if not f.is_text}
    unknown: Counter[tuple[str, str]] = Counter()
    skipped = 0
    out = Labelled()
    for text, columns in records:
        values: dict[str, Value] = {}
        for f in fields:
            raw = columns.get(f.name)
            if raw is None or raw == "" or raw == []:
                continue
            if f.is_text:
                if isinstance(raw, str | int | float) and not isinstance(raw, bool):
                    values[f.name] = clip_summary(str(raw))
                continue
            value, bad = _labels(raw, sets[f.name], f.multi)
            for label in bad:
                unknown[(f.name, label)] += 1
            if value is not None and not bad:
                values[f.name] = value
        if values:
            out.examples.append(Example(len(out.examples), text, values))
        else:
            skipped += 1
    for (name, label), count in unknown.items():
        times = "1 record" if count == 1 else f"{count} records"
        out.warnings.append(
            f"{name} {label!r} is not one of its labels (in {times}): "
            f"that {name} is left out of the examples"
        )
    if skipped:
        records_word = "record has" if skipped == 1 else "records have"
        out.warnings.append(
            f"{skipped} {records_word} no usable {' / '.join(f.name for f in fields)}: skipped"
        )
    return out


def _labels(raw: Any, labels: LabelSet, multi: bool) -> tuple[Value | None, list[str]]:
    """(the user's label or labels, the labels not in the set) of one cell."""
    if multi:
        parts = raw if isinstance(raw, list) else re.split(r"[;,]", str(raw))
        found: list[str] = []
        bad: list[str] = []
        for part in parts:
            item = str(part).strip()
            if not item:
                continue
            match = labels.match(item)
            if match is None:
                bad.append(item)
            elif match not in found:
                found.append(match)
        return (found or None), bad
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        return None, [orjson.dumps(raw).decode()]
    match = labels.match(str(raw))
    return (match, []) if match is not None else (None, [str(raw).strip()])


class ExamplePool:
    """The examples of a run, indexed once, and the choice of a few for each pack."""

    def __init__(
        self,
        examples: Sequence[Example],
        fields: Sequence[Field],
        *,
        per_label: int = 2,
        budget: int = 500,
    ) -> None:
        if not examples:
            raise ValueError("an example pool needs at least one example")
        self.examples = tuple(examples)
        self.per_label = per_label
        self.budget = budget
        self._entries = [ex.entry(fields) for ex in self.examples]
        self._costs = [estimate_tokens(entry) + 1 for entry in self._entries]
        self._header_cost = estimate_tokens(HEADER) + 2
        first = next(f for f in fields if not f.is_text)
        #: the first label field's labels each example shows (empty: a group of its own)
        self._groups: list[tuple[str | None, ...]] = [
            _group(ex.values.get(first.name)) for ex in self.examples
        ]
        self._all_groups = frozenset(g for groups in self._groups for g in groups)
        self._index_words()
        self.digest = hashlib.sha256(
            orjson.dumps([[ex.text, dict(ex.values)] for ex in self.examples])
        ).hexdigest()[:16]
        #: what the block of a pack costs, for estimates: the one chosen with no text to be near
        #: (selecting for every estimate would cost a selection per record)
        typical = self.block(())
        self.typical_tokens = estimate_tokens(typical) if typical else 0

    def identity(self) -> list[Any]:
        """Everything about the examples that changes answers: a part of the cache key."""
        return [SELECTION_VERSION, self.digest, self.per_label, self.budget, EXAMPLE_CHARS]

    # ------------------------------------------------------------------ similarity

    def _index_words(self) -> None:
        """idf weights over the examples, each example's word set and norm, and who holds a word."""
        words = [sorted(_words(ex.text)) for ex in self.examples]
        df: Counter[str] = Counter(w for ws in words for w in ws)
        n = len(self.examples)
        common = n * COMMON_SHARE if n >= 4 else n + 1
        self._unseen_idf = math.log(1 + n) + 1
        self._idf = {w: math.log((1 + n) / (1 + c)) + 1 for w, c in df.items() if c <= common}
        self._common = frozenset(w for w, c in df.items() if c > common)
        self._postings: dict[str, list[int]] = {}
        self._norms: list[float] = []
        for i, ws in enumerate(words):
            kept = [w for w in ws if w in self._idf]
            for w in kept:
                self._postings.setdefault(w, []).append(i)
            self._norms.append(math.sqrt(sum(self._idf[w] ** 2 for w in kept)) or 1.0)

    def scores(self, texts: Sequence[str]) -> dict[int, float]:
        """Example -> its best cosine similarity to one of the texts (only examples sharing a word).

        Words are walked in sorted order so every float sum is made in one order: scores, and so
        the choice, are the same in every process whatever the hash seed.
        """
        best: dict[int, float] = {}
        for text in texts:
            words = sorted(w for w in _words(text) if w not in self._common)
            if not words:
                continue
            norm = math.sqrt(sum(self._idf.get(w, self._unseen_idf) ** 2 for w in words))
            dots: dict[int, float] = {}
            for w in words:
                weight = self._idf.get(w)
                if weight is None:
                    continue
                for i in self._postings[w]:
                    dots[i] = dots.get(i, 0.0) + weight * weight
            for i, dot in dots.items():
                score = dot / (self._norms[i] * norm)
                if score > best.get(i, 0.0):
                    best[i] = score
        return best

    # ------------------------------------------------------------------ choice

    def choose(self, texts: Sequence[str]) -> list[Example]:
        """The pack's examples, the most similar first."""
        return [self.examples[i] for i in self._chosen(texts)]

    def block(self, texts: Sequence[str]) -> str:
        """The examples of a pack of ``texts`` as a prompt part ("" when none fits the budget)."""
        chosen = self._chosen(texts)
        if not chosen:
            return ""
        entries = ",\n".join(self._entries[i] for i in chosen)
        return f"{HEADER}\n[\n{entries}\n]"

    def _chosen(self, texts: Sequence[str]) -> list[int]:
        """Positions of the pack's examples, the most similar first.

        Rounds over the labels of the first label field: each round gives every label still short
        of ``per_label`` its most similar example left, labels taken in the order of their best
        example. An example that does not fit the budget is passed over for a shorter one.
        """
        scores = self.scores(texts)
        ranked = sorted(scores, key=lambda i: (-scores[i], i))
        near = set(ranked)
        ranked += [i for i in range(len(self.examples)) if i not in near]
        left = self.budget - self._header_cost
        taken: list[int] = []
        shown: Counter[str | None] = Counter()
        for round_ in range(self.per_label):
            for i in ranked:
                if left < 1:
                    break
                if i in taken or self._costs[i] > left:
                    continue
                groups = self._groups[i]
                if not any(shown[g] <= round_ for g in groups):
                    continue
                taken.append(i)
                left -= self._costs[i]
                shown.update(groups)
                if all(shown[g] > round_ for g in self._all_groups):
                    break
        order = {i: n for n, i in enumerate(ranked)}
        return sorted(taken, key=order.__getitem__)


def _group(value: Value | None) -> tuple[str | None, ...]:
    if value is None:
        return (None,)
    if isinstance(value, list):
        return tuple(value)
    return (value,)


def _words(text: str) -> set[str]:
    """Lower-cased words of two or more letters or digits, numbers alone left out."""
    return {w for w in _WORD.findall(text.casefold()) if not w.isdigit()}


def _clip(text: str) -> str:
    """The text cut near ``EXAMPLE_CHARS``, at a space where one is near, with an ellipsis."""
    flat = " ".join(text.split())
    if len(flat) <= EXAMPLE_CHARS:
        return flat
    cut = flat[:EXAMPLE_CHARS]
    space = cut.rfind(" ")
    return (cut[:space] if space > EXAMPLE_CHARS * 2 // 3 else cut) + " …"
