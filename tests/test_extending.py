"""The extension points of CONTRIBUTING.md, each shown by a tiny example that really runs:
a task, a provider and an output format, each one module's worth of code plus its registration."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

import orjson
import pytest
from pydantic import BaseModel

import forge_cli
from forge_cli.core.calls import Completion, PackItem, PackRequest
from forge_cli.core.models import Complexity
from forge_cli.io.sinks import Sink
from forge_cli.providers import registry as providers
from forge_cli.providers.config import ProviderConfig
from forge_cli.tasks import registry as tasks
from forge_cli.tasks.base import TaskBase

# ---------------------------------------------------------------------------------------- a task


class Mood(BaseModel):
    mood: Literal["happy", "angry", "neutral"]


class MoodTask(TaskBase):
    """The whole of a task: its name, its prompt's words, its answer and its offline rule."""

    name = "mood"
    prompt_version = "mood-v1"
    answer_model = Mood
    answer_tokens_per_item = 12

    def sections(self) -> dict[str, str]:
        return {
            "role": "You read customer messages.",
            "instructions": "Say the mood of each message: happy, angry or neutral.",
            "constraints": "Use only those three words.",
            "task": "One answer per message id.",
            "output_format": 'JSON only: {"results": [{"id": "...", "mood": "..."}]}',
        }

    def offline_entry(self, text: str) -> dict[str, Any]:
        lowered = text.lower()
        if "!" in text or "angry" in lowered:
            return {"mood": "angry"}
        return {"mood": "happy" if "thanks" in lowered else "neutral"}


@pytest.fixture
def mood_task():
    tasks.register_task("mood", MoodTask)
    yield
    tasks._registered.pop("mood", None)


def test_a_new_task_is_one_class_and_one_registration(mood_task):
    result = forge_cli.run(
        "mood",
        ["Thanks, works now", "This is the third time it broke!", "Where is my invoice"],
        provider="offline",
        no_cache=True,
    )
    assert [r["mood"] for r in result.results] == ["happy", "angry", "neutral"]
    assert not result.failures
    assert "mood" in tasks.task_names()


def test_the_task_base_checks_answers_for_the_new_task():
    task = MoodTask()
    parsed = task.parse(
        '{"results": [{"id": "a", "mood": "happy"}, {"id": "b", "mood": "sad"}]}', ["a", "b", "c"]
    )
    assert parsed.answers == {"a": {"mood": "happy"}}
    assert parsed.errors["b"].startswith("invalid answer: mood")
    assert parsed.errors["c"] == "missing from the answer"
    request = task.build_request([PackItem("1", "hello")])
    assert orjson.loads(request.messages[1]["content"]) == [{"id": "1", "text": "hello"}]
    assert task.answer_columns == ("mood",)
    assert task.complexity("short") is Complexity.SIMPLE
    assert task.fingerprint() != TaskBase.fingerprint(_Other())


class _Other(MoodTask):
    prompt_version = "mood-v2"


def test_an_unknown_task_name_says_which_exist():
    with pytest.raises(forge_cli.ForgeError, match="known: classify, commits"):
        forge_cli.run("nope", ["x"])


def test_a_task_from_an_entry_point(monkeypatch):
    """Another package's task, found through the forge.tasks entry-point group."""
    from importlib.metadata import EntryPoint

    from forge_cli.core import plugins

    point = EntryPoint(name="mood-ep", value=f"{__name__}:MoodTask", group=plugins.TASKS)
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: [point] if group == plugins.TASKS else []
    )
    result = forge_cli.run("mood-ep", ["thanks!"], provider="offline", no_cache=True)
    assert result.results[0]["mood"] == "angry"


# ------------------------------------------------------------------------------------ a provider


class CannedProvider:
    """The whole of a provider: a name and model, its prices, and ``complete`` for one pack."""

    cacheable = False
    price_in = 0.0
    price_out = 0.0

    def __init__(self, name: str, model: str) -> None:
        self.name, self.model = name, model

    async def complete(self, request: PackRequest) -> Completion:
        results = [{"id": item.id, "mood": "neutral"} for item in request.items]
        content = orjson.dumps({"results": results}).decode()
        return Completion(content=content, tokens_in=1, tokens_out=1, model=self.model)

    async def aclose(self) -> None:
        return None


def canned(config: ProviderConfig, key: str | None) -> CannedProvider:
    return CannedProvider(config.name, config.model or "canned-1")


@pytest.fixture
def canned_provider():
    forge_cli.register_provider("canned", canned, remote=False)
    yield
    providers._registered.pop("canned", None)


