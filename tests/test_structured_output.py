"""Structured output over real HTTP on 127.0.0.1: what each wire receives, and how forge copes
with a server that lacks it.

Every test talks to ``FakeUpstream``, which records the output mode and the answer schema of each
request as the wire received it, answers like a model bound to that schema, answers a forced tool
through ``tool_use`` (Anthropic), and refuses a schema or a JSON mode with the wire's own 400 when
told it lacks one.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import API_KEY, KEY_ENV, distinct_texts, forge, read_jsonl, remote_args, write_tickets
from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.core.errors import RequestError
from forge_cli.providers.anthropic import AnthropicProvider
from forge_cli.providers.cohere import CohereProvider
from forge_cli.providers.gemini import GeminiProvider
from forge_cli.providers.http import HttpAdapter, make_client
from forge_cli.providers.openai import OpenAICompatibleProvider
from forge_cli.providers.schemas import strict_schema
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.answers import default_classification
from forge_cli.testing.sim.anthropic_wire import AnthropicWire
from forge_cli.testing.sim.openai_wire import OpenAIWire
from forge_cli.testing.sim.server import FakeUpstream
from forge_cli.testing.sim.structured import schema_text

#: labels the simulator does not know: only a schema it honours can make it answer with them
LABELS = ("refund", "outage", "question")
TASK = TicketTask(labels=LABELS)
#: the simulator's own labels: its answers are valid without a schema too
PLAIN = TicketTask()
TEXTS = ("I was charged twice", "The app crashes on start", "Where is my order?")
ITEMS = [PackItem(str(n), text) for n, text in enumerate(TEXTS, 1)]
IDS = [item.id for item in ITEMS]

ADAPTERS: dict[str, tuple[type[HttpAdapter], str]] = {
    "openai": (OpenAICompatibleProvider, "gpt-4o-mini"),
    "anthropic": (AnthropicProvider, "claude-haiku-4-5"),
    "gemini": (GeminiProvider, "gemini-2.5-flash"),
    "cohere": (CohereProvider, "command-a-03-2025"),
}


def adapter(wire: str, server: FakeUpstream, **options: Any) -> HttpAdapter:
    kind, model = ADAPTERS[wire]
    return kind(
        name=wire,
        base_url=server.base_url,
        model=model,
        api_key=API_KEY,
        key_env=KEY_ENV,
        client=make_client(10, 4),
        **options,
    )


def complete(provider: HttpAdapter, *requests: PackRequest) -> list[Completion]:
    """The requests one after another on one provider instance, as one run sends them."""

    async def go() -> list[Completion]:
        try:
            return [await provider.complete(request) for request in requests]
        finally:
            await provider.aclose()

    return asyncio.run(go())


def steps(server: FakeUpstream) -> list[tuple[str, int]]:
    return [(record.output, record.status) for record in server.stats.records]


# -- what each wire receives ---------------------------------------------------------------------


@pytest.mark.parametrize("wire", list(ADAPTERS))
def test_each_wire_receives_the_labels_as_an_enum(wire: str) -> None:
    with FakeUpstream(wire=wire, api_key=API_KEY) as server:
        (done,) = complete(adapter(wire, server), TASK.build_request(ITEMS))
    (record,) = server.stats.records
    assert (record.output, record.status) == ("schema", 200)
    schema = record.answer_schema()
    entry = schema["properties"]["results"]["items"]
    assert entry["properties"]["category"]["enum"] == list(LABELS)
    assert entry["properties"]["priority"]["enum"] == list(TASK.priorities)
    if wire == "openai":  # strict: closed objects, every property required
        assert schema == strict_schema(TASK.answer_schema())
        assert entry["additionalProperties"] is False
    elif wire == "gemini":  # the OpenAPI subset, fields in the task's order
        assert entry["type"] == "OBJECT"
        assert entry["propertyOrdering"] == ["id", "category", "priority", "summary"]
    else:  # Anthropic's tool input schema and Cohere's json_schema take the task's own
        assert schema == TASK.answer_schema()
    # the simulator answers as a model bound to the schema: the user's labels, never its own
    parsed = TASK.parse(done.content, IDS)
    assert parsed.errors == {}
    for item in ITEMS:
        expected = default_classification(item.text, LABELS, TASK.priorities)
        assert parsed.answers[item.id]["category"] == expected["category"]


def test_openai_strict_mode_refuses_a_schema_that_is_not_closed() -> None:
    body: dict[str, Any] = {
        "model": "gpt-4o-mini",
        "messages": [{"role": "user", "content": "hi"}],
        "response_format": {
            "type": "json_schema",
            "json_schema": {"name": "forge_answer", "strict": True, "schema": {}},
        },
    }
    headers = {"authorization": f"Bearer {API_KEY}"}
    answers = []
    with FakeUpstream(api_key=API_KEY) as server:
        for schema in (TASK.answer_schema(), strict_schema(TASK.answer_schema())):
            body["response_format"]["json_schema"]["schema"] = schema
            url = f"{server.base_url}/chat/completions"
            answers.append(httpx.post(url, json=body, headers=headers))
    # the task's own schema leaves its objects open; its strict form is what OpenAI takes
    assert steps(server) == [("schema", 400), ("schema", 200)]
    assert answers[0].json()["error"] == {
        "message": "Invalid schema for response_format 'forge_answer': In context=(), "
        "'additionalProperties' is required to be supplied and to be false.",
        "type": "invalid_request_error",
        "param": "response_format",
        "code": None,
    }


def test_anthropic_answers_through_the_forced_tool() -> None:
    with FakeUpstream(wire="anthropic", api_key=API_KEY) as server:
        provider = adapter("anthropic", server)
        assert isinstance(provider, AnthropicProvider)
        body = provider._body(TASK.build_request(ITEMS))
        (done,) = complete(provider, TASK.build_request(ITEMS))
        raw = httpx.post(
            f"{server.base_url}/messages",
            headers={"x-api-key": API_KEY, "anthropic-version": "2023-06-01"},
            json=body,
        ).json()
    assert body["tools"] == [
        {
            "name": "forge_answer",
            "description": body["tools"][0]["description"],
            "input_schema": TASK.answer_schema(),
        }
    ]
    assert body["tool_choice"] == {
        "type": "tool",
        "name": "forge_answer",
        "disable_parallel_tool_use": True,
    }
    # the wire's answer: one tool_use block and no text, as Anthropic sends a forced call
    assert raw["stop_reason"] == "tool_use"
    (block,) = raw["content"]
    assert block["type"] == "tool_use" and block["name"] == "forge_answer"
    assert block["id"].startswith("toolu_") and isinstance(block["input"]["results"], list)
    # the adapter hands the task the tool's input as JSON text (answers are deterministic)
    assert orjson.loads(done.content) == block["input"]
    assert TASK.parse(done.content, IDS).errors == {}


def test_anthropic_without_a_schema_answers_in_text() -> None:
    request = PLAIN.build_request(ITEMS)
    request.schema = None
    with FakeUpstream(wire="anthropic", api_key=API_KEY) as server:
        (done,) = complete(adapter("anthropic", server), request)
    assert steps(server) == [("text", 200)]
    assert PLAIN.parse(done.content, IDS).answers  # the sim's own labels, from the text block


@pytest.mark.parametrize(
    ("tools", "expected"),
    [
        ({"tool_choice": {"type": "tool", "name": "x"}}, "tool_choice may only be specified"),
        ({"tools": [{"name": "x"}]}, "tools.0.input_schema: Field required"),
        (
            {"tools": [{"name": "x", "input_schema": {"type": "array"}}]},
            "tools.0.input_schema.type: Input should be 'object'",
        ),
        (
            {
                "tools": [{"name": "x", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "tool", "name": "y"},
            },
            "tool_choice.name",
        ),
        ({"tools": [{"name": "x", "input_schema": {"type": "object"}}]}, "text"),
        (
            {
                "tools": [{"name": "x", "input_schema": {"type": "object"}}],
                "tool_choice": {"type": "any"},
            },
            "schema",
        ),
    ],
)
def test_the_anthropic_wire_reads_tools_as_the_api_does(
    tools: dict[str, Any], expected: str
) -> None:
    body = {"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": "hi"}], **tools}
    parsed = AnthropicWire().parse(body, None, {"anthropic-version": "2023-06-01"})
    if parsed.error is None:
        assert parsed.output == expected
        assert parsed.tool == ("x" if expected == "schema" else None)
    else:
        status, error = parsed.error
        assert status == 400 and expected in error["error"]["message"]


# -- a server without structured output ----------------------------------------------------------


@pytest.mark.parametrize(
    ("wire", "refused", "then"),
    [
        ("openai", ["schema"], "json"),
        ("gemini", ["schema"], "json"),
        ("cohere", ["schema"], "json"),
        ("anthropic", ["schema"], "text"),  # no JSON mode on the Messages API
    ],
)
def test_a_refused_schema_costs_one_extra_call_for_the_run(
    wire: str, refused: list[str], then: str
) -> None:
    with FakeUpstream(wire=wire, api_key=API_KEY, json_schema=False) as server:
        provider = adapter(wire, server)
        answers = complete(provider, *(PLAIN.build_request(ITEMS) for _ in range(3)))
    assert steps(server) == [(mode, 400) for mode in refused] + [(then, 200)] * 3
    assert all(PLAIN.parse(done.content, IDS).answers for done in answers)


class LlamaCppPythonWire(OpenAIWire):
    """llama-cpp-python 0.3's server: a json_schema response_format is a 500 carrying pydantic's
    validation error (its body as measured against 0.3.16), and json_object takes a schema."""

    def output_refused(self, output: str, model: str) -> tuple[int, Any]:
        message = (
            "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', "
            "'type'), 'msg': \"Input should be 'text' or 'json_object'\", 'input': 'json_schema', "
            "'ctx': {'expected': \"'text' or 'json_object'\"}}\n\n  File \"llama_cpp/server/app.py\""
            ", line 376, in create_chat_completion\n    POST /v1/chat/completions"
        )
        body = {"message": message, "type": "internal_server_error", "param": None, "code": None}
        return 500, {"error": body}


def test_json_mode_keeps_the_schema_where_the_server_reads_it_there() -> None:
    with FakeUpstream(wire=LlamaCppPythonWire(), json_schema=False) as server:
        provider = adapter("openai", server, schema_in_json_mode=True)
        answers = complete(provider, TASK.build_request(ITEMS), TASK.build_request(ITEMS))
    assert steps(server) == [("schema", 500), ("json", 200), ("json", 200)]
    for record in server.stats.records[1:]:
        assert record.answer_schema() == TASK.answer_schema()  # beside json_object, as it was
    for done in answers:  # bound by it: the user's labels
        assert TASK.parse(done.content, IDS).errors == {}


@pytest.mark.parametrize("wire", ["openai", "gemini", "cohere"])
def test_schema_then_json_mode_then_the_prompt_alone(wire: str) -> None:
    with FakeUpstream(wire=wire, api_key=API_KEY, json_schema=False, json_mode=False) as server:
        answers = complete(
            adapter(wire, server), PLAIN.build_request(ITEMS), PLAIN.build_request(ITEMS)
        )
    assert steps(server) == [("schema", 400), ("json", 400), ("text", 200), ("text", 200)]
    assert all(PLAIN.parse(done.content, IDS).answers for done in answers)


def test_a_400_about_something_else_is_raised_after_one_call() -> None:
    request = TASK.build_request(ITEMS)
    request.temperature = 1.5  # Cohere takes 0..1
    with (
        FakeUpstream(wire="cohere", api_key=API_KEY) as server,
        pytest.raises(RequestError, match="temperature"),
    ):
        complete(adapter("cohere", server), request)
    assert steps(server) == [("schema", 400)]


def test_a_configured_off_switch_never_sends_the_schema() -> None:
    with FakeUpstream(api_key=API_KEY) as server:
        complete(adapter("openai", server, json_schema=False), TASK.build_request(ITEMS))
        complete(adapter("openai", server, json_mode=False), TASK.build_request(ITEMS))
        complete(
            adapter("openai", server, json_schema=False, json_mode=False),
            TASK.build_request(ITEMS),
        )
    assert steps(server) == [("json", 200), ("schema", 200), ("text", 200)]


# -- whole runs ----------------------------------------------------------------------------------


def results_of(src: Path) -> list[dict[str, Any]]:
    return read_jsonl(src.with_name(src.stem + ".results.jsonl"))


def test_classify_steps_down_the_ladder_once_per_run(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(30))
    with FakeUpstream(api_key=API_KEY, json_schema=False, json_mode=False) as server:
        run = forge("classify", str(src), *remote_args(server, "--concurrency", "1"))
    assert run.exit_code == 0, run.stderr
    assert len(results_of(src)) == 30
    seen = steps(server)
    assert seen[:2] == [("schema", 400), ("json", 400)]
    assert len(seen) > 3 and set(seen[2:]) == {("text", 200)}
    assert API_KEY not in run.stdout + run.stderr


def test_classify_through_anthropic_parses_the_tool_answers(tmp_path: Path) -> None:
    texts = distinct_texts(12)
    src = write_tickets(tmp_path / "t.jsonl", texts)
    with FakeUpstream(wire="anthropic", api_key=API_KEY) as server:
        run = forge(
            "classify",
            str(src),
            "--provider",
            "anthropic",
            "--base-url",
            server.base_url,
            "--api-key-env",
            KEY_ENV,
            "--model",
            "claude-haiku-4-5",
            "--labels",
            ",".join(LABELS),
            "--no-progress",
            "--json-summary",
        )
    assert run.exit_code == 0, run.stderr
    results = results_of(src)
    assert len(results) == 12
    by_id = {f"T{n}": text for n, text in enumerate(texts, 1)}
    for row in results:
        expected = default_classification(by_id[row["id"]], LABELS, TASK.priorities)
        assert row["category"] == expected["category"]  # the user's labels, through tool_use
    records = server.stats.records
    assert records and {(r.output, r.status) for r in records} == {("schema", 200)}
    outputs = src.with_name("t.results.jsonl").read_text() + run.stdout + run.stderr
    assert API_KEY not in outputs


def on_llamacpp(server: FakeUpstream, src: Path, *extra: str) -> Any:
    """``forge classify SRC`` through the llamacpp preset at the simulated server."""
    return forge(
        "classify",
        str(src),
        "--provider",
        "llamacpp",
        "--base-url",
        server.base_url,
        "--no-progress",
        "--json-summary",
        *extra,
    )


def test_classify_on_llama_cpp_python_stays_bound_to_the_labels(tmp_path: Path) -> None:
    texts = distinct_texts(9)
    src = write_tickets(tmp_path / "t.jsonl", texts)
    with FakeUpstream(wire=LlamaCppPythonWire(), json_schema=False) as server:
        run = on_llamacpp(server, src, "--labels", ",".join(LABELS), "--concurrency", "1")
    assert run.exit_code == 0, run.stderr
    seen = steps(server)
    # the pack's own schema refused, then the shared one: the mode is what the server lacks
    assert seen[:2] == [("schema", 500)] * 2 and set(seen[2:]) == {("json", 200)}
    for record in server.stats.records[2:]:  # a local preset: each pack's own schema
        bound = record.answer_schema()["properties"]["results"]
        assert [entry["properties"]["id"]["const"] for entry in bound["prefixItems"]] == list(
            record.ids
        )
    by_id = {f"T{n}": text for n, text in enumerate(texts, 1)}
    results = results_of(src)
    assert len(results) == 9
    for row in results:
        expected = default_classification(by_id[row["id"]], LABELS, TASK.priorities)
        assert row["category"] == expected["category"]


def test_a_local_server_gets_a_schema_bound_to_each_pack() -> None:
    """One answer per id, in the pack's order, each id fixed: under a grammar a small model can
    neither skip a ticket, answer one twice nor invent an id."""
    other = [PackItem("9", "Please reset my password")]
    with FakeUpstream(wire=LlamaCppPythonWire(), json_schema=False) as server:
        provider = adapter("openai", server, schema_in_json_mode=True, pack_schema=True)
        answers = complete(provider, TASK.build_request(ITEMS), TASK.build_request(other))
    entry = TASK.answer_schema()["properties"]["results"]["items"]  # type: ignore[index]
    for record, items in zip(server.stats.records[2:], (ITEMS, other), strict=True):
        results = record.answer_schema()["properties"]["results"]
        assert results["minItems"] == results["maxItems"] == len(items)
        assert "items" not in results  # llama.cpp reads "items" before "prefixItems"
        for bound, item in zip(results["prefixItems"], items, strict=True):
            assert bound["properties"]["id"] == {"type": "string", "const": item.id}
            assert {k: v for k, v in bound["properties"].items() if k != "id"} == {
                k: v for k, v in entry["properties"].items() if k != "id"
            }
            assert bound["required"] == entry["required"]
    assert TASK.parse(answers[0].content, IDS).errors == {}
    assert TASK.parse(answers[1].content, ["9"]).errors == {}


def test_a_hosted_api_gets_one_schema_for_the_whole_run(tmp_path: Path) -> None:
    """OpenAI compiles each new schema before answering: one per pack would be paid every call."""
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(12))
    with FakeUpstream(api_key=API_KEY) as server:
        run = forge("classify", str(src), *remote_args(server, "--pack", "4"))
    assert run.exit_code == 0, run.stderr
    assert len({record.schema for record in server.stats.records}) == 1


def test_binding_the_schema_to_packs_is_a_provider_setting(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(8))
    Path("forge.toml").write_text("[providers.llamacpp]\npack_schema = false\n", encoding="utf-8")
    with FakeUpstream(wire=LlamaCppPythonWire(), json_schema=False) as server:
        run = on_llamacpp(server, src, "--pack", "4")
    assert run.exit_code == 0, run.stderr
    sent = {record.schema for record in server.stats.records if record.output == "json"}
    assert sent == {schema_text(PLAIN.answer_schema())}


def test_json_schema_off_in_forge_toml_or_the_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(4))
    Path("forge.toml").write_text("[providers.openai]\njson_schema = false\n", encoding="utf-8")
    with FakeUpstream(api_key=API_KEY) as server:
        run = forge("classify", str(src), *remote_args(server))
        assert run.exit_code == 0, run.stderr
        assert {mode for mode, _ in steps(server)} == {"json"}
        Path("forge.toml").unlink()
        server.reset_stats()
        monkeypatch.setenv("FORGE_OPENAI_JSON_SCHEMA", "false")
        run = forge("classify", str(src), *remote_args(server, "--no-cache"))
        assert run.exit_code == 0, run.stderr
        assert {mode for mode, _ in steps(server)} == {"json"}


def test_providers_list_shows_where_json_schema_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORGE_OPENAI_JSON_SCHEMA", "false")
    data = orjson.loads(
        forge("providers", "list", "--provider", "openai,deepseek,vllm", "--json").stdout
    )
    openai, deepseek, vllm = (member["settings"]["json_schema"] for member in data["providers"])
    assert openai == {"value": False, "source": "env FORGE_OPENAI_JSON_SCHEMA"}
    assert deepseek == {"value": False, "source": "preset deepseek"}  # json_object only
    assert vllm == {"value": True, "source": "preset vllm"}


def test_a_concurrency_given_to_run_wins_over_a_local_preset() -> None:
    """The llamacpp preset's 4 calls in flight, against a one-slot server, would queue three behind
    the first: ``forge_cli.run(..., concurrency=1)`` is the caller's own choice and stays 1."""
    import forge_cli

    texts = distinct_texts(8)
    with FakeUpstream(wire=LlamaCppPythonWire(), json_schema=False, latency=0.05) as server:
        result = forge_cli.run(
            "classify",
            texts,
            provider="llamacpp",
            base_url=server.base_url,
            concurrency=1,
            no_cache=True,
            pack=1,
        )
        assert len(result.results) == 8
        assert server.stats.max_concurrent == 1
        server.reset_stats()
        forge_cli.run(
            "classify", texts, provider="llamacpp", base_url=server.base_url, no_cache=True, pack=1
        )
        assert server.stats.max_concurrent > 1  # the preset's own figure, when nobody chose one


