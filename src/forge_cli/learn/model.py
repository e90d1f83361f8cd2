"""A trained local model: one vocabulary, one calibrated classifier per field, and what it was
measured at when it was trained."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import NDArray

from forge_cli.learn.features import Vocabulary
from forge_cli.learn.linear import Linear, scores, softmax

__all__ = ["FieldModel", "LocalModel", "Prediction"]


@dataclass(slots=True)
class FieldModel:
    """The classifier of one field and its label set, in the spelling of the training data."""

    name: str
    labels: list[str]
    classifier: Linear
    #: cross-validated accuracy when trained, and that of always answering the commonest label
    cv_accuracy: float = 0.0
    majority: float = 0.0
    #: (threshold, share of records at or above it, accuracy on those), from cross-validation
    coverage: list[tuple[float, float, float]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Prediction:
    """Per field, per text: the best label and its calibrated probability."""

    labels: dict[str, list[str]]
    confidence: dict[str, NDArray[np.float32]]

    def sure(self, threshold: float, fields: Sequence[str] | None = None) -> NDArray[np.bool_]:
        """Texts whose every field (of ``fields``, default all) is at least ``threshold`` sure."""
        rows = next(iter(self.confidence.values()))
        ok = np.ones(len(rows), dtype=bool)
        for name, probs in self.confidence.items():
            if fields is None or name in fields:
                ok &= probs >= threshold
        return ok


@dataclass(slots=True)
class LocalModel:
    vocabulary: Vocabulary
    fields: list[FieldModel]
    trained_on: int
    created: str
    #: the command line's description of the data it learned from (file name, text field)
    source: str = ""

    def field(self, name: str) -> FieldModel | None:
        return next((f for f in self.fields if f.name == name), None)

    def predict(self, texts: Sequence[str]) -> Prediction:
        x = self.vocabulary.transform(texts)
        labels: dict[str, list[str]] = {}
        confidence: dict[str, NDArray[np.float32]] = {}
        # every field's classes side by side: one pass over the texts' terms, not one per field
        classifiers = [f.classifier for f in self.fields]
        together = scores(
            x,
            np.hstack([c.weights for c in classifiers]),
            np.concatenate([c.bias for c in classifiers]),
        )
        start = 0
        for f, c in zip(self.fields, classifiers, strict=True):
            end = start + c.weights.shape[1]
            probs = softmax(together[:, start:end] / c.temperature)
            start = end
            best = probs.argmax(axis=1)
            labels[f.name] = [f.labels[i] for i in best]
            confidence[f.name] = probs[np.arange(len(best)), best]
        return Prediction(labels, confidence)
