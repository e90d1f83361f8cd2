"""Training a local model: a cross-validation to measure it and to calibrate it, then the final fit.

Why cross-validate at all: the user decides on the numbers it gives (is the model worth using, and at
which threshold may a cascade trust it), so they must come from tickets the model did not learn from.
The out-of-fold scores also fit the temperature that makes a "0.9" mean right nine times in ten. The
vocabulary is learned once from all texts (it carries no labels), which keeps a fold cheap.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime

import numpy as np
from numpy.typing import NDArray

from forge_cli.learn.features import Matrix, Vocabulary
from forge_cli.learn.linear import TrainOptions, softmax, train
from forge_cli.learn.model import FieldModel, LocalModel

__all__ = ["THRESHOLDS", "TrainingError", "train_model"]

#: the thresholds a model's coverage is measured at (and a cascade is usually set to)
THRESHOLDS = (0.5, 0.6, 0.7, 0.8, 0.85, 0.9, 0.95)
_TEMPERATURES = np.exp(np.linspace(math.log(0.25), math.log(6.0), 48))
#: (field, step, steps): one step is one fit, cross-validation folds and the final one
Progress = Callable[[str, int, int], None]


class TrainingError(ValueError):
    """The data cannot train this field (one label only, too few records)."""


def train_model(
    texts: Sequence[str],
    targets: Mapping[str, Sequence[str | None]],
    *,
    folds: int = 5,
    options: TrainOptions | None = None,
    progress: Progress | None = None,
    seed: int = 0,
    source: str = "",
) -> LocalModel:
    """One classifier per field of ``targets`` (labels per text; None where a text has none)."""
    options = options or TrainOptions()
    vocabulary = Vocabulary.learn(texts)
    x = vocabulary.transform(texts)
    fields = []
    for name, column in targets.items():
        rows = np.asarray([n for n, label in enumerate(column) if label is not None], np.int64)
        labels = [str(column[n]) for n in rows]
        fields.append(
            _train_field(
                name, x.take(rows), labels, len(vocabulary), folds, options, progress, seed=seed
            )
        )
    return LocalModel(
        vocabulary=vocabulary,
        fields=fields,
        trained_on=len(texts),
        created=datetime.now(UTC).isoformat(timespec="seconds"),
        source=source,
    )


def _train_field(
    name: str,
    x: Matrix,
    labels: list[str],
    features: int,
    folds: int,
    options: TrainOptions,
    progress: Progress | None,
    *,
    seed: int,
) -> FieldModel:
    counts = Counter(labels)
    if len(counts) < 2:
        only = next(iter(counts), "nothing")
        raise TrainingError(f"{name}: every record has the same label ({only!r}): nothing to learn")
    names = sorted(counts)
    index = {label: i for i, label in enumerate(names)}
    y = np.asarray([index[label] for label in labels], dtype=np.int64)
    folds = max(2, min(folds, len(labels) // 2))
    order = np.random.default_rng(seed).permutation(len(labels))
    out_of_fold = np.zeros((len(labels), len(names)), dtype=np.float32)
    for k in range(folds):
        if progress is not None:
            progress(name, k, folds + 1)
        held = order[k::folds]
        kept = np.setdiff1d(order, held)
        fit = train(x.take(kept), y[kept], len(names), features, options)
        out_of_fold[held] = fit.scores(x.take(held))
    temperature = _temperature(out_of_fold, y)
    probs = softmax(out_of_fold / temperature)
    best = probs.argmax(axis=1)
    right = best == y
    sure = probs[np.arange(len(y)), best]
    if progress is not None:
        progress(name, folds, folds + 1)
    final = train(x, y, len(names), features, options)
    final.temperature = temperature
    return FieldModel(
        name=name,
        labels=names,
        classifier=final,
        cv_accuracy=float(right.mean()),
        majority=counts.most_common(1)[0][1] / len(labels),
        coverage=coverage(sure, right),
    )


def coverage(
    sure: NDArray[np.float32], right: NDArray[np.bool_]
) -> list[tuple[float, float, float]]:
    """(threshold, share of records at or above it, accuracy on those) for each of THRESHOLDS."""
    rows = []
    for t in THRESHOLDS:
        taken = sure >= t
        share = float(taken.mean()) if len(taken) else 0.0
        accuracy = float(right[taken].mean()) if taken.any() else 0.0
        rows.append((t, share, accuracy))
    return rows


def _temperature(scores: NDArray[np.float32], y: NDArray[np.int64]) -> float:
    """The temperature that minimises the out-of-fold log loss (a one-number calibration)."""
    rows = np.arange(len(y))
    best, best_loss = 1.0, math.inf
    for t in _TEMPERATURES:
        p = softmax(scores / t)
        loss = float(-np.log(np.maximum(p[rows, y], 1e-9)).mean())
        if loss < best_loss:
            best, best_loss = float(t), loss
    return best
