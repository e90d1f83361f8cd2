"""Confidence: each label field's probability of its first token, from the provider's logprobs.

The mapping from tokens to fields is a pure function, checked on hand-made token lists; the rest
runs over real HTTP on 127.0.0.1 against the simulator's OpenAI wire, which returns OpenAI's
``choices[0].logprobs.content`` shape when asked (or refuses the parameter, when built to).
"""

from __future__ import annotations

import asyncio
import math
from pathlib import Path
from typing import Any

from conftest import API_KEY, KEY_ENV, distinct_texts, forge, read_jsonl, remote_args, write_tickets
from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.providers.http import make_client
from forge_cli.providers.openai import OpenAICompatibleProvider
from forge_cli.tasks.classify.confidence import field_confidences
from forge_cli.tasks.classify.fields import Field
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.openai_wire import OpenAIWire, token_logprobs
from forge_cli.testing.sim.server import FakeUpstream


def lp(p: float) -> float:
    return math.log(p)


# -- tokens to fields ----------------------------------------------------------------------------


def test_a_value_split_over_several_tokens_takes_its_first_token() -> None:
    tokens = [
        ('{"results":[{"id":"1","category":"', lp(0.99)),
        ("bill", lp(0.8)),
        ("ing", lp(0.999)),
        ('","priority":"', lp(0.99)),
        ("low", lp(0.55)),
        ('"}]}', lp(0.99)),
    ]
    assert field_confidences(tokens, ["1"], ["category", "priority"]) == {
        "1": {"category": 0.8, "priority": 0.55}
    }


def test_a_label_with_spaces_and_a_token_that_starts_before_the_value() -> None:
    # the opening quote and the label's first letters share one token, as real tokenizers do
    tokens = [
        ('{"id": "7", "queue', lp(0.9)),
        ('": "Tech', lp(0.613)),
        ("nical", lp(0.95)),
        (" Support", lp(0.97)),
        ('"}', lp(1.0)),
    ]
    assert field_confidences(tokens, ["7"], ["queue"]) == {"7": {"queue": 0.613}}


def test_a_pack_of_several_records_each_gets_its_own() -> None:
    text = (
        '{"results": [{"id": "1", "type": "Incident"}, {"id": "2", "type": "Request"}, '
        '{"type": "Change", "id": "3"}]}'
    )
    # one character per token, with a probability unique to its place
    tokens = [(c, lp(1 - i / 1000)) for i, c in enumerate(text)]
    found = field_confidences(tokens, ["1", "2", "3"], ["type"])
    for local_id, label in (("1", "Incident"), ("2", "Request"), ("3", "Change")):
        place = text.index(f'"{label}"') + 1
        assert found[local_id] == {"type": round(1 - place / 1000, 3)}


def test_multi_label_takes_its_least_sure_label_and_odd_answers_give_none() -> None:
    tokens = [
        ('{"1": {"tags": ["', lp(0.9)),
        ("vpn", lp(0.7)),
        ('", "', lp(0.9)),
        ("login", lp(0.4)),
        ('"], "note": "x", "n": 3}}', lp(0.9)),
    ]
    # an answer keyed by id, a multi-label list, a field that is not a label, one that is missing
    assert field_confidences(tokens, ["1"], ["tags", "n", "gone"]) == {
        "1": {"tags": 0.4, "n": None, "gone": None}
    }
    assert field_confidences([("not json", lp(0.5))], ["1"], ["tags"]) == {}
    assert field_confidences(None, ["1"], ["tags"]) == {}
    assert field_confidences([("[1, 2", lp(0.5))], ["1"], ["tags"]) == {}


def test_the_task_adds_a_confidence_column_per_label_field() -> None:
    task = TicketTask(fields=[Field("queue", ("A b", "C")), Field("note")])
    assert task.confidence_columns == ("queue_confidence",)
    assert task.build_request([PackItem("1", "x")]).confidence
    content = '{"results": [{"id": "1", "queue": "a B", "note": "hi"}]}'
    tokens = [(c, lp(0.5 if c == "a" else 0.9)) for c in content]
    with_probs = task.parse(content, ["1"], tokens)
    assert with_probs.answers["1"] == {"queue": "A b", "note": "hi", "queue_confidence": 0.5}
    without = task.parse(content, ["1"])
    assert without.answers["1"]["queue_confidence"] is None


