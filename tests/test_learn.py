"""forge train, the local model as a provider, and the cascade in front of a paid chain.

The labelled tickets here are generated: a few words that signal each label, mixed into neutral
ones, so a model can learn them and some tickets stay ambiguous (the cascade must pass those on).
"""

from __future__ import annotations

import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import orjson
import pytest

from conftest import API_KEY, KEY_ENV, read_jsonl
from forge_cli.core.errors import UsageError
from forge_cli.learn.modelfile import load_model, save_model
from forge_cli.learn.training import TrainingError, train_model
from forge_cli.testing.sim.server import FakeUpstream

SIGNALS = {
    "billing": ["invoice", "refund", "charged twice", "payment", "receipt"],
    "hardware_issue": ["laptop", "screen cracked", "keyboard", "battery", "printer"],
    "software_issue": ["crash", "error message", "update failed", "login loop", "bug"],
}
URGENCY = {"high": ["urgent", "asap", "blocked"], "low": ["whenever", "no rush", "minor"]}
NEUTRAL = [
    "please",
    "help",
    "me",
    "with",
    "this",
    "thing",
    "today",
    "thanks",
    "team",
    "account",
    "order",
    "device",
    "service",
]


def ticket(rng: random.Random, category: str, priority: str, clear: bool) -> str:
    words = rng.sample(NEUTRAL, 6)
    words += rng.sample(SIGNALS[category], 2 if clear else 1)
    if not clear:  # a word of another category: the model should be less sure
        other = rng.choice([c for c in SIGNALS if c != category])
        words.append(rng.choice(SIGNALS[other]))
    words.append(rng.choice(URGENCY[priority]))
    rng.shuffle(words)
    return " ".join(words)


def labelled(n: int, seed: int = 1) -> list[dict[str, str]]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        category, priority = rng.choice(list(SIGNALS)), rng.choice(list(URGENCY))
        text = ticket(rng, category, priority, clear=i % 3 != 0)
        rows.append({"id": f"T{i}", "text": text, "category": category, "priority": priority})
    return rows


def write_jsonl(path: Path, rows: list[dict[str, str]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in rows))
    return path


def forge_proc(cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forge_cli", *args],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


@pytest.fixture(scope="module")
def model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("model")
    rows = labelled(300)
    texts = [r["text"] for r in rows]
    model = train_model(texts, {f: [r[f] for r in rows] for f in ("category", "priority")})
    path = folder / "tickets.model.json"
    save_model(model, path)
    return path


# ---------------------------------------------------------------------------- the model itself


def test_a_model_learns_the_labels_and_knows_how_sure_it_is(model_file):
    model = load_model(model_file)
    test = labelled(200, seed=2)
    prediction = model.predict([r["text"] for r in test])
    for name in ("category", "priority"):
        gold = np.array([r[name] for r in test])
        right = np.array(prediction.labels[name]) == gold
        assert right.mean() > 0.8
        f = model.field(name)
        assert f is not None and f.cv_accuracy > f.majority
        # calibrated: the mean confidence is close to the accuracy it claims
        assert abs(float(prediction.confidence[name].mean()) - float(right.mean())) < 0.15


def test_saving_and_loading_round_trips_and_holds_no_pickle(model_file, tmp_path):
    model = load_model(model_file)
    again = tmp_path / "again.model.json"
    save_model(model, again)
    texts = [r["text"] for r in labelled(50, seed=3)]
    first, second = model.predict(texts), load_model(again).predict(texts)
    assert first.labels == second.labels
    for name in first.confidence:
        assert np.allclose(first.confidence[name], second.confidence[name])
    doc = orjson.loads(model_file.read_bytes())
    assert doc["format"] == "forge-local-model" and doc["trained_on"] == 300
    assert [f["name"] for f in doc["fields"]] == ["category", "priority"]
    assert doc["created"] and doc["fields"][0]["cv_accuracy"] > 0.5


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"\x80\x04\x95 not json", r"not a forge model \(not JSON\)"),
        (b'{"format": "something-else"}', "not a forge model"),
        (b'{"format": "forge-local-model", "version": 99}', "format version 99"),
        (b'{"format": "forge-local-model", "version": 1, "terms": []}', "damaged model file"),
    ],
)
def test_a_damaged_or_foreign_file_is_one_clear_line(tmp_path, content, reason):
    path = tmp_path / "bad.model.json"
    path.write_bytes(content)
    with pytest.raises(UsageError, match=reason) as caught:
        load_model(path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)


