"""A task's answer schema in each provider's dialect of JSON Schema.

Tasks write one plain JSON Schema (``PackRequest.schema``); providers accept different subsets of it.
OpenAI's strict structured outputs want every object closed and every property required; Gemini's
``responseSchema`` is an OpenAPI 3.0 subset with its own type names. Anthropic's tool input schema
and Cohere's ``json_schema`` take plain JSON Schema as it is. Pure functions, so each conversion is
tested on its own and never changes the task's schema, which every request of a run shares.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import Any

__all__ = ["openapi_schema", "strict_schema"]

#: keywords whose value is one subschema or a list of them
_SUBSCHEMAS = frozenset(("items", "anyOf", "allOf", "oneOf", "prefixItems", "not", "contains"))
#: keywords whose value maps names to subschemas
_SCHEMA_MAPS = frozenset(("properties", "$defs", "definitions"))


class _NoStrictForm(Exception):
    """An object the schema leaves open: closing it would change what it accepts."""


def strict_schema(schema: Mapping[str, Any]) -> dict[str, Any] | None:
    """``schema`` as OpenAI's strict mode takes it, or None when it has no strict form.

    Strict mode compiles the schema into a grammar before decoding, so it wants every object closed
    (``additionalProperties: false``) and every property listed in ``required``. A property the
    schema left optional becomes required with its own type rather than nullable: a value of the
    declared type is an answer the task accepts, where a ``null`` may not be. An object that admits
    keys the schema does not name (a map, or ``additionalProperties`` other than false) cannot be
    closed without refusing answers it allows; such a schema is sent without ``strict``.
    """
    try:
        return _strict(dict(schema))
    except _NoStrictForm:
        return None


def _strict(node: Any) -> Any:
    if isinstance(node, list):
        return [_strict(sub) for sub in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key in _SCHEMA_MAPS and isinstance(value, dict):
            out[key] = {name: _strict(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMAS:
            out[key] = _strict(value)
        else:  # data (enum, const, default, ...) is copied, never walked as a schema
            out[key] = copy.deepcopy(value)
    if _is_object(node):
        properties = node.get("properties")
        if not isinstance(properties, dict) or node.get("additionalProperties", False) is not False:
            raise _NoStrictForm
        if "patternProperties" in node:
            raise _NoStrictForm
        out["additionalProperties"] = False
        out["required"] = list(properties)
    return out


def _is_object(node: Mapping[str, Any]) -> bool:
    kind = node.get("type")
    if isinstance(kind, list):
        return "object" in kind
    return kind == "object" or (kind is None and "properties" in node)


#: the keywords Gemini's ``responseSchema`` (an OpenAPI 3.0 subset) takes; others are a 400
_OPENAPI_KEYS = frozenset(
    (
        "type",
        "format",
        "description",
        "nullable",
        "enum",
        "properties",
        "required",
        "propertyOrdering",
        "items",
        "minItems",
        "maxItems",
    )
)


def openapi_schema(schema: Any) -> Any:
    """A JSON Schema as Gemini's ``responseSchema`` takes it.

    Type names become Gemini's (``OBJECT``, ``STRING``, ...); a JSON Schema type list such as
    ``["string", "null"]`` becomes the type with ``nullable``; keywords Gemini does not know are
    left out. Every object gets a ``propertyOrdering`` in the order the task wrote its properties:
    without one Gemini writes keys alphabetically, which would put ``category`` before the ``id`` it
    belongs to.
    """
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key not in _OPENAPI_KEYS:
            continue
        if key == "type":
            out.update(_openapi_type(value))
        elif key == "properties" and isinstance(value, dict):
            out[key] = {name: openapi_schema(sub) for name, sub in value.items()}
            if "propertyOrdering" not in schema:
                out["propertyOrdering"] = list(value)
        elif key == "items":
            out[key] = openapi_schema(value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _openapi_type(value: Any) -> dict[str, Any]:
    """``"string"`` -> ``{"type": "STRING"}``; ``["string", "null"]`` adds ``nullable``."""
    if isinstance(value, str):
        return {"type": value.upper()}
    if isinstance(value, list):
        kinds = [kind for kind in value if isinstance(kind, str) and kind != "null"]
        out: dict[str, Any] = {"type": kinds[0].upper()} if kinds else {}
        if "null" in value:
            out["nullable"] = True
        return out
    return {}
