"""The answer schema in each provider's dialect, and the ladder of output modes, as pure code.

``strict_schema`` must produce what OpenAI's strict mode accepts (checked with the simulator's own
reading of OpenAI's rule, so the two cannot drift apart unnoticed) without ever touching the task's
schema; ``openapi_schema`` what Gemini's ``responseSchema`` takes; ``OutputLadder`` steps down only
when a server refuses the output mode itself.
"""

from __future__ import annotations

import copy
import re
from typing import Any

import pytest

from forge_cli.core.calls import PackItem, PackRequest
from forge_cli.core.errors import RateLimitError, RequestError, UpstreamError
from forge_cli.providers.schemas import openapi_schema, strict_schema
from forge_cli.providers.structured import Output, OutputLadder
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.openai_format import strict_problem

TASK_SCHEMA = TicketTask(labels=("Billing and Payments", "Técnico", "other")).answer_schema()

OPEN_SCHEMAS = [
    {"type": "object"},
    {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": True},
    {"type": "object", "properties": {}, "additionalProperties": {"type": "string"}},
    {
        "type": "object",
        "properties": {"tags": {"type": "object", "patternProperties": {".*": {}}}},
    },
    {
        "type": "object",
        "properties": {"results": {"type": "array", "items": {"type": "object"}}},
    },
]


# -- OpenAI's strict form ------------------------------------------------------------------------


def test_the_task_schema_becomes_strict_and_stays_untouched() -> None:
    before = copy.deepcopy(TASK_SCHEMA)
    strict = strict_schema(TASK_SCHEMA)
    assert before == TASK_SCHEMA  # every request of a run shares the task's schema
    assert strict is not None and strict_problem(strict) is None
    assert strict["additionalProperties"] is False and strict["required"] == ["results"]
    entry = strict["properties"]["results"]["items"]
    assert entry["additionalProperties"] is False
    assert entry["required"] == ["id", "category", "priority", "summary"]
    # the labels stay an enum, exactly as the user wrote them
    assert entry["properties"]["category"] == {
        "type": "string",
        "enum": ["Billing and Payments", "Técnico", "other"],
    }
    # the enum is the converted schema's own list, not the task's
    strict["properties"]["results"]["items"]["properties"]["category"]["enum"].append("x")
    assert before == TASK_SCHEMA


def test_an_optional_property_becomes_required_with_its_own_type() -> None:
    schema = {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": ["a", "b"]}, "note": {"type": "string"}},
        "required": ["label"],
    }
    strict = strict_schema(schema)
    assert strict == {
        "type": "object",
        "properties": {"label": {"type": "string", "enum": ["a", "b"]}, "note": {"type": "string"}},
        "required": ["label", "note"],
        "additionalProperties": False,
    }
    assert schema["required"] == ["label"]


def test_objects_are_closed_wherever_they_nest() -> None:
    schema = {
        "type": "object",
        "properties": {
            "matrix": {"type": "array", "items": {"type": "array", "items": {"$ref": "#/$defs/c"}}},
            "either": {"anyOf": [{"type": "object", "properties": {"x": {}}}, {"type": "null"}]},
            "maybe": {"type": ["object", "null"], "properties": {"y": {"type": "integer"}}},
        },
        "$defs": {"c": {"type": "object", "properties": {"v": {"type": "number"}}}},
    }
    strict = strict_schema(schema)
    assert strict is not None and strict_problem(strict) is None
    assert strict["$defs"]["c"] == {
        "type": "object",
        "properties": {"v": {"type": "number"}},
        "additionalProperties": False,
        "required": ["v"],
    }
    assert strict["properties"]["either"]["anyOf"][0]["additionalProperties"] is False
    assert strict["properties"]["either"]["anyOf"][1] == {"type": "null"}
    assert strict["properties"]["maybe"]["required"] == ["y"]


def test_keyword_names_and_data_are_not_mistaken_for_schemas() -> None:
    schema = {
        "type": "object",
        "properties": {
            "items": {"type": "string"},  # a field called "items", not the keyword
            "kind": {"enum": [{"type": "object"}], "default": {"type": "object"}},
        },
    }
    strict = strict_schema(schema)
    assert strict is not None
    assert strict["properties"]["items"] == {"type": "string"}
    assert strict["properties"]["kind"] == {
        "enum": [{"type": "object"}],
        "default": {"type": "object"},
    }


@pytest.mark.parametrize("schema", OPEN_SCHEMAS)
def test_a_schema_that_leaves_an_object_open_has_no_strict_form(schema: dict[str, Any]) -> None:
    before = copy.deepcopy(schema)
    assert strict_schema(schema) is None
    assert schema == before


# -- Gemini's OpenAPI subset ---------------------------------------------------------------------


def test_gemini_gets_its_type_names_nullable_and_the_task_order() -> None:
    schema = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "summary": {"type": ["string", "null"], "description": "one line"},
            "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
        },
        "required": ["id"],
        "additionalProperties": False,
        "$comment": "not Gemini's",
    }
    assert openapi_schema(schema) == {
        "type": "OBJECT",
        "properties": {
            "id": {"type": "STRING"},
            "summary": {"type": "STRING", "nullable": True, "description": "one line"},
            "tags": {"type": "ARRAY", "items": {"type": "STRING"}, "minItems": 1, "maxItems": 3},
        },
        "propertyOrdering": ["id", "summary", "tags"],
        "required": ["id"],
    }