def test_providers_list_shows_which_presets_bind_the_schema_to_packs() -> None:
    data = orjson.loads(
        forge("providers", "list", "--provider", "openai,llamacpp", "--json").stdout
    )
    rows = {member["name"]: member["settings"] for member in data["providers"]}
    assert rows["openai"]["pack_schema"] == {"value": False, "source": "preset openai"}
    assert rows["llamacpp"]["pack_schema"] == {"value": True, "source": "preset llamacpp"}


def test_a_server_refusing_the_pack_schema_gets_the_shared_one_for_the_rest_of_the_run() -> None:
    """A grammar compiler without ``prefixItems`` (an older backend) answers 400: the same pack
    goes again with the run's shared schema, which keeps the labels bound; one extra call a run."""
    with FakeUpstream(api_key=API_KEY) as server:
        server.behaviour.unsupported_keywords = frozenset({"prefixItems"})
        provider = adapter("openai", server, pack_schema=True)
        answers = complete(provider, *(TASK.build_request(ITEMS) for _ in range(3)))
    assert steps(server) == [("schema", 400), ("schema", 200), ("schema", 200), ("schema", 200)]
    shared = schema_text(strict_schema(TASK.answer_schema()))
    assert [r.schema for r in server.stats.records[1:]] == [shared] * 3
    for done in answers:
        assert TASK.parse(done.content, IDS).errors == {}


def test_a_refused_mode_is_not_blamed_on_the_pack_schema() -> None:
    """llama-cpp-python refuses json_schema whatever the schema: after the shared schema is refused
    too, forge steps down to JSON mode and the packs there are still bound to their ids."""
    with FakeUpstream(wire=LlamaCppPythonWire(), json_schema=False) as server:
        provider = adapter("openai", server, schema_in_json_mode=True, pack_schema=True)
        complete(provider, TASK.build_request(ITEMS), TASK.build_request(ITEMS))
    assert steps(server) == [("schema", 500), ("schema", 500), ("json", 200), ("json", 200)]
    for record in server.stats.records[2:]:
        assert "prefixItems" in record.answer_schema()["properties"]["results"]
