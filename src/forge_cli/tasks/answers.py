"""Turning a model's raw text into per-id entries, whatever shape the model chose.

Models wrap JSON in prose, code fences or ``<think>`` blocks and pick their own container: a bare
array, ``{"results": [...]}`` or an object keyed by id. This module accepts all of those so a task only
validates fields; anything it cannot read raises ``InvalidResponseError`` with a snippet.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import orjson

from forge_cli.core.errors import InvalidResponseError
from forge_cli.core.text import snippet

_THINK = re.compile(r"<think(?:ing)?>.*?</think(?:ing)?>", re.DOTALL | re.IGNORECASE)
_UNCLOSED_THINK = re.compile(r"^\s*<think(?:ing)?>.*", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


def strip_reasoning(text: str) -> str:
    """Drop ``<think>`` blocks: their label words are musings, not the answer."""
    if "<think" in text or "<THINK" in text:
        text = _THINK.sub("", text)
        text = _UNCLOSED_THINK.sub("", text)
    return text.strip()


def load_json(text: str) -> Any:
    """Parse the JSON in a model answer, tolerating fences and prose around it."""
    body = strip_reasoning(text)
    if not body:
        raise InvalidResponseError("empty answer", raw=snippet(text))
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError:
        pass
    fenced = _FENCE.search(body)
    if fenced:
        try:
            return orjson.loads(fenced.group(1))
        except orjson.JSONDecodeError:
            pass
    for opener, closer in (("{", "}"), ("[", "]")):
        start, end = body.find(opener), body.rfind(closer)
        if 0 <= start < end:
            try:
                return orjson.loads(body[start : end + 1])
            except orjson.JSONDecodeError:
                continue
    raise InvalidResponseError("answer is not JSON", raw=snippet(text))


def entries_by_id(data: Any, ids: Sequence[str]) -> tuple[dict[str, dict[str, Any]], set[str]]:
    """Map each expected id to its entry; return also the ids given more than once.

    Ids not asked for are ignored; a bare object with no id is taken as the answer of a one-item pack.
    """
    wanted = set(ids)
    rows: list[Any]
    if isinstance(data, list):
        rows = data
    elif isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if "results" in data and isinstance(data["results"], list):
            rows = data["results"]
        elif len(lists) == 1 and all(isinstance(x, dict) for x in lists[0]):
            rows = lists[0]
        elif wanted and all(isinstance(k, str) for k in data) and wanted & set(data):
            rows = [dict(v, id=k) for k, v in data.items() if isinstance(v, dict)]
        elif len(ids) == 1:
            rows = [dict(data, id=ids[0])]
        else:
            raise InvalidResponseError("answer has no list of results", raw=snippet(str(data)))
    else:
        raise InvalidResponseError("answer is neither a list nor an object", raw=snippet(str(data)))

    found: dict[str, dict[str, Any]] = {}
    duplicated: set[str] = set()
    for row in rows:
        if not isinstance(row, dict):
            continue
        rid = row.get("id")
        if rid is None and len(ids) == 1:
            rid = ids[0]
        key = str(rid).strip() if rid is not None else ""
        if key not in wanted:
            continue
        if key in found and found[key] != row:
            duplicated.add(key)
        found[key] = row
    return found, duplicated
