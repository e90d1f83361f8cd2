"""Structured output as the simulated provider honours it: its own answers obey the schema sent.

A real model under a JSON Schema (a grammar, strict mode, a forced tool) cannot write a label the
schema does not list or leave out a required field. The simulator's own answers do the same: a
value outside an enum becomes one of the enum's values, picked from the item's text as the default
answer is, so tests can predict it; a required field that is missing is added; a field a closed
object does not name is left out. What a test scripts on purpose (faults, a responder) is delivered
as asked, even where a real API would have prevented it, because that is the point of scripting it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

__all__ = ["conform", "item_schemas", "schema_text"]

#: what a missing required field of each JSON type becomes
_EMPTY: dict[str, Any] = {
    "string": "",
    "number": 0,
    "integer": 0,
    "boolean": False,
    "array": [],
    "object": {},
}


def schema_text(schema: Any) -> str:
    """The schema as canonical JSON (sorted keys), so equal schemas are equal strings."""
    return json.dumps(schema, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def item_schemas(schema: Any, count: int) -> list[Mapping[str, Any] | None]:
    """The schema of each of ``count`` answers in forge's ``{"results": [...]}`` shape (None where
    the schema says nothing): ``items`` for every answer, or a pack's own ``prefixItems``, one per
    answer in order (``TaskBase.pack_schema``)."""
    if not isinstance(schema, Mapping):
        return [None] * count
    results = _mapping(_mapping(schema.get("properties")).get("results"))
    items = results.get("items")
    if isinstance(items, Mapping):
        return [items] * count
    prefix = results.get("prefixItems")
    bound = [p if isinstance(p, Mapping) else None for p in prefix or ()][:count]
    return bound + [None] * (count - len(bound))


def conform(answer: dict[str, Any], item: Mapping[str, Any] | None, text: str) -> dict[str, Any]:
    """``answer`` as a model bound to ``item`` (one answer's schema) would have written it."""
    properties = _mapping(item.get("properties")) if item is not None else {}
    if item is None or not properties:
        return answer
    pick = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    out = dict(answer)
    if item.get("additionalProperties") is False:
        out = {key: value for key, value in out.items() if key in properties}
    required = item.get("required")
    for name, sub in properties.items():
        sub = _mapping(sub)
        choices = _enum(sub)
        members = _enum(_mapping(sub.get("items")))
        if "const" in sub:
            out[name] = sub["const"]
        elif choices:
            if out.get(name) not in choices:
                out[name] = choices[pick % len(choices)]
        elif members and _kind(sub) == "array":
            value = out.get(name)
            if not isinstance(value, list) or not value or any(v not in members for v in value):
                out[name] = [members[pick % len(members)]]
        elif name not in out and isinstance(required, list) and name in required:
            out[name] = _EMPTY.get(_kind(sub), "")
    return out


def _mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _enum(schema: Mapping[str, Any]) -> list[Any]:
    values = schema.get("enum")
    return list(values) if isinstance(values, list) else []


def _kind(schema: Mapping[str, Any]) -> str:
    """The JSON type, lower case (Gemini's OpenAPI form writes ``STRING``), first of a list."""
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "")
    return kind.lower() if isinstance(kind, str) else ""
