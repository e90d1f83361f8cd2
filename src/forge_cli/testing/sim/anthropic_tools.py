"""Tools on Anthropic's Messages API, as the simulated upstream reads and answers them.

The Messages API has no JSON mode; structured output is a tool the model is made to call: the
request defines ``tools [{name, description?, input_schema}]`` (``input_schema`` a JSON Schema whose
root is an object) and forces one with ``tool_choice {"type": "tool", "name"}`` (or ``"any"``). The
answer is then a ``tool_use`` block ``{type, id ("toolu_01..."), name, input}`` whose ``input`` is
the answer itself, with ``stop_reason`` "tool_use" and no text block before it. A forced call cut
off by ``max_tokens`` ends with ``stop_reason`` "max_tokens"; the simulator sends it with an empty
``input``, which is how an answer it cannot write as a whole object (a "malformed" or "empty" fault)
reaches the client.

Documented messages used: "tool_choice may only be specified while providing tools."; the
field-path messages for a malformed tool ("tools.0.name: Field required", ...) follow the API's
validation style, and the one for a forced tool that is not defined is the simulator's own.
"""

from __future__ import annotations

import json
import secrets
import string
from dataclasses import dataclass
from typing import Any

__all__ = ["ForcedTool", "read_tools", "tool_use"]

_ID_ALPHABET = string.ascii_letters + string.digits


@dataclass(frozen=True, slots=True)
class ForcedTool:
    """What the request's tools say: the tool the model must call (None: none is forced), or why
    the request is refused."""

    name: str | None = None
    input_schema: Any = None
    problem: str | None = None


def read_tools(body: dict[str, Any]) -> ForcedTool:
    """The forced tool of a Messages API body, or the 400 message for its tools."""
    tools = body.get("tools")
    choice = body.get("tool_choice")
    if tools is None:
        if choice is not None:
            return ForcedTool(problem="tool_choice may only be specified while providing tools.")
        return ForcedTool()
    if not isinstance(tools, list):
        return ForcedTool(problem="tools: Input should be a valid list")
    schemas: dict[str, Any] = {}
    for index, tool in enumerate(tools):
        if not isinstance(tool, dict):
            return ForcedTool(problem=f"tools.{index}: Input should be a valid dictionary")
        name = tool.get("name")
        if not isinstance(name, str) or not name:
            return ForcedTool(problem=f"tools.{index}.name: Field required")
        schema = tool.get("input_schema")
        if not isinstance(schema, dict):
            return ForcedTool(problem=f"tools.{index}.input_schema: Field required")
        if schema.get("type") != "object":
            return ForcedTool(problem=f"tools.{index}.input_schema.type: Input should be 'object'")
        schemas[name] = schema
    if not isinstance(choice, dict) or choice.get("type") not in ("tool", "any"):
        return ForcedTool()  # "auto" or "none": the model may answer in text
    # "any": the model must call some tool; with forge's one tool, that one
    name = next(iter(schemas), None) if choice.get("type") == "any" else choice.get("name")
    if not isinstance(name, str) or name not in schemas:
        return ForcedTool(problem=f"tool_choice.name: no tool named {name!r} in tools")
    return ForcedTool(name=name, input_schema=schemas[name])


def tool_use(name: str, content: str) -> tuple[dict[str, Any], str]:
    """The ``tool_use`` block carrying ``content`` (the answer's JSON) and the stop reason.

    Reasoning a fault put before the JSON is dropped: a forced call writes no text. Content that is
    not a whole JSON object becomes an empty ``input`` with ``stop_reason`` "max_tokens".
    """
    text = content.rsplit("</think>", 1)[-1].strip()
    try:
        answer = json.loads(text)
    except ValueError:
        answer = None
    whole = isinstance(answer, dict)
    block = {
        "type": "tool_use",
        "id": "toolu_01" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(22)),
        "name": name,
        "input": answer if whole else {},
    }
    return block, "tool_use" if whole else "max_tokens"
