"""Turning a model's raw text into per-id entries, bound to the pack's own ids and nothing else.

Models wrap JSON in prose, code fences or ``<think>`` blocks and pick their own container: a bare
array, ``{"results": [...]}`` or an object keyed by id. They also quote what they were given, and a
record's text is written by whoever wrote the ticket: it may hold a fenced JSON "answer" of its
own, with ids guessed as 1..N or copied from the input's real record ids. So the answer is never
"the first JSON in the text". A text that is one JSON value is taken whole (what structured output
and JSON mode give); otherwise every top-level JSON value in it is found, and the one naming the
most of the pack's ids is the answer, the last of equals (a model's final answer comes last).
Pack ids are random per pack (``core.calls.new_pack_ids``), so no record's text can name one; a
value naming none of them answers only a one-item pack, and only when it is the only such value.
Anything else raises ``InvalidResponseError`` with a snippet, and the pack is asked again.
"""

from __future__ import annotations

import json
import re
from collections.abc import Collection, Sequence
from typing import Any

import orjson

from forge_cli.core.errors import InvalidResponseError
from forge_cli.core.text import snippet

__all__ = [
    "MAX_SCAN",
    "entries_by_id",
    "load_json",
    "mask_reasoning",
    "named_ids",
    "strip_reasoning",
]

_THINK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_UNCLOSED_THINK = re.compile(r"^\s*<think(?:ing)?>.*", re.DOTALL | re.IGNORECASE)
_OPENER = re.compile(r"[\[{]")
_DECODER = json.JSONDecoder()
#: decode attempts spent looking for the answer in free text: far more than any prose a model
#: writes around an answer has brackets, and a bound on the work a runaway answer can cause
MAX_SCAN = 2_000


def strip_reasoning(text: str) -> str:
    """Drop ``<think>`` blocks: their label words (and draft answers) are musings, not the answer."""
    if "<think" in text or "<THINK" in text:
        text = _THINK.sub("", text)
        text = _UNCLOSED_THINK.sub("", text)
    return text.strip()


def mask_reasoning(text: str) -> str:
    """``text`` with its ``<think>`` blocks blanked out, every other character where it was: for
    readers that need positions in the answer (token confidences) yet must skip drafts as
    ``strip_reasoning`` does."""
    if "<think" not in text and "<THINK" not in text:
        return text

    def blank(found: re.Match[str]) -> str:
        return " " * len(found.group())

    return _UNCLOSED_THINK.sub(blank, _THINK.sub(blank, text))


def load_json(text: str, ids: Sequence[str] = ()) -> Any:
    """The JSON value in a model's answer that answers the pack whose ids are ``ids``.

    The whole text when it is JSON; else, among the JSON values found in it, the one naming the
    most of ``ids`` (the last of equals). With none named, a one-item pack (or no ids at all)
    takes the only object or array of objects the text holds; several different ones are
    ambiguous and raise, like text with no JSON at all.
    """
    body = strip_reasoning(text)
    if not body:
        raise InvalidResponseError("empty answer", raw=snippet(text))
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    named, plain = _scan(body, frozenset(ids))
    if named:
        best_count, best = named[0]
        for count, value in named[1:]:
            if count >= best_count:
                best_count, best = count, value
        return best
    if not plain:
        cut = len(_OPENER.findall(body, 0)) > MAX_SCAN
        why = f" (searched from its first {MAX_SCAN:,} brackets only)" if cut else ""
        raise InvalidResponseError(f"answer is not JSON{why}", raw=snippet(text))
    if len(ids) > 1:
        raise InvalidResponseError(
            "no JSON in the answer answers the pack (cut short, or ids not the pack's)",
            raw=snippet(text),
        )
    distinct = [v for n, v in enumerate(plain) if v not in plain[:n]]
    if len(distinct) > 1:
        raise InvalidResponseError(
            f"the answer holds {len(distinct)} different JSON values and none names the "
            "item's id: cannot tell which is the answer",
            raw=snippet(text),
        )
    return distinct[0]