def test_gemini_keeps_the_answer_fields_in_the_order_the_task_wrote_them() -> None:
    before = copy.deepcopy(TASK_SCHEMA)
    entry = openapi_schema(TASK_SCHEMA)["properties"]["results"]["items"]
    assert entry["propertyOrdering"] == ["id", "category", "priority", "summary"]
    assert entry["properties"]["category"]["enum"] == ["Billing and Payments", "Técnico", "other"]
    assert before == TASK_SCHEMA


# -- the ladder ----------------------------------------------------------------------------------

REFUSAL = re.compile(r"response_format|schema", re.IGNORECASE)


def request(*, schema: bool = True, json_mode: bool = True) -> PackRequest:
    return PackRequest(
        messages=[{"role": "user", "content": "[]"}],
        items=[PackItem("1", "x")],
        json_mode=json_mode,
        schema=TASK_SCHEMA if schema else None,
    )


def refusal(text: str = "'response_format' of type 'json_schema' is not supported") -> RequestError:
    return RequestError(f"request rejected ({text})", provider="p", status=400)


@pytest.mark.parametrize(
    ("allowed", "schema", "json_mode", "expected"),
    [
        ((True, True), True, True, Output.SCHEMA),
        ((True, True), False, True, Output.JSON),
        ((True, True), True, False, Output.TEXT),
        ((False, True), True, True, Output.JSON),
        ((False, False), True, True, Output.TEXT),
        # LM Studio: a schema, but no json_object
        ((True, False), True, True, Output.SCHEMA),
        ((True, False), False, True, Output.TEXT),
    ],
)
def test_the_richest_allowed_mode_the_request_can_use(
    allowed: tuple[bool, bool], schema: bool, json_mode: bool, expected: Output
) -> None:
    ladder = OutputLadder(schema=allowed[0], json=allowed[1], refusal=REFUSAL)
    assert ladder.choose(request(schema=schema, json_mode=json_mode)) is expected


def test_a_refusal_steps_down_once_and_is_remembered() -> None:
    ladder = OutputLadder(schema=True, json=True, refusal=REFUSAL)
    # two requests in flight both hear the refusal: both step down to the same mode
    assert ladder.refused(Output.SCHEMA, refusal()) is Output.JSON
    assert ladder.refused(Output.SCHEMA, refusal()) is Output.JSON
    assert ladder.choose(request()) is Output.JSON
    assert ladder.refused(Output.JSON, refusal("response_format json_object")) is Output.TEXT
    assert ladder.choose(request()) is Output.TEXT
    assert ladder.refused(Output.TEXT, refusal()) is None


def test_a_refused_json_mode_leaves_the_schema_alone() -> None:
    # LM Studio refuses json_object ("must be 'json_schema' or 'text'") and takes a schema
    ladder = OutputLadder(schema=True, json=True, refusal=REFUSAL)
    lower = ladder.refused(Output.JSON, refusal("'response_format.type' must be 'json_schema'"))
    assert lower is Output.TEXT
    assert ladder.choose(request(schema=False)) is Output.TEXT
    assert ladder.choose(request()) is Output.SCHEMA


def test_other_errors_are_not_refusals() -> None:
    ladder = OutputLadder(schema=True, json=True, refusal=REFUSAL)
    too_long = RequestError("request rejected (maximum context length is 4096 tokens)", status=400)
    assert ladder.refused(Output.SCHEMA, too_long) is None
    limited = RateLimitError("rate limited (response_format)", status=429)
    assert ladder.refused(Output.SCHEMA, limited) is None
    assert ladder.choose(request()) is Output.SCHEMA


def test_a_500_that_names_the_output_is_a_refusal_too() -> None:
    # llama-cpp-python's server answers an unknown response_format type with a 500
    ladder = OutputLadder(schema=True, json=True, refusal=REFUSAL)
    validation = UpstreamError(
        "server error (1 validation error: {'loc': ('body', 'response_format', 'type')})",
        status=500,
    )
    assert ladder.refused(Output.SCHEMA, validation) is Output.JSON
    sick = UpstreamError("server error (The server had an error)", status=500)
    assert ladder.refused(Output.JSON, sick) is None
    overloaded = UpstreamError("server error (response_format overloaded)", status=503)
    assert ladder.refused(Output.JSON, overloaded) is None


def test_a_pack_schema_has_strict_form_with_its_ids_kept() -> None:
    """vLLM reads the strict form a local preset sends: every answer closed, every id still fixed."""
    task = TicketTask(labels=("Billing and Payments", "other"))
    shared = copy.deepcopy(task.answer_schema())
    bound = task.pack_schema(["kx7", "m2p"])
    assert bound is not None
    strict = strict_schema(bound)
    assert strict is not None and strict_problem(strict) is None
    results = strict["properties"]["results"]
    assert [e["properties"]["id"]["const"] for e in results["prefixItems"]] == ["kx7", "m2p"]
    assert all(e["additionalProperties"] is False for e in results["prefixItems"])
    assert task.answer_schema() == shared  # the schema every pack shares is left as it was


def test_no_pack_schema_without_a_list_of_answers_by_id() -> None:
    class Plain(TicketTask):
        def answer_schema(self) -> dict[str, object]:
            return {"type": "object", "properties": {"answer": {"type": "string"}}}

    assert Plain().pack_schema(["a"]) is None