# -- the OpenAI-compatible wire ------------------------------------------------------------------


def provider(server: FakeUpstream) -> OpenAICompatibleProvider:
    return OpenAICompatibleProvider(
        name="openai",
        base_url=server.base_url,
        model="gpt-4o-mini",
        api_key=API_KEY,
        key_env=KEY_ENV,
        client=make_client(10, 2),
    )


def complete(adapter: OpenAICompatibleProvider, *requests: PackRequest) -> list[Completion]:
    async def go() -> list[Completion]:
        try:
            return [await adapter.complete(request) for request in requests]
        finally:
            await adapter.aclose()

    return asyncio.run(go())


TASK = TicketTask()
ITEMS = [PackItem("1", "I was charged twice"), PackItem("2", "The app crashes on start")]


def test_the_adapter_asks_for_logprobs_only_when_confidence_is_wanted() -> None:
    with FakeUpstream(api_key=API_KEY) as server:
        adapter = provider(server)
        wanted = TASK.build_request(ITEMS)
        assert (
            adapter.body(wanted)["logprobs"] is True and adapter.body(wanted)["top_logprobs"] == 1
        )
        plain = PackRequest(messages=wanted.messages, items=ITEMS)
        assert "logprobs" not in adapter.body(plain)
        with_probs, without = complete(adapter, wanted, plain)
    assert without.logprobs is None
    assert with_probs.logprobs is not None
    # the simulator's tokens spell the answer, with the probabilities derived from its seed
    assert "".join(t for t, _ in with_probs.logprobs) == with_probs.content
    expected = token_logprobs(with_probs.content, OpenAIWire.seeded(0).fingerprint)
    assert list(with_probs.logprobs) == [(e["token"], e["logprob"]) for e in expected]
    parsed = TASK.parse(with_probs.content, ["1", "2"], with_probs.logprobs)
    for row in parsed.answers.values():
        assert 0.4 <= row["category_confidence"] <= 1 and 0.4 <= row["priority_confidence"] <= 1


def test_a_server_that_refuses_logprobs_costs_one_call_then_none() -> None:
    with FakeUpstream(api_key=API_KEY, wire=OpenAIWire(logprobs=False)) as server:
        adapter = provider(server)
        done = complete(adapter, *(TASK.build_request(ITEMS) for _ in range(3)))
    assert [r.status for r in server.stats.records] == [400, 200, 200, 200]
    assert adapter.logprobs_refused
    assert all(c.logprobs is None for c in done)


# -- whole runs ----------------------------------------------------------------------------------


def results_of(src: Path) -> list[dict[str, Any]]:
    return read_jsonl(src.with_name(src.stem + ".results.jsonl"))


def test_classify_writes_a_confidence_column_per_label_field(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(12))
    with FakeUpstream(api_key=API_KEY) as server:
        run = forge("classify", str(src), *remote_args(server, "--format", "csv"))
    assert run.exit_code == 0, run.stderr
    header = src.with_name("t.results.csv").read_text().splitlines()[0].split(",")
    assert header[2:7] == [
        "category",
        "priority",
        "summary",
        "category_confidence",
        "priority_confidence",
    ]
    first = src.with_name("t.results.csv").read_text()
    # the same answers, from the cache: they keep the confidence they were stored with
    with FakeUpstream(api_key=API_KEY) as server:
        again = forge("classify", str(src), *remote_args(server, "--format", "csv"))
    assert again.exit_code == 0, again.stderr
    assert server.stats.requests == 0
    cached = src.with_name("t.results.csv").read_text()
    column = header.index("category_confidence")
    values = [line.split(",")[column] for line in first.splitlines()[1:]]
    assert values == [line.split(",")[column] for line in cached.splitlines()[1:]]
    assert all(0.4 <= float(v) <= 1 for v in values)


def test_classify_jsonl_confidences_are_numbers(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(6))
    with FakeUpstream(api_key=API_KEY) as server:
        run = forge("classify", str(src), *remote_args(server))
    assert run.exit_code == 0, run.stderr
    rows = results_of(src)
    assert len(rows) == 6
    for row in rows:
        assert isinstance(row["category_confidence"], float)
        assert isinstance(row["priority_confidence"], float)
        assert "summary_confidence" not in row


