"""Built-in offline ticket classifier: weighted keywords and phrases, no model, no network.

Why it exists: forge needs an answer for every ticket even with no provider configured (the offline
provider, tests, benchmarks, dry runs), and the engine's own overhead is measured by running this
classifier on 100,000-ticket inputs where the whole pipeline must reach 10,000 tickets/s. It is an
honest *baseline*: it shows what simple cues get right, so an LLM provider has a bar to beat. It is
not meant to compete with one; see ``benchmarks/offline_accuracy.py`` for its measured accuracy,
including on a held-out set that the cue tables (``cues.py``) were not tuned on.

Why it is built this way (speed): it runs on every ticket of the offline benchmarks, so it must cost
well under the 100 µs per ticket that 10,000 tickets/s leaves the whole pipeline. The text is
lower-cased and tokenised once, in C (``bytes.translate`` + ``split``; see ``_tokens`` for why not a
regex). All cues, single words and multi-word phrases, live in one token trie built at import, so
the per-call work is one C-level dict lookup per token plus Python work only for the tokens that
start a cue. Nothing is compiled per call and no phrase is searched with ``in``. Tickets longer
than 3,600 characters are scored on their head and tail only (the question is at the top, the
sign-off at the bottom, the pasted log in between), so the time per ticket is bounded.
Measured with timeit, best of 7 (CPython 3.11.7 in the shared 2-vCPU dev container, 2026-11):
12 µs per call for a typical 300-character ASCII ticket, 15 µs when it contains a non-ASCII
character, 5 µs for a one-liner, 90 µs for a 37,000-character pasted log; 11 µs mean over all the
samples. ``benchmarks/offline_accuracy.py`` prints the current figures.

Why the scores look like this: every cue adds a weight to one or more labels (a few are negative,
e.g. "internal server error" takes weight away from hardware's "server"); the label with the highest
total wins and ``confidence`` is its share of the positive total, so two labels neck and neck give
about 0.5, and no cue at all gives 0.0 with the fallback label. Priority comes from separate urgency
cues: outage / production down / all users / data loss / security / ASAP / urgent give "urgent";
being blocked, crashes and errors push towards "high"; how-to questions, feature requests and thanks
push towards "low"; everything else is "medium".

Custom label sets: a label that is one of the default names keeps its cue table (that is what a
user means by "billing"); any other label is scored by the words of its name (split on ``_``, ``-``
and spaces) and simple inflections of them found in the text. No evidence or a tie goes to
"other" when the set has it, else to the last label, so the answer is always a member of the set.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress
from typing import Any, cast

from forge_cli.tasks.classify.cues import (
    BI,
    CATEGORY_CUES,
    CATEGORY_PRIORITY_BIAS,
    COUNTER_CUES,
    OT,
    PRIORITY_CUES,
)
from forge_cli.tasks.classify.summary import summary

DEFAULT_CATEGORIES: tuple[str, ...] = (
    "hardware_issue",
    "software_issue",
    "model_quality",
    "billing",
    "other",
)
PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "urgent")

__all__ = ["DEFAULT_CATEGORIES", "PRIORITIES", "Verdict", "classify"]


@dataclass(frozen=True, slots=True)
class Verdict:
    """The offline answer for one ticket, in the same shape an LLM answer is validated into."""

    category: str
    priority: str
    summary: str
    confidence: float  # 0..1, honest: share of the winning score


_SUFFIXES: tuple[str, ...] = (
    "s", "es", "ed", "d", "ing", "er", "ers", "ly", "e", "y", "ies", "ied", "ion", "ions", "al",
)  # fmt: skip

# --------------------------------------------------------------------------- tokens

#: ASCII punctuation becomes a separator (the apostrophe is deleted instead, so "doesn't" is one
#: token "doesnt"); letters, digits and every non-ASCII byte stay
_ASCII_SEPARATORS = b'!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\r\n\f\v'
_BYTE_TABLE = bytes.maketrans(_ASCII_SEPARATORS, b" " * len(_ASCII_SEPARATORS))
#: the non-ASCII punctuation and spaces that really occur in tickets; "’" becomes an apostrophe
_UNICODE_SEPARATORS = re.compile(
    "[\u00a0\u00a1\u00a9\u00ab\u00ae\u00b0\u00b7\u00bb\u00bf\u2010-\u2015\u2018\u201c-\u201e\u2022\u2026\u2122]"
)
_CURLY_APOSTROPHE = "\u2019".encode()
_HEAD_CHARS = 3000
_TAIL_CHARS = 600


def _tokens(text: str) -> list[bytes]:
    r"""Lower-cased word tokens (UTF-8 bytes) of the parts of ``text`` that carry the request.

    Why bytes: ``bytes.translate`` maps through a 256-entry table in C, so lowering, encoding,
    translating and splitting a 300-character ticket takes about 1.7 µs, where ``str.translate``
    takes 3 µs on ASCII and 14 µs as soon as one "é" or "°" appears (it then looks every character
    up in a dict), and one compiled ``re.findall(r"[^\W_]+")`` takes 6-7 µs. Non-ASCII text first
    gets its few multi-byte separators (curly quotes, dashes, NBSP, «», ¿) replaced by one
    precompiled regex. Tokens are bytes and so are all trie keys, built by this same function, so
    they always agree. Long texts are cut to head + tail so the time per ticket is bounded.
    """
    if len(text) > _HEAD_CHARS + _TAIL_CHARS:
        text = text[:_HEAD_CHARS] + " " + text[-_TAIL_CHARS:]
    low = text.lower()
    if low.isascii():
        return low.encode().translate(_BYTE_TABLE, b"'").split()
    data = _UNICODE_SEPARATORS.sub(" ", low).encode().replace(_CURLY_APOSTROPHE, b"'")
    return data.translate(_BYTE_TABLE, b"'").split()


# --------------------------------------------------------------------------- trie


def _forms(word: str) -> set[str]:
    """Simple inflections of ``word`` so tables can say "refund*" instead of five lines."""
    forms = {word}
    forms.update(word + s for s in _SUFFIXES)
    if word.endswith("e"):
        forms.update(word[:-1] + s for s in ("ing", "ed", "er", "ers", "ion", "ions"))
    if word.endswith("y"):
        forms.update(word[:-1] + s for s in ("ies", "ied"))
    return forms


def _keys(phrase: str) -> list[tuple[bytes, ...]]:
    """Token sequences a table key stands for, tokenised exactly as tickets are."""
    star = phrase.endswith("*")
    words = _tokens(phrase.rstrip("*"))
    if not star:
        return [tuple(words)]
    return [(*words[:-1], form.encode()) for form in sorted(_forms(words[-1].decode()))]


# A trie node is (category weights as ((label index, weight), ...), urgent points, high/low points,
# children or None). Built as lists, frozen into tuples so the hot loop unpacks them cheaply.
_Node = tuple[tuple[tuple[int, float], ...], float, float, "_Trie | None"]
_Trie = dict[bytes, _Node]


def _build_trie() -> _Trie:
    root: dict[bytes, list[Any]] = {}

    def node_for(seq: tuple[bytes, ...]) -> list[Any]:
        level = root
        node: list[Any] = []
        for i, tok in enumerate(seq):
            node = level.setdefault(tok, [{}, 0.0, 0.0, None])
            if i < len(seq) - 1:
                if node[3] is None:
                    node[3] = {}
                level = node[3]
        return node

    for label, cues in CATEGORY_CUES.items():
        for phrase, weight in cues.items():
            for seq in _keys(phrase):
                weights = node_for(seq)[0]
                weights[label] = weights.get(label, 0.0) + weight
    for phrase, deltas in COUNTER_CUES.items():
        for seq in _keys(phrase):
            weights = node_for(seq)[0]
            for label, weight in deltas.items():
                weights[label] = weights.get(label, 0.0) + weight
    for phrase, (urgent, lean) in PRIORITY_CUES.items():
        for seq in _keys(phrase):
            node = node_for(seq)
            node[1] += urgent
            node[2] += lean

    def freeze(level: dict[bytes, list[Any]]) -> _Trie:
        return {
            tok: (
                tuple((k, w) for k, w in sorted(node[0].items()) if w),
                node[1],
                node[2],
                freeze(node[3]) if node[3] else None,
            )
            for tok, node in level.items()
        }

    return freeze(root)


_TRIE: _Trie = _build_trie()


def _score(tokens: list[bytes]) -> tuple[list[float], float, float]:
    """Category scores, urgent points and high/low points from one pass over the tokens."""
    scores = [0.0, 0.0, 0.0, 0.0, 0.0]
    urgent = 0.0
    lean = 0.0
    n = len(tokens)
    # map() looks every token up in C and compress() skips, also in C, the tokens that start no
    # cue, so Python-level work is proportional to the number of cue hits, not of tokens (on the
    # samples: 8 hits for 30 tokens on average). Phrases are walked forwards from their first word.
    # (the None entries are exactly the ones compress() skips)
    nodes = cast("list[_Node]", list(map(_TRIE.get, tokens)))
    for i in compress(range(n), nodes):
        weights, u, h, kids = nodes[i]
        if weights:
            for k, w in weights:
                scores[k] += w
        if u or h:
            urgent += u
            lean += h
        j = i + 1
        while kids is not None and j < n:  # the token starts a phrase: walk on while it matches
            node = kids.get(tokens[j])
            if node is None:
                break
            weights, u, h, kids = node
            for k, w in weights:
                scores[k] += w
            urgent += u
            lean += h
            j += 1
    return scores, urgent, lean


# --------------------------------------------------------------------------- custom label sets

_LABEL_SPLIT = re.compile(r"[_\-\s]+")
_NAME_STOPWORDS = frozenset({"issue", "issues", "other", "and", "or", "the", "of", "a"})
#: a custom label's own word in the text outweighs any single built-in cue: the user chose that name
_NAME_WORD_WEIGHT = 4.0


_Plan = tuple[dict[bytes, tuple[int, ...]], tuple[int, ...], int]


@lru_cache(maxsize=64)
def _label_plan(labels: tuple[str, ...]) -> _Plan | None:
    """For a custom label set: word form -> label indices, default-table index per label, fallback.

    None for the default set in any order (e.g. read from a config file): that is not a custom
    set, so it gets the default scoring. Cached because a run uses one label set for every ticket;
    building this per call would cost more than classifying.
    """
    if not labels:
        raise ValueError("categories must not be empty")
    if len(labels) == len(DEFAULT_CATEGORIES) and set(labels) == set(DEFAULT_CATEGORIES):
        return None
    words: dict[bytes, set[int]] = {}
    defaults: list[int] = []
    for idx, label in enumerate(labels):
        low = label.lower()
        defaults.append(DEFAULT_CATEGORIES.index(low) if low in DEFAULT_CATEGORIES else -1)
        for word in _LABEL_SPLIT.split(low):
            for raw in _tokens(word):
                tok = raw.decode()
                if len(tok) < 2 or tok in _NAME_STOPWORDS:
                    continue
                stems = {tok}
                for suffix in ("ing", "es", "s", "ed", "ment", "ion"):
                    if tok.endswith(suffix) and len(tok) - len(suffix) >= 3:
                        stems.add(tok[: -len(suffix)])
                for stem in stems:
                    for form in _forms(stem):
                        words.setdefault(form.encode(), set()).add(idx)
    lower = [label.lower() for label in labels]
    fallback = lower.index("other") if "other" in lower else len(labels) - 1
    return {w: tuple(sorted(s)) for w, s in words.items()}, tuple(defaults), fallback


_POSITIVE = (0.0).__lt__


def _pick(
    scores: list[float], fallback: int, labels: Sequence[str]
) -> tuple[str, float, int, bool]:
    """Winner, its share of the positive total, its index, and whether it is only a stand-in.

    Ties and no evidence go to the fallback label: a tie is evidence for neither side. When the
    fallback was not itself among the tied labels it is a stand-in (last value True), and the
    caller should not read anything into which label it is.
    """
    best = max(scores)
    if best <= 0.0:
        return labels[fallback], 0.0, fallback, False
    total = sum(filter(_POSITIVE, scores))
    idx = scores.index(best)
    stand_in = False
    if scores.count(best) > 1:
        stand_in = scores[fallback] != best
        idx = fallback
        best = max(scores[idx], 0.0)
    # int(x + 0.5) rounds to 3 places at a third of round()'s cost; this runs on every ticket
    return labels[idx], int(best / total * 1000.0 + 0.5) / 1000.0, idx, stand_in


# --------------------------------------------------------------------------- public entry point


def classify(text: str, categories: Sequence[str] = DEFAULT_CATEGORIES) -> Verdict:
    """Classify one ticket offline; always returns a category from ``categories``."""
    body = text
    if len(body) > _HEAD_CHARS + _TAIL_CHARS:  # bounded work per ticket, see _tokens
        body = body[:_HEAD_CHARS] + " " + body[-_TAIL_CHARS:]
    tokens = _tokens(body)
    scores, urgent, lean = _score(tokens)
    if "$" in body or "€" in body:
        scores[BI] += 1.0
    if "!!!" in body:
        lean += 1.0
    plan = None if categories is DEFAULT_CATEGORIES else _label_plan(tuple(categories))
    if plan is None:
        best = max(scores)
        if best > 0.0 and scores.count(best) == 1:  # the common case, inlined: runs per ticket
            default_idx = scores.index(best)
            category = DEFAULT_CATEGORIES[default_idx]
            confidence = int(best / sum(filter(_POSITIVE, scores)) * 1000.0 + 0.5) / 1000.0
        else:
            category, confidence, default_idx, stand_in = _pick(scores, OT, DEFAULT_CATEGORIES)
            if stand_in:
                default_idx = -1  # two problem labels level: no category-based priority bias
    else:
        words, defaults, fallback = plan
        labels = tuple(categories)
        custom = [scores[d] if d >= 0 else 0.0 for d in defaults]
        for hit in map(words.get, tokens):
            if hit:
                for k in hit:
                    custom[k] += _NAME_WORD_WEIGHT
        category, confidence, idx, stand_in = _pick(custom, fallback, labels)
        default_idx = -1 if stand_in else defaults[idx]
    if confidence == 0.0:
        lean -= 1.0  # nothing recognisable: most likely chatter, not an incident
    elif default_idx >= 0:
        lean += CATEGORY_PRIORITY_BIAS[default_idx]
    if urgent >= 3.0:
        priority = "urgent"
    elif lean >= 2.0:
        priority = "high"
    elif lean <= -2.0:
        priority = "low"
    else:
        priority = "medium"
    return Verdict(category, priority, summary(text), confidence)