def entries_by_id(data: Any, ids: Sequence[str]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Map each expected id to its entry; return also the ids given more than once.

    Ids not asked for are ignored. An entry without an id is taken as the answer of a one-item
    pack; an entry with an id is only ever the answer of that id.
    """
    wanted = set(ids)
    rows = _rows(data, wanted, single=len(ids) == 1)
    if rows is None:
        why = (
            "has no list of results"
            if isinstance(data, dict)
            else "is neither a list nor an object"
        )
        raise InvalidResponseError(f"answer {why}", raw=snippet(str(data)))
    found: dict[str, dict[str, Any]] = {}
    duplicated: set[str] = set()
    for row in rows:
        if not isinstance(row, dict):
            continue
        rid = row.get("id")
        if rid is None and len(ids) == 1:
            rid = ids[0]
        key = _id_text(rid)
        if key not in wanted:
            continue
        if key in found and found[key] != row:
            duplicated.add(key)
        found[key] = row
    return found, duplicated


def named_ids(data: Any, ids: Collection[str]) -> set[str]:
    """The ids of ``ids`` that ``data`` gives an entry for by name (an entry's own ``id``, or a
    key of an object keyed by id): what tells a pack's answer from JSON quoted out of a record.

    A bare entry names its id only in a one-item pack: a pack of several is answered by one
    container, and a lone entry of a cut-off answer is no answer to the pack.
    """
    if not ids:
        return set()
    rows = _rows(data, ids, single=False)
    if not rows or (len(ids) > 1 and rows[0] is data):
        return set()
    return {
        key for row in rows if isinstance(row, dict) and (key := _id_text(row.get("id"))) in ids
    }


def _rows(data: Any, wanted: Collection[str], *, single: bool) -> list[Any] | None:
    """The entries of an answer, whatever container the model chose; None when it has none.

    ``single``: the pack has one item, so an object that is no container is its entry.
    """
    if isinstance(data, list):
        return data
    if not isinstance(data, dict):
        return None
    results = data.get("results")
    if isinstance(results, list):
        return results
    if "id" in data:  # one entry, bare (its list fields, such as a commit's changes, are its own)
        return [data]
    lists = [v for v in data.values() if isinstance(v, list)]
    if len(lists) == 1 and lists[0] and all(isinstance(x, dict) for x in lists[0]):
        return lists[0]
    keyed = [dict(v, id=k) for k, v in data.items() if k in wanted and isinstance(v, dict)]
    if keyed:
        return keyed
    return [data] if single else None


def _id_text(rid: Any) -> str:
    """An entry's id as the pack spells ids; "" for none (an id that is a container is none)."""
    if rid is None or isinstance(rid, dict | list):
        return ""
    return str(rid).strip()


def _scan(body: str, wanted: frozenset[str]) -> tuple[list[tuple[int, Any]], list[Any]]:
    """The JSON values in free text: (count of ids named, value) for those naming any of
    ``wanted``, and the top-level objects (or arrays of objects) that name none.

    Every ``{`` or ``[`` is tried, also inside a value that names no id: a record's text the model
    quoted may open a string that swallows the real answer, which is then still found inside it.
    A value naming ids is skipped as a whole (its own parts are not separate answers).
    """
    named: list[tuple[int, Any]] = []
    plain: list[Any] = []
    covered = 0  # where the last top-level value ends: anything starting before it is inside it
    pos = 0
    for _ in range(MAX_SCAN):
        found = _OPENER.search(body, pos)
        if found is None:
            break
        start = found.start()
        try:
            value, end = _DECODER.raw_decode(body, start)
        except (ValueError, RecursionError):
            pos = start + 1
            continue
        count = len(named_ids(value, wanted))
        if count:
            named.append((count, value))
            pos = end
            covered = max(covered, end)
            continue
        if start >= covered:
            covered = end
            if _entry_shaped(value):
                plain.append(value)
        pos = start + 1
    return named, plain


def _entry_shaped(value: Any) -> bool:
    """An object, or an array holding one: what could be an answer (``[1]`` in prose is not)."""
    if isinstance(value, dict):
        return bool(value)
    return isinstance(value, list) and any(isinstance(v, dict) for v in value)
