"""Scores of one field from (gold, predicted) pairs: pure functions, no I/O.

A record that got no answer (it failed, or is missing from the results) is a pair whose prediction
is None. It counts against accuracy and recall like any wrong answer, and has its own column in the
confusion matrix, so a model that answers little is never flattered by scoring only what it answered.

Per-label precision, recall and F1 are 0 where their denominator is 0 (a label never predicted has
precision 0), as scikit-learn does with ``zero_division=0``; macro-F1 averages F1 over every label
present in gold or predicted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from forge_cli.app.evaluation.labels import NO_ANSWER

__all__ = [
    "Confusion",
    "LabelScore",
    "MultiScore",
    "SingleScore",
    "f1_of",
    "label_order",
    "score_multi",
    "score_single",
]

#: one record of a single-label field: its gold label, and the predicted one (None: no answer)
Pair = tuple[str, str | None]
#: one record of a multi-label field: its gold labels, and the predicted ones (None: no answer)
MultiPair = tuple[frozenset[str], frozenset[str] | None]


@dataclass(frozen=True, slots=True)
class LabelScore:
    """One label's precision, recall and F1; ``support`` is how often gold has it."""

    label: str
    precision: float
    recall: float
    f1: float
    support: int
    #: how often it was predicted
    predicted: int


@dataclass(frozen=True, slots=True)
class Confusion:
    """Gold (rows) by predicted (columns); the last column counts records with no answer."""

    rows: tuple[str, ...]
    columns: tuple[str, ...]
    counts: tuple[tuple[int, ...], ...]

    def cell(self, gold: str, predicted: str) -> int:
        return self.counts[self.rows.index(gold)][self.columns.index(predicted)]


@dataclass(frozen=True, slots=True)
class SingleScore:
    """A single-choice field's scores."""

    records: int
    #: records with an answer (right or wrong)
    answered: int
    correct: int
    accuracy: float
    macro_f1: float
    labels: tuple[LabelScore, ...]
    confusion: Confusion


@dataclass(frozen=True, slots=True)
class MultiScore:
    """A multi-label field's scores; ``accuracy`` is the exact-match ratio (every label right)."""

    records: int
    answered: int
    exact_matches: int
    accuracy: float
    micro_f1: float
    macro_f1: float
    labels: tuple[LabelScore, ...]


def f1_of(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    """Precision, recall and F1 from counts; 0 where a denominator is 0."""
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return precision, recall, f1


def label_order(labels: Iterable[str]) -> list[str]:
    """Labels in a stable, readable order: case-insensitively alphabetical."""
    return sorted(set(labels), key=lambda label: (label.casefold(), label))


def score_single(pairs: Sequence[Pair]) -> SingleScore:
    """Accuracy, macro-F1, per-label scores and the confusion matrix of a single-choice field."""
    gold_counts = Counter(gold for gold, _ in pairs)
    predicted_counts = Counter(pred for _, pred in pairs if pred is not None)
    hits = Counter(gold for gold, pred in pairs if gold == pred)
    labels = label_order([*gold_counts, *predicted_counts])
    scores = []
    for label in labels:
        tp = hits[label]
        precision, recall, f1 = f1_of(tp, predicted_counts[label] - tp, gold_counts[label] - tp)
        scores.append(
            LabelScore(label, precision, recall, f1, gold_counts[label], predicted_counts[label])
        )
    correct = sum(hits.values())
    records = len(pairs)
    return SingleScore(
        records=records,
        answered=sum(predicted_counts.values()),
        correct=correct,
        accuracy=correct / records if records else 0.0,
        macro_f1=_mean([s.f1 for s in scores]),
        labels=tuple(scores),
        confusion=_confusion(pairs, label_order(gold_counts), labels),
    )


def _confusion(pairs: Sequence[Pair], rows: list[str], labels: list[str]) -> Confusion:
    """Gold labels as rows; gold labels then predicted-only ones, then no answer, as columns."""
    in_gold = set(rows)
    columns = [*rows, *(label for label in labels if label not in in_gold), NO_ANSWER]
    at = {label: n for n, label in enumerate(columns)}
    row_at = {label: n for n, label in enumerate(rows)}
    counts = [[0] * len(columns) for _ in rows]
    for gold, pred in pairs:
        counts[row_at[gold]][at[NO_ANSWER if pred is None else pred]] += 1
    return Confusion(tuple(rows), tuple(columns), tuple(tuple(row) for row in counts))


def score_multi(pairs: Sequence[MultiPair]) -> MultiScore:
    """Exact-match ratio, micro- and macro-F1 and per-label scores of a multi-label field.

    Each label is scored as its own yes/no question over the records; micro-F1 pools the counts of
    every label, macro-F1 averages the labels' F1.
    """
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    support: Counter[str] = Counter()
    predicted: Counter[str] = Counter()
    exact = answered = 0
    for gold, pred in pairs:
        got = pred if pred is not None else frozenset()
        answered += pred is not None
        exact += pred is not None and pred == gold
        support.update(gold)
        predicted.update(got)
        tp.update(gold & got)
        fp.update(got - gold)
        fn.update(gold - got)
    scores = []
    for label in label_order([*support, *predicted]):
        precision, recall, f1 = f1_of(tp[label], fp[label], fn[label])
        scores.append(LabelScore(label, precision, recall, f1, support[label], predicted[label]))
    _, _, micro = f1_of(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    records = len(pairs)
    return MultiScore(
        records=records,
        answered=answered,
        exact_matches=exact,
        accuracy=exact / records if records else 0.0,
        micro_f1=micro,
        macro_f1=_mean([s.f1 for s in scores]),
        labels=tuple(scores),
    )


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else 0.0