def test_a_new_provider_is_one_class_and_one_registration(mood_task, canned_provider):
    result = forge_cli.run("mood", ["hi", "bye"], provider="canned", no_cache=True)
    assert [r["mood"] for r in result.results] == ["neutral", "neutral"]
    assert not result.failures
    assert "canned" in providers.provider_names()


def test_a_provider_from_an_entry_point(mood_task, monkeypatch):
    """Another package's provider, found through the forge.providers entry-point group."""
    from importlib.metadata import EntryPoint

    from forge_cli.core import plugins

    point = EntryPoint(name="canned-ep", value=f"{__name__}:canned", group=plugins.PROVIDERS)
    monkeypatch.setattr(
        plugins, "entry_points", lambda group: [point] if group == plugins.PROVIDERS else []
    )
    # a remote type (a plain factory) takes its URL from the settings, like any [providers.NAME]
    tables = {"mine": ({"type": "canned-ep", "base_url": "http://canned.test/v1"}, "a script")}
    result = forge_cli.run(
        "mood", ["hello"], provider="mine", provider_tables=tables, no_cache=True
    )
    assert result.results[0]["mood"] == "neutral"


# ------------------------------------------------------------------------------- an output format


class TabSink(Sink):
    """The whole of an output format: the file's extension and how one row becomes one line."""

    extension = "tab"

    def __init__(self, path: Path, columns: Any = ()) -> None:
        super().__init__(path, columns)
        self._buffer_line(("\t".join(self.columns) + "\n").encode())

    def _encode(self, row: dict[str, Any]) -> bytes:
        return ("\t".join(str(row.get(c, "")) for c in self.columns) + "\n").encode()


def test_a_new_output_format_is_one_class_and_one_registration(tmp_path, monkeypatch):
    from conftest import forge, write_tickets
    from forge_cli.io.sinks import registry as formats

    monkeypatch.setattr(formats, "_WRITERS", dict(formats._WRITERS))
    forge_cli.register_format("tab", TabSink)
    src = write_tickets(tmp_path / "t.jsonl", ["My invoice is wrong", "Server fan is loud"])
    run = forge("classify", str(src), "--format", "tab", "--no-progress")
    assert run.exit_code == 0, run.stderr
    header, *rows = (tmp_path / "t.results.tab").read_text().splitlines()
    assert header.split("\t")[:3] == ["id", "line", "category"] and len(rows) == 2


def test_the_urgency_hook_schedules_urgent_records_first():
    """Urgency is the task's reading of a record's fields; the engine only orders by it."""
    records = [
        {"id": "calm-1", "text": "How do I change my avatar?", "priority": "low"},
        {"id": "calm-2", "text": "Question about the invoice layout", "priority": "p3"},
        {"id": "fire", "text": "Production database is down", "priority": "P0"},
        {"id": "plain", "text": "Feature idea: dark mode"},
    ]
    result = forge_cli.run(
        "classify", records, provider="offline", concurrency=1, no_cache=True, pack=1
    )
    assert result.results[0]["id"] == "fire"
    assert result.results[0]["input_priority"] == "P0"  # the field itself is passed through


class DuplicatingProvider:
    """A deterministic model at temperature 0 that gives one id two different answers (seen with
    a real 0.5B model): only a re-ask that samples can get a usable answer out of it."""

    cacheable = False
    price_in = 0.0
    price_out = 0.0

    def __init__(self) -> None:
        self.name, self.model = "dup", "dup-1"
        self.temperatures: list[float] = []

    async def complete(self, request: PackRequest) -> Completion:
        self.temperatures.append(request.temperature)
        rows = []
        for item in request.items:
            rows.append({"id": item.id, "mood": "happy"})
            if request.temperature == 0:
                rows.append({"id": item.id, "mood": "angry"})
        content = orjson.dumps({"results": rows}).decode()
        return Completion(content=content, tokens_in=1, tokens_out=1, model=self.model)

    async def aclose(self) -> None:
        return None


def test_a_reask_samples_instead_of_repeating_a_deterministic_bad_answer(mood_task):
    model = DuplicatingProvider()
    forge_cli.register_provider("dup", lambda config, key: model, remote=False)
    try:
        result = forge_cli.run("mood", ["hello"], provider="dup", no_cache=True, pack=1)
    finally:
        providers._registered.pop("dup", None)
    assert [r["mood"] for r in result.results] == ["happy"] and not result.failures
    assert model.temperatures[0] == 0.0 and model.temperatures[1] > 0.0