def test_weights_that_do_not_match_the_vocabulary_are_refused(model_file, tmp_path):
    doc = orjson.loads(model_file.read_bytes())
    doc["terms"] = doc["terms"][:-1]
    path = tmp_path / "cut.model.json"
    path.write_bytes(orjson.dumps(doc))
    with pytest.raises(UsageError, match="damaged model file"):
        load_model(path)


def test_a_field_with_one_label_cannot_be_trained():
    with pytest.raises(TrainingError, match="same label"):
        train_model(["a b", "c d", "e f", "g h"], {"queue": ["x", "x", "x", "x"]})


# ---------------------------------------------------------------------------- the commands


def test_train_then_classify_with_the_local_model(tmp_path):
    write_jsonl(tmp_path / "history.jsonl", labelled(240))
    trained = forge_proc(tmp_path, "train", "history.jsonl", "--json-summary", "--no-progress")
    assert trained.returncode == 0, trained.stderr
    summary = orjson.loads(trained.stdout)
    assert summary["records"] == 240 and set(summary["fields"]) == {"category", "priority"}
    assert (tmp_path / "history.model.json").exists()

    write_jsonl(
        tmp_path / "new.jsonl", [{"id": r["id"], "text": r["text"]} for r in labelled(60, 5)]
    )
    run = forge_proc(
        tmp_path, "classify", "new.jsonl", "--provider", "local:history.model.json",
        "--no-progress", "--json-summary",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    rows = read_jsonl(tmp_path / "new.results.jsonl")
    assert len(rows) == 60 and not (tmp_path / "new.failures.jsonl").read_text()
    assert {r["provider"] for r in rows} == {"local"}
    assert all(
        0 < r["category_confidence"] <= 1 and 0 < r["priority_confidence"] <= 1 for r in rows
    )
    assert orjson.loads(run.stdout.splitlines()[-1])["cost_usd"] == 0


def test_a_model_for_other_labels_is_refused(tmp_path, model_file):
    write_jsonl(tmp_path / "new.jsonl", [{"id": "1", "text": "my invoice is wrong"}])
    run = forge_proc(
        tmp_path, "classify", "new.jsonl", "--provider", f"local:{model_file}",
        "--field", "category=sales,support",
    )  # fmt: skip
    assert run.returncode == 2
    assert "trained for other labels" in run.stderr and "Traceback" not in run.stderr
    run = forge_proc(
        tmp_path, "classify", "new.jsonl", "--cascade", str(model_file), "--field", "queue=a,b"
    )
    assert run.returncode == 2 and "has no field 'queue'" in run.stderr


def test_train_says_which_columns_it_could_learn(tmp_path):
    (tmp_path / "h.csv").write_text("id,text,team\n1,printer broke,ops\n2,refund please,money\n")
    run = forge_proc(tmp_path, "train", "h.csv")
    assert run.returncode == 2
    assert "--field NAME" in run.stderr and "team" in run.stderr
    run = forge_proc(tmp_path, "train", "h.csv", "--field", "team", "--folds", "2")
    assert run.returncode == 0, run.stderr


# ---------------------------------------------------------------------------- the cascade


def cascade_run(
    tmp_path: Path, server: FakeUpstream, model: Path, threshold: float, *extra: str
) -> subprocess.CompletedProcess[str]:
    rows = [{"id": r["id"], "text": r["text"]} for r in labelled(90, seed=7)]
    write_jsonl(tmp_path / "t.jsonl", rows)
    return forge_proc(
        tmp_path, "classify", "t.jsonl", "--cascade", str(model),
        "--cascade-threshold", str(threshold), "--provider", "openai",
        "--base-url", server.base_url, "--api-key-env", KEY_ENV, "--retries", "0",
        "--backoff", "0.01", "--no-progress", "--json-summary", "--no-cache", *extra,
    )  # fmt: skip


@pytest.mark.parametrize("threshold", [0.5, 0.9])
def test_the_cascade_answers_what_it_is_sure_of_and_sends_the_rest(
    tmp_path, model_file, threshold, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    with FakeUpstream(api_key=API_KEY) as server:
        run = cascade_run(tmp_path, server, model_file, threshold)
        sent = server.stats.items_answered
    assert run.returncode == 0, run.stderr
    summary = orjson.loads(run.stdout.splitlines()[-1])
    rows = read_jsonl(tmp_path / "t.results.jsonl")
    local = [r for r in rows if r["provider"] == "local"]
    assert len(rows) == 90
    assert summary["cascade"]["local"] == len(local) and summary["cascade"]["chain"] == 90 - len(
        local
    )
    assert sent == 90 - len(local)
    for r in local:
        assert r["category_confidence"] >= threshold and r["priority_confidence"] >= threshold
    if threshold == 0.5:
        assert len(local) > 45  # the clear tickets
    else:
        assert 0 < len(local) < 90


def test_a_hint_shows_the_chain_the_models_guesses_for_what_it_passes_on(
    tmp_path, model_file, monkeypatch
):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    with FakeUpstream(api_key=API_KEY) as server:
        run = cascade_run(tmp_path, server, model_file, 0.9, "--cascade-hint")
        sent = [text for record in server.stats.records for text in record.texts]
    assert run.returncode == 0, run.stderr
    rows = read_jsonl(tmp_path / "t.results.jsonl")
    chain = [r for r in rows if r["provider"] != "local"]
    assert chain and len(sent) == len(chain)
    for text in sent:
        assert "classifier trained on this team's labelled tickets guesses category: " in text
        assert "priority: " in text and "% sure" in text


def test_nothing_is_lost_when_the_paid_stage_fails(tmp_path, model_file, monkeypatch):
    monkeypatch.setenv(KEY_ENV, API_KEY)
    # every call refused for good (a 400): the chain's records go to failures, none is lost
    with FakeUpstream(api_key=API_KEY, failure_rate=1.0, failure_status=400) as server:
        run = cascade_run(tmp_path, server, model_file, 0.8)
    assert run.returncode == 1, run.stderr
    results = read_jsonl(tmp_path / "t.results.jsonl")
    failures = read_jsonl(tmp_path / "t.failures.jsonl")
    assert results and failures and "Traceback" not in run.stderr
    assert {r["provider"] for r in results} == {"local"}
    ids = [r["id"] for r in results] + [f["id"] for f in failures]
    assert sorted(ids) == sorted(f"T{i}" for i in range(90))


# ---------------------------------------------------------------------------- eval's cascade


def test_eval_reports_a_cascade_per_stage_and_picks_the_cheapest_threshold(tmp_path, model_file):
    gold = labelled(120, seed=11)
    write_jsonl(tmp_path / "gold.jsonl", gold)
    # a "chain" that is right on every record but costs tokens: the target is its own accuracy
    # minus a little, so the pick is the lowest threshold whose mix still reaches it
    chain = [{"id": r["id"], "category": r["category"], "priority": r["priority"],
              "tokens_in": 100, "tokens_out": 10} for r in gold]  # fmt: skip
    write_jsonl(tmp_path / "chain.results.jsonl", chain)
    run = forge_proc(
        tmp_path, "eval", "gold.jsonl", "--results", "chain.results.jsonl",
        "--cascade", str(model_file), "--target-accuracy", "0.95", "--json", "--out-dir", "ev",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    doc = orjson.loads(run.stdout)
    (report,) = doc["cascades"]
    steps = {s["threshold"]: s for s in report["steps"]}
    alone = steps[1.01]
    assert alone["local"] == 0 and alone["mean_accuracy"] == 1.0
    # more sure means fewer records answered locally and a local stage at least as accurate
    locals_ = [steps[t]["local"] for t in sorted(steps)]
    assert locals_ == sorted(locals_, reverse=True)
    pick = steps[report["pick"]]
    assert pick["mean_accuracy"] >= 0.95 and pick["local"] > 0
    cheaper = [s for s in report["steps"] if s["local"] > pick["local"]]
    assert all(s["mean_accuracy"] < 0.95 for s in cheaper)
    assert "pick: --cascade-threshold" in run.stderr


def test_quiet_train_says_nothing_but_writes_its_model(tmp_path):
    write_jsonl(tmp_path / "history.jsonl", labelled(120))
    trained = forge_proc(tmp_path, "-q", "train", "history.jsonl", "--folds", "2")
    assert trained.returncode == 0, trained.stderr
    assert trained.stderr == "" and trained.stdout == ""
    assert (tmp_path / "history.model.json").stat().st_size > 0
