"""Texts as sparse TF-IDF vectors over a vocabulary of words and word pairs.

Why words and pairs and not character n-grams: on help-desk tickets they carry most of the signal
("refund", "not working", "cancel subscription"), keep the vocabulary (and the model file) small, and
cost one regular expression and one dict lookup per token, which is what lets a trained model answer
tens of thousands of tickets a second. The vocabulary is learned from the training texts (terms seen in
at least ``min_df`` of them), so a model file needs no hashing tricks to be read back.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import filterfalse, pairwise, repeat
from typing import Any

import numpy as np
from numpy.typing import NDArray

__all__ = ["Matrix", "Vocabulary", "terms"]

#: every ASCII character that is not a letter or digit, and common typographic punctuation, splits
#: words: ``str.translate`` and ``split`` do in C what a regular expression does three times slower
_SPLIT = str.maketrans(
    dict.fromkeys([chr(c) for c in range(128) if not chr(c).isalnum()] + list("‘’“”…–—•«»·"), " ")
)
#: words too common in every ticket to tell labels apart; the IDF weight handles the rest
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "been",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "there",
        "this",
        "to",
        "us",
        "was",
        "we",
        "were",
        "will",
        "with",
        "you",
        "your",
    ]
)


def terms(text: str) -> list[str]:
    """The words of a text (lower-cased, digits kept) and its pairs of neighbouring words.

    ``filterfalse`` and ``map`` over C callables keep the loop out of the interpreter: this runs for
    every ticket a trained model answers, and was a third of its time as comprehensions."""
    words = list(filterfalse(_STOP.__contains__, text.lower().translate(_SPLIT).split()))
    return words + list(map(" ".join, pairwise(words)))


@dataclass(slots=True)
class Matrix:
    """Rows of sparse vectors (CSR layout): row ``r`` holds ``indices[indptr[r]:indptr[r+1]]``."""

    indptr: NDArray[np.int64]
    indices: NDArray[np.int32]
    data: NDArray[np.float32]

    @property
    def rows(self) -> int:
        return len(self.indptr) - 1

    def take(self, rows: Sequence[int] | NDArray[np.int64]) -> Matrix:
        """The given rows, in that order (folds of a cross-validation)."""
        starts, ends = self.indptr[rows], self.indptr[np.asarray(rows) + 1]
        lengths = ends - starts
        indptr = np.concatenate(([0], np.cumsum(lengths))).astype(np.int64)
        picks = np.concatenate([np.arange(s, e) for s, e in zip(starts, ends, strict=True)])
        picks = picks.astype(np.int64) if len(picks) else np.zeros(0, np.int64)
        return Matrix(indptr, self.indices[picks], self.data[picks])

    def row_ids(self) -> NDArray[np.int64]:
        """The row of every stored value (to spread per-row numbers over the values)."""
        return np.repeat(np.arange(self.rows, dtype=np.int64), np.diff(self.indptr))


class Vocabulary:
    """The terms a model knows, with the inverse document frequency of each."""

    def __init__(self, terms_: Sequence[str], idf: Sequence[float] | NDArray[Any]) -> None:
        self.terms = list(terms_)
        self.index = {t: i for i, t in enumerate(self.terms)}
        self.idf = np.asarray(idf, dtype=np.float32)

    def __len__(self) -> int:
        return len(self.terms)

    @classmethod
    def learn(cls, texts: Iterable[str], *, min_df: int = 2, max_terms: int = 50_000) -> Vocabulary:
        """Terms in at least ``min_df`` texts (the ``max_terms`` most frequent), smooth IDF."""
        df: Counter[str] = Counter()
        n = 0
        for text in texts:
            df.update(set(terms(text)))
            n += 1
        kept = [t for t, c in df.most_common(max_terms) if c >= min_df]
        kept.sort()
        idf = [math.log((1 + n) / (1 + df[t])) + 1.0 for t in kept]
        return cls(kept, idf)

    def transform(self, texts: Iterable[str]) -> Matrix:
        """Sublinear TF times IDF, each row scaled to unit length (long tickets do not shout)."""
        every: list[str] = []
        ends: list[int] = []
        for text in texts:
            every.extend(terms(text))
            ends.append(len(every))
        # unknown terms are -1 and dropped in one numpy step, not one Python test per term
        found = np.fromiter(map(self.index.get, every, repeat(-1)), np.int64, len(every))
        rows = np.repeat(np.arange(len(ends), dtype=np.int64), np.diff(ends, prepend=0))
        known = found >= 0
        flat, rows = found[known], rows[known]
        # a term repeated in a text is one value with its count: sort (row, term) pairs and count
        keys, counts = np.unique(rows * len(self.terms) + flat, return_counts=True)
        key_rows = keys // max(len(self.terms), 1)
        indices = (keys - key_rows * len(self.terms)).astype(np.int32)
        indptr = np.searchsorted(key_rows, np.arange(len(ends) + 1)).astype(np.int64)
        data = (1.0 + np.log(counts.astype(np.float32))) * self.idf[indices]
        matrix = Matrix(indptr, indices, data.astype(np.float32))
        _normalise(matrix)
        return matrix


def _normalise(matrix: Matrix) -> None:
    if not len(matrix.data):
        return
    squares = np.add.reduceat(matrix.data**2, matrix.indptr[:-1].clip(max=len(matrix.data) - 1))
    lengths = np.diff(matrix.indptr)
    norms = np.where(lengths > 0, np.sqrt(squares), 1.0)
    matrix.data /= np.repeat(norms, lengths).astype(np.float32)
