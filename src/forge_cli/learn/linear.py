"""A multinomial logistic regression on sparse vectors, trained and applied with numpy alone.

Why logistic regression: on short texts it is as accurate as anything that trains in seconds, its
probabilities are close to calibrated (a temperature fixes the rest, see ``calibrate``), and applying
it is one sparse product. Why no scikit-learn: it would bring scipy and joblib (tens of MB, a second of
import) for the hundred lines below.

Training is full-batch gradient descent with Adam steps on the mean cross-entropy plus an L2 penalty;
classes are weighted by inverse frequency (``balanced``) when asked, so a rare queue is not simply
never predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from forge_cli.learn.features import Matrix

__all__ = ["Linear", "TrainOptions", "softmax", "train"]


@dataclass(frozen=True, slots=True)
class TrainOptions:
    #: L2 penalty on the weights (per example)
    l2: float = 1e-4
    steps: int = 120
    rate: float = 0.1
    #: weight classes by inverse frequency
    balanced: bool = False


@dataclass(slots=True)
class Linear:
    """Weights (terms x classes) and biases of one field's classifier."""

    weights: NDArray[np.float32]
    bias: NDArray[np.float32]
    #: divides the scores before the softmax; set by calibration (1.0: as trained)
    temperature: float = 1.0

    def scores(self, x: Matrix) -> NDArray[np.float32]:
        return scores(x, self.weights, self.bias)

    def proba(self, x: Matrix) -> NDArray[np.float32]:
        return softmax(self.scores(x) / self.temperature)


def scores(
    x: Matrix, weights: NDArray[np.float32], bias: NDArray[np.float32]
) -> NDArray[np.float32]:
    """``x @ weights + bias`` for a sparse ``x``: each stored value's weight row, scaled, summed
    per row with one ``reduceat`` over all classes (rows with no known term keep the bias)."""
    out = np.empty((x.rows, weights.shape[1]), dtype=np.float32)
    out[:] = bias
    if not len(x.data):
        return out
    contrib = weights[x.indices] * x.data[:, None]
    filled = np.diff(x.indptr) > 0
    out[filled] += np.add.reduceat(contrib, x.indptr[:-1][filled], axis=0)
    return out


def softmax(s: NDArray[np.float32]) -> NDArray[np.float32]:
    s = s - s.max(axis=1, keepdims=True)
    e = np.exp(s)
    return (e / e.sum(axis=1, keepdims=True)).astype(np.float32)


def train(
    x: Matrix, y: NDArray[np.int64], classes: int, features: int, options: TrainOptions
) -> Linear:
    """Fit on rows ``x`` (``features`` columns) with class indices ``y``."""
    n = x.rows
    weights = np.zeros((features, classes), dtype=np.float32)
    bias = np.zeros(classes, dtype=np.float32)
    onehot = np.zeros((n, classes), dtype=np.float32)
    onehot[np.arange(n), y] = 1.0
    sample = np.ones(n, dtype=np.float32) / n
    if options.balanced:
        counts = np.bincount(y, minlength=classes).astype(np.float32)
        per_class = np.where(counts > 0, 1.0 / np.maximum(counts, 1), 0.0)
        sample = (per_class[y] / per_class[y].sum()).astype(np.float32)
    rows = x.row_ids()
    m_w, v_w = np.zeros_like(weights), np.zeros_like(weights)
    m_b, v_b = np.zeros_like(bias), np.zeros_like(bias)
    beta1, beta2, eps = 0.9, 0.999, 1e-8
    for step in range(1, options.steps + 1):
        p = softmax(scores(x, weights, bias))
        g = (p - onehot) * sample[:, None]
        grad_w = np.empty_like(weights)
        spread = g[rows] * x.data[:, None]
        for c in range(classes):
            grad_w[:, c] = np.bincount(x.indices, weights=spread[:, c], minlength=features)
        grad_w += options.l2 * weights
        grad_b = g.sum(axis=0)
        m_w = beta1 * m_w + (1 - beta1) * grad_w
        v_w = beta2 * v_w + (1 - beta2) * grad_w**2
        m_b = beta1 * m_b + (1 - beta1) * grad_b
        v_b = beta2 * v_b + (1 - beta2) * grad_b**2
        fix1, fix2 = 1 - beta1**step, 1 - beta2**step
        weights -= options.rate * (m_w / fix1) / (np.sqrt(v_w / fix2) + eps)
        bias -= options.rate * (m_b / fix1) / (np.sqrt(v_b / fix2) + eps)
    return Linear(weights.astype(np.float32), bias.astype(np.float32))
