import orjson
import pytest

from forge_cli.core.calls import PackItem
from forge_cli.core.errors import InvalidResponseError
from forge_cli.tasks.answers import load_json, strip_reasoning
from forge_cli.tasks.classify.task import TicketTask

MAX_ITEM_CHARS = TicketTask.max_item_chars

IDS = ["1", "2", "3"]


def answer(cat: str = "billing", pri: str = "high", rid: str = "1") -> dict:
    return {"id": rid, "category": cat, "priority": pri, "summary": "Charged twice"}


@pytest.fixture
def task() -> TicketTask:
    return TicketTask()


def test_accepts_results_object_bare_array_and_keyed_object(task):
    rows = [answer(rid=i) for i in IDS]
    for content in (
        orjson.dumps({"results": rows}),
        orjson.dumps(rows),
        orjson.dumps({i: {"category": "billing", "priority": "high", "summary": "x"} for i in IDS}),
        orjson.dumps({"tickets": rows}),
    ):
        parsed = task.parse(content.decode(), IDS)
        assert set(parsed.answers) == set(IDS), content
        assert not parsed.errors


def test_prose_and_fences_around_json(task):
    body = orjson.dumps({"results": [answer(rid=i) for i in IDS]}).decode()
    for content in (f"Sure! Here you go:\n```json\n{body}\n```", f"Result: {body} Hope it helps."):
        assert set(task.parse(content, IDS).answers) == set(IDS)


def test_think_blocks_are_ignored(task):
    content = (
        "<think>Maybe this is hardware_issue... no wait, billing.</think>"
        + orjson.dumps([answer("software_issue", rid="1")]).decode()
    )
    parsed = task.parse(content, ["1"])
    assert parsed.answers["1"]["category"] == "software_issue"
    assert strip_reasoning("<think>unfinished musing") == ""


def test_missing_duplicated_and_invalid_items_are_reported_per_id(task):
    rows = [
        answer(rid="1"),
        answer("hardware_issue", rid="2"),
        answer("software_issue", rid="2"),  # same id, another answer
        answer("not_a_label", rid="3"),
        answer(rid="99"),  # not asked: ignored
    ]
    parsed = task.parse(orjson.dumps(rows).decode(), ["1", "2", "3", "4"])
    assert set(parsed.answers) == {"1"}
    assert "more than once" in parsed.errors["2"]
    assert "not one of the labels" in parsed.errors["3"]
    assert "missing" in parsed.errors["4"]


def test_labels_are_normalised_and_priority_checked(task):
    parsed = task.parse(orjson.dumps([answer("Billing ", "URGENT")]).decode(), ["1"])
    assert parsed.answers["1"]["category"] == "billing"
    assert parsed.answers["1"]["priority"] == "urgent"
    parsed = task.parse(orjson.dumps([answer("billing", "whenever")]).decode(), ["1"])
    assert "priority" in parsed.errors["1"]


def test_not_json_raises_for_the_whole_pack(task):
    with pytest.raises(InvalidResponseError) as exc:
        task.parse('Sure! Here are the results: {"results": [', IDS)
    assert exc.value.raw and "Sure!" in exc.value.raw
    with pytest.raises(InvalidResponseError):
        task.parse("", IDS)
    with pytest.raises(InvalidResponseError):
        load_json("no JSON here at all")
    # a scalar is JSON, but not a container of results
    with pytest.raises(InvalidResponseError):
        task.parse("42", IDS)


def test_custom_labels_reject_default_ones():
    task = TicketTask(labels=("bug", "question", "other"))
    parsed = task.parse(
        orjson.dumps([answer("billing"), answer("bug", rid="2")]).decode(), ["1", "2"]
    )
    assert set(parsed.answers) == {"2"}
    assert '- "bug"' in task.system_prompt and "billing" not in task.system_prompt


def test_request_carries_pack_as_json_array_and_clips_long_texts(task):
    long_text = "x" * (MAX_ITEM_CHARS + 500)
    request = task.build_request([PackItem("1", "short one"), PackItem("2", long_text)])
    pack = orjson.loads(request.messages[-1]["content"])
    assert [p["id"] for p in pack] == ["1", "2"]
    assert pack[0]["text"] == "short one"
    assert "500 more characters cut by forge" in pack[1]["text"]
    assert request.json_mode


def test_offline_answer_parses_as_a_valid_answer(task):
    items = [
        PackItem("1", "I was charged twice for my subscription"),
        PackItem("2", "GPU overheats"),
    ]
    parsed = task.parse(task.offline_answer(items), ["1", "2"])
    assert set(parsed.answers) == {"1", "2"}
    assert parsed.answers["1"]["category"] in task.labels


def test_fingerprint_changes_with_labels():
    assert TicketTask().fingerprint() != TicketTask(labels=("a", "b")).fingerprint()
    assert TicketTask().fingerprint() == TicketTask().fingerprint()
