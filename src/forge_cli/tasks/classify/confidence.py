"""How sure the model was of each label it gave: the probability of the label's first token.

A provider that reports token log probabilities (OpenAI-compatible ``logprobs``) returns the
answer as the tokens the model chose. The first token of a label is where the model committed to
it (later tokens mostly spell out what that one began), so its probability is the label's
confidence. Finding that token needs the label's place in the answer text, which a JSON parser
throws away: this module reads the tokens' text with a small scanner that keeps where every string
value starts, then picks the answer and finds its entries by id as ``tasks/answers.py`` does.

Pure functions on plain data, so the mapping is tested on hand-made token lists.
"""

from __future__ import annotations

import math
import re
from bisect import bisect_right
from collections.abc import Sequence
from typing import Any

import orjson

from forge_cli.core.errors import InvalidResponseError
from forge_cli.tasks.answers import MAX_SCAN, entries_by_id, mask_reasoning, named_ids

__all__ = ["field_confidences"]

_WS = re.compile(r"[ \t\n\r]*")
_ATOM = re.compile(r"-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null")
_ATOMS = {"true": True, "false": False, "null": None}
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_OPENER = re.compile(r"[\[{]")


class _Obj(dict[str, Any]):
    """A JSON object that remembers where each member's value starts in the text."""

    starts: dict[str, int]


class _Arr(list[Any]):
    """A JSON array that remembers where each element starts in the text."""

    starts: list[int]


def field_confidences(
    tokens: Sequence[tuple[str, float]] | None,
    ids: Sequence[str],
    fields: Sequence[str],
) -> dict[str, dict[str, float | None]]:
    """For each id answered in ``tokens``, each field's confidence: exp(logprob) of the first token
    of its value, rounded to 3 places; None where it cannot be told.

    A list value (a multi-label field) takes its least sure label: the field is only as sure as its
    weakest part. Entries are found in ``{"results": [...]}``, a bare array or an object keyed
    by id; an answer that is not JSON gives no confidences (the task still reads the answer itself).
    """
    if not tokens:
        return {}
    ends: list[int] = []
    offset = 0
    for text, _ in tokens:
        offset += len(text)
        ends.append(offset)
    data = _scan_answer("".join(text for text, _ in tokens), ids)
    if data is None:
        return {}
    try:
        found, _ = entries_by_id(data, ids)
    except InvalidResponseError:
        return {}

    def at(start: int) -> float | None:
        index = bisect_right(ends, start)  # the token whose text holds the value's first character
        if index >= len(tokens):
            return None
        return round(math.exp(tokens[index][1]), 3)

    out: dict[str, dict[str, float | None]] = {}
    for local_id, entry in found.items():
        if not isinstance(entry, _Obj):  # rebuilt by entries_by_id: keyed by id, or a bare object
            keyed = data.get(local_id) if isinstance(data, _Obj) else None
            if not isinstance(keyed, _Obj):
                keyed = data if isinstance(data, _Obj) and len(ids) == 1 else None
            if keyed is None:
                continue
            entry = keyed
        starts = entry.starts
        row: dict[str, float | None] = {}
        for name in fields:
            value = entry.get(name)
            if isinstance(value, str) and value and name in starts:
                row[name] = at(starts[name])
            elif isinstance(value, _Arr):
                sure = [at(s) for s, v in zip(value.starts, value, strict=True) if v]
                known = [p for p in sure if p is not None]
                row[name] = min(known) if known and len(known) == len(sure) else None
            else:
                row[name] = None
        out[local_id] = row
    return out


def _scan_answer(text: str, ids: Sequence[str]) -> Any:
    """The JSON value of ``text`` that the parser takes for the answer, with positions; None when
    there is none.

    As ``tasks/answers.py`` chooses: outside ``<think>`` blocks, the value naming the most of the
    pack's ids (the last of equals), else the first object or array, so a record's text quoted in
    the answer never lends its confidences to the real answer.
    """
    text = mask_reasoning(text)
    wanted = frozenset(ids)
    best: Any = None
    best_count = 0
    first: Any = None
    pos = 0
    for _ in range(MAX_SCAN):
        found = _OPENER.search(text, pos)
        if found is None:
            break
        start = found.start()
        try:
            value, end = _value(text, start)
        except (ValueError, IndexError, KeyError, RecursionError, orjson.JSONDecodeError):
            pos = start + 1
            continue
        count = len(named_ids(value, wanted))
        if count and count >= best_count:
            best, best_count, pos = value, count, end
            continue
        if first is None and not count:
            first = value
        pos = start + 1
    return best if best is not None else first


def _value(text: str, i: int) -> tuple[Any, int]:
    """The JSON value at ``i`` and the index after it. A string's own start (after its quote) is
    what its container records."""
    i = _WS.match(text, i).end()  # type: ignore[union-attr]
    head = text[i]
    if head == '"':
        return _string(text, i)
    if head == "{":
        obj = _Obj()
        obj.starts = {}
        i = _skip(text, i + 1)
        if text[i] == "}":
            return obj, i + 1
        while True:
            if text[i] != '"':
                raise ValueError("object key expected")
            key, i = _string(text, i)
            i = _skip(text, i)
            if text[i] != ":":
                raise ValueError("':' expected")
            i = _skip(text, i + 1)
            obj.starts[key] = i + 1 if text[i] == '"' else i
            obj[key], i = _value(text, i)
            i = _skip(text, i)
            if text[i] == "}":
                return obj, i + 1
            if text[i] != ",":
                raise ValueError("',' or '}' expected")
            i = _skip(text, i + 1)
    if head == "[":
        arr = _Arr()
        arr.starts = []
        i = _skip(text, i + 1)
        if text[i] == "]":
            return arr, i + 1
        while True:
            arr.starts.append(i + 1 if text[i] == '"' else i)
            item, i = _value(text, i)
            arr.append(item)
            i = _skip(text, i)
            if text[i] == "]":
                return arr, i + 1
            if text[i] != ",":
                raise ValueError("',' or ']' expected")
            i = _skip(text, i + 1)
    atom = _ATOM.match(text, i)
    if atom is None:
        raise ValueError("not a JSON value")
    word = atom.group()
    if word in _ATOMS:
        return _ATOMS[word], atom.end()
    # an id given as a number must read back as entries_by_id reads it: 1, not 1.0
    return (float(word) if any(c in word for c in ".eE") else int(word)), atom.end()


def _string(text: str, i: int) -> tuple[str, int]:
    """The JSON string whose opening quote is at ``i``, and the index after its closing quote."""
    found = _STRING.match(text, i)
    if found is None:
        raise ValueError("unterminated string")
    value: str = orjson.loads(found.group())
    return value, found.end()


def _skip(text: str, i: int) -> int:
    return _WS.match(text, i).end()  # type: ignore[union-attr]
