"""OpenAI's ``response_format`` as the simulated upstream reads it, and OpenAI's error envelope.

``json_object`` asks for any JSON (with a ``schema`` beside it, llama.cpp's older form, for JSON
bound to that schema); ``json_schema`` ``{name, strict, schema}`` for structured output.
With ``strict`` true OpenAI compiles the schema ahead of decoding and refuses one it cannot: every
object must be closed (``additionalProperties: false``) and list every property in ``required``;
the refusal is a 400 "Invalid schema for response_format 'NAME': In context=(...), ..." naming
the first object that breaks the rule, as OpenAI's does. Kept apart from ``openai_wire.py`` so
that module stays about the wire's bodies and headers.
"""

from __future__ import annotations

import re
from typing import Any

from forge_cli.testing.sim.wire import WireRequest

__all__ = ["error_body", "read_response_format", "strict_problem"]


def error_body(
    message: str, type_: str, param: str | None = None, code: str | None = None
) -> dict[str, Any]:
    """OpenAI's error envelope."""
    return {"error": {"message": message, "type": type_, "param": param, "code": code}}


_SCHEMA_NAME = re.compile(r"[A-Za-z0-9_-]{1,64}")


def strict_problem(node: Any, path: tuple[str, ...] = ()) -> str | None:
    """Why OpenAI's strict mode refuses this schema ("In context=(...), ..."), or None."""
    if isinstance(node, list):
        for sub in node:
            problem = strict_problem(sub, path)
            if problem:
                return problem
        return None
    if not isinstance(node, dict):
        return None
    kind = node.get("type")
    if kind == "object" or (isinstance(kind, list) and "object" in kind):
        if node.get("additionalProperties") is not False:
            return (
                f"In context={path!r}, 'additionalProperties' is required to be supplied and to "
                "be false."
            )
        properties = node.get("properties") or {}
        listed = node.get("required")
        required: list[Any] = listed if isinstance(listed, list) else []
        missing = [name for name in properties if name not in required]
        if missing:
            return (
                f"In context={path!r}, 'required' is required to be supplied and to be an array "
                f"including every key in properties. Missing '{missing[0]}'."
            )
        for name, sub in properties.items():
            problem = strict_problem(sub, (*path, "properties", name))
            if problem:
                return problem
    for key in ("items", "anyOf"):
        if key in node:
            problem = strict_problem(node[key], (*path, key))
            if problem:
                return problem
    return None


def read_response_format(body: Any, request: WireRequest) -> None:
    """Set the request's output and schema from ``response_format``, or its error."""
    response_format = body.get("response_format")
    if response_format is None:
        return
    kind = response_format.get("type") if isinstance(response_format, dict) else None
    if kind == "text":
        return
    if kind == "json_object":
        # llama.cpp's and llama-cpp-python's older form: a schema beside JSON mode binds it
        schema = response_format.get("schema")
        request.output, request.schema = "json", schema if isinstance(schema, dict) else None
    elif kind == "json_schema":
        request.output = "schema"
        spec = response_format.get("json_schema")
        if not isinstance(spec, dict):
            request.error = (
                400,
                error_body(
                    "Missing required parameter: 'response_format.json_schema'.",
                    "invalid_request_error",
                    param="response_format.json_schema",
                    code="missing_required_parameter",
                ),
            )
            return
        name = spec.get("name")
        if not isinstance(name, str) or not _SCHEMA_NAME.fullmatch(name):
            request.error = (
                400,
                error_body(
                    "Invalid 'response_format.json_schema.name': string does not match pattern. "
                    "Expected a string that matches the pattern '^[a-zA-Z0-9_-]+$'.",
                    "invalid_request_error",
                    param="response_format.json_schema.name",
                    code="invalid_value",
                ),
            )
            return
        request.schema = schema = spec.get("schema")
        problem = strict_problem(schema) if spec.get("strict") is True else None
        if problem:
            request.error = (
                400,
                error_body(
                    f"Invalid schema for response_format '{name}': {problem}",
                    "invalid_request_error",
                    param="response_format",
                ),
            )
            return
    else:
        request.error = (
            400,
            error_body(
                f"Invalid value: '{kind}'. Supported values are: 'json_object', 'json_schema', "
                "and 'text'.",
                "invalid_request_error",
                param="response_format.type",
                code="invalid_value",
            ),
        )
        return
    request.wants_json = True