def test_classify_on_a_server_without_logprobs_gives_null(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(20))
    with FakeUpstream(api_key=API_KEY, wire=OpenAIWire(logprobs=False)) as server:
        run = forge("classify", str(src), *remote_args(server, "--concurrency", "1"))
    assert run.exit_code == 0, run.stderr
    statuses = [r.status for r in server.stats.records]
    assert statuses[0] == 400 and set(statuses[1:]) == {200}
    rows = results_of(src)
    assert len(rows) == 20
    assert all(r["category_confidence"] is None for r in rows)


def test_the_offline_provider_gives_null(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(5))
    run = forge("classify", str(src), "--no-progress")
    assert run.exit_code == 0, run.stderr
    rows = results_of(src)
    assert len(rows) == 5
    assert all(r["category_confidence"] is None and r["priority_confidence"] is None for r in rows)


def test_logprobs_are_off_where_the_preset_says_they_are_slow_and_a_table_can_turn_them_on():
    """llama-cpp-python computes them in Python (about 0.15 s per answer token): the llamacpp
    preset does not ask; ``logprobs = true`` in its [providers.NAME] table does."""
    from forge_cli.providers.registry import build_provider
    from forge_cli.providers.settings import resolve_chain

    (local,) = resolve_chain("llamacpp", environ={})
    assert not local.logprobs and build_provider(local).logprobs_refused  # type: ignore[attr-defined]
    tables = {"mine": ({"type": "llamacpp", "logprobs": True}, "forge.toml")}
    (asked,) = resolve_chain("mine", tables=tables, environ={})
    assert asked.logprobs and not build_provider(asked).logprobs_refused  # type: ignore[attr-defined]
    (hosted,) = resolve_chain("openai", environ={"OPENAI_API_KEY": "sk-test"})
    assert hosted.logprobs


# -- the Gemini wire -----------------------------------------------------------------------------


def gemini_args(server: FakeUpstream, *extra: str) -> list[str]:
    args = remote_args(server, *extra)
    args[args.index("openai")] = "gemini"
    args[args.index("gpt-4o-mini")] = "gemini-2.0-flash"
    return args


def test_gemini_answers_carry_confidence_from_its_chosen_candidates(tmp_path: Path) -> None:
    from forge_cli.testing.sim.gemini_wire import GeminiWire

    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(8))
    wire = GeminiWire()
    with FakeUpstream(api_key=API_KEY, wire=wire) as server:
        run = forge("classify", str(src), *gemini_args(server))
        config = wire.last_generation_config
    assert run.exit_code == 0, run.stderr
    assert config is not None and config["responseLogprobs"] is True
    rows = results_of(src)
    assert len(rows) == 8
    for row in rows:
        assert 0.4 <= row["category_confidence"] <= 1 and 0.4 <= row["priority_confidence"] <= 1


def test_a_gemini_model_without_logprobs_costs_one_call_then_none(tmp_path: Path) -> None:
    from forge_cli.testing.sim.gemini_wire import GeminiWire

    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(12))
    wire = GeminiWire(logprobs=False)  # gemini-2.5-*: "Logprobs is not enabled for models/..."
    with FakeUpstream(api_key=API_KEY, wire=wire) as server:
        run = forge("classify", str(src), *gemini_args(server, "--concurrency", "1"))
        config = wire.last_generation_config
    assert run.exit_code == 0, run.stderr
    statuses = [r.status for r in server.stats.records]
    assert statuses[0] == 400 and set(statuses[1:]) == {200}
    assert config is not None and "responseLogprobs" not in config
    rows = results_of(src)
    assert len(rows) == 12 and all(r["category_confidence"] is None for r in rows)


def test_gemini_logprobs_shapes() -> None:
    from forge_cli.providers.logprobs import gemini_logprobs

    chosen = [
        {"token": '{"', "tokenId": 1, "logProbability": -0.1},
        {"token": "a", "logProbability": 0},
    ]
    assert gemini_logprobs({"logprobsResult": {"chosenCandidates": chosen}}) == (
        ('{"', -0.1),
        ("a", 0.0),
    )
    assert gemini_logprobs({"content": {}}) is None  # a proxy that drops the field
    assert gemini_logprobs({"logprobsResult": {"chosenCandidates": [{"token": 1}]}}) is None
    assert gemini_logprobs({"logprobsResult": {"chosenCandidates": []}}) is None
