"""Labelled examples in the prompt (``--examples``): read with forge's readers and matched to the
fields, chosen per pack deterministically (near the pack's texts, labels covered, within the
budget), kept apart from the pack in what the provider receives, counted in tokens and in the
cache key, and one clear line for a file that cannot be used."""

from __future__ import annotations

import csv
import os
import random
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

import forge_cli
from conftest import API_KEY, KEY_ENV, forge, read_jsonl, remote_args, write_tickets
from forge_cli.core.calls import PackItem
from forge_cli.core.text import estimate_tokens
from forge_cli.tasks.classify.examples import (
    EXAMPLE_CHARS,
    HEADER,
    Example,
    ExamplePool,
    label_examples,
)
from forge_cli.tasks.classify.fields import Field
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.server import FakeUpstream

#: the forge under test, for a child process (whatever the working directory)
SRC = str(Path(forge_cli.__file__).resolve().parents[1])
QUEUE = Field("queue", ("Billing and Payments", "Technical Support", "Returns"))
TYPE = Field("type", ("Incident", "Request"))
FIELDS = (QUEUE, TYPE, Field("summary"))
FIELD_FLAGS = (
    "--field",
    "queue=" + ",".join(QUEUE.labels),
    "--field",
    "type=" + ",".join(TYPE.labels),
)

#: (text, queue, type): a few per queue, with words of their own
LABELLED = [
    ("I was charged twice on my invoice this month", "Billing and Payments", "Incident"),
    ("Please send a copy of the invoice for March", "Billing and Payments", "Request"),
    ("My refund for the duplicate charge never arrived", "Billing and Payments", "Incident"),
    ("The VPN client crashes when the laptop wakes up", "Technical Support", "Incident"),
    ("How do I configure the VPN on a new router?", "Technical Support", "Request"),
    ("The dashboard shows an error 500 after login", "Technical Support", "Incident"),
    ("I want to return the headset, it does not fit", "Returns", "Request"),
    ("The parcel arrived broken, how do I send it back?", "Returns", "Incident"),
]


def _examples() -> list[Example]:
    records = [(text, {"queue": queue, "type": kind}) for text, queue, kind in LABELLED]
    return label_examples(records, FIELDS).examples


def _pool(**kw: int) -> ExamplePool:
    return ExamplePool(_examples(), FIELDS, **kw)


def write_examples_csv(path: Path, rows: list[tuple[str, str, str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "body", "queue", "type"])
        writer.writerows([f"E{n}", *row] for n, row in enumerate(rows, 1))
    return path


# ------------------------------------------------------------------------------ reading labels


def test_labels_are_matched_to_the_fields_and_unknown_ones_reported_once():
    records = [
        ("a", {"queue": "billing_and_payments", "type": "INCIDENT"}),
        ("b", {"queue": "Sales", "type": "Request"}),  # unknown queue: the queue is dropped
        ("c", {"queue": "Sales"}),  # nothing usable left: skipped
        ("d", {"queue": "returns", "summary": "  a   short\nsummary "}),
        ("e", {"other": "x"}),  # no field at all: skipped
    ]
    labelled = label_examples(records, FIELDS)
    assert [(ex.text, dict(ex.values)) for ex in labelled.examples] == [
        ("a", {"queue": "Billing and Payments", "type": "Incident"}),
        ("b", {"type": "Request"}),
        ("d", {"queue": "Returns", "summary": "a short summary"}),
    ]
    assert [ex.index for ex in labelled.examples] == [0, 1, 2]
    assert labelled.warnings == [
        "queue 'Sales' is not one of its labels (in 2 records): that queue is left out of the examples",
        "2 records have no usable queue / type / summary: skipped",
    ]


def test_multi_label_fields_take_lists_or_separated_labels():
    tags = Field("tags", ("Billing", "VPN", "Hardware"), multi=True)
    labelled = label_examples(
        [
            ("a", {"tags": "vpn; hardware"}),
            ("b", {"tags": ["Billing", "vpn"]}),
            ("c", {"tags": "x"}),
        ],
        (tags,),
    )
    assert [dict(ex.values) for ex in labelled.examples] == [
        {"tags": ["VPN", "Hardware"]},
        {"tags": ["Billing", "VPN"]},
    ]
    assert "'x' is not one of its labels" in labelled.warnings[0]


# ------------------------------------------------------------------------------- the choice


def test_the_choice_is_deterministic_whatever_the_order_of_the_pack():
    pack = ["The VPN drops every hour", "I need an invoice copy", "Parcel damaged on arrival"]
    first = _pool(per_label=1, budget=2_000).choose(pack)
    for seed in range(5):
        shuffled = pack[:]
        random.Random(seed).shuffle(shuffled)
        assert _pool(per_label=1, budget=2_000).choose(shuffled) == first
    assert len(first) == 3


def test_the_choice_is_the_same_in_another_process():
    """Scores are float sums over words: they must not depend on the hash seed of the process."""
    script = (
        "import sys, orjson\n"
        "from forge_cli.tasks.classify.examples import ExamplePool, label_examples\n"
        "from forge_cli.tasks.classify.fields import Field\n"
        "fields = (Field('queue', tuple(sys.argv[1].split('|'))), Field('type', ('Incident', 'Request')))\n"
        "records = [(t, {'queue': q, 'type': k}) for t, q, k in orjson.loads(sys.argv[2])]\n"
        "pool = ExamplePool(label_examples(records, fields).examples, fields, budget=400)\n"
        "print([ex.index for ex in pool.choose(['VPN invoice error router', 'parcel refund'])])\n"
    )
    args = ["|".join(QUEUE.labels), orjson.dumps(LABELLED).decode()]
    outputs = set()
    for seed in ("1", "2", "3"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": SRC}
        done = subprocess.run(
            [sys.executable, "-c", script, *args],
            env=env,
            capture_output=True,
            text=True,
            check=True,
        )
        outputs.add(done.stdout)
    here = _pool(per_label=2, budget=400).choose(["VPN invoice error router", "parcel refund"])
    assert outputs == {f"{[ex.index for ex in here]}\n"}


def test_ties_go_to_the_earlier_record():
    same = [("The printer is jammed", "Technical Support", "Incident")] * 3
    records = [(t, {"queue": q, "type": k}) for t, q, k in same]
    pool = ExamplePool(label_examples(records, FIELDS).examples, FIELDS, per_label=1, budget=500)
    assert [ex.index for ex in pool.choose(["printer jammed again"])] == [0]


def test_the_most_similar_come_first_and_every_label_is_covered():
    pool = _pool(per_label=1, budget=2_000)
    chosen = pool.choose(["The VPN client crashes on my router"])
    assert chosen[0].values["queue"] == "Technical Support"
    assert "VPN" in chosen[0].text
    assert {ex.values["queue"] for ex in chosen} == set(QUEUE.labels)
    # two per label when the budget has room, never more
    two = _pool(per_label=2, budget=5_000).choose(["The VPN client crashes on my router"])
    counts = {q: sum(ex.values["queue"] == q for ex in two) for q in QUEUE.labels}
    assert counts == dict.fromkeys(QUEUE.labels, 2)


def test_the_budget_bounds_the_block():
    for budget in (60, 90, 150, 400):
        pool = _pool(per_label=2, budget=budget)
        block = pool.block(["The VPN client crashes", "invoice charged twice"])
        assert estimate_tokens(block) <= budget
    # a budget with room for a few: the labels come first, one each, before any second
    pool = _pool(per_label=2, budget=90)
    chosen = pool.choose(["The VPN client crashes", "invoice charged twice"])
    queues = [ex.values["queue"] for ex in chosen]
    assert len(set(queues)) == len(queues) >= 2


def test_long_example_texts_are_clipped():
    long = "word " * 400
    records = [(long, {"queue": "Returns"})]
    pool = ExamplePool(label_examples(records, FIELDS).examples, FIELDS, budget=2_000)
    entry = orjson.loads(pool.block(["word"]).split("\n", 2)[2].rsplit("\n", 1)[0])
    assert len(entry["text"]) <= EXAMPLE_CHARS + 2 and entry["text"].endswith("…")
    assert entry == {"text": entry["text"], "queue": "Returns"}


# ------------------------------------------------------------------------ the prompt and the key


def test_examples_go_apart_from_the_pack():
    task = TicketTask(fields=FIELDS, examples=_pool(per_label=1, budget=2_000))
    items = [PackItem("1", "The VPN drops"), PackItem("2", "Refund my charge")]
    request = task.build_request(items)
    system, user = (m["content"] for m in request.messages)
    assert orjson.loads(user) == [
        {"id": "1", "text": "The VPN drops"},
        {"id": "2", "text": "Refund my charge"},
    ]
    assert HEADER in system
    shown = orjson.loads(system.split(HEADER, 1)[1].split("\n]", 1)[0] + "\n]")
    assert all("id" not in ex and set(ex) >= {"text", "queue"} for ex in shown)
    # the examples follow the fields' labels and come before the rules and the answer's format
    assert system.index('- "Returns"') < system.index(HEADER) < system.index("Answer with JSON")
    assert request.sections is not None and request.sections.context == user
    # without examples, the prompt is what it always was
    plain = TicketTask(fields=FIELDS).build_request(items)
    assert plain.messages[1]["content"] == user and HEADER not in plain.messages[0]["content"]


def test_examples_count_in_tokens_and_in_the_cache_key():
    plain = TicketTask(fields=FIELDS)
    pool = _pool(per_label=1, budget=500)
    task = TicketTask(fields=FIELDS, examples=pool)
    texts = ["The VPN drops", "Refund my charge"]
    assert task.estimate_request_tokens(texts)[0] == (
        plain.estimate_request_tokens(texts)[0] + pool.typical_tokens
    )
    assert pool.typical_tokens > 0
    keys = {
        plain.fingerprint(),
        task.fingerprint(),
        TicketTask(fields=FIELDS, examples=_pool(per_label=2, budget=500)).fingerprint(),
        TicketTask(fields=FIELDS, examples=_pool(per_label=1, budget=600)).fingerprint(),
        TicketTask(
            fields=FIELDS, examples=ExamplePool(_examples()[:-1], FIELDS, per_label=1, budget=500)
        ).fingerprint(),
    }
    assert len(keys) == 5
    assert TicketTask(fields=FIELDS, examples=_pool(per_label=1, budget=500)).fingerprint() == (
        task.fingerprint()
    )


# ---------------------------------------------------------------------------------- whole runs


def _responder(seen: list[list[str]]):
    def answer(items):
        seen.append([item["text"] for item in items])
        return [{"id": it["id"], "queue": "returns", "type": "request"} for it in items]

    return answer


@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini", "cohere"])
def test_the_simulator_receives_the_examples_apart_from_the_pack(tmp_path, wire):
    examples = write_examples_csv(tmp_path / "labelled.csv", LABELLED)
    texts = ["The parcel came back broken", "Charged twice for one invoice"]
    src = write_tickets(tmp_path / "t.jsonl", texts)
    seen: list[list[str]] = []
    with FakeUpstream(api_key=API_KEY, responder=_responder(seen), wire=wire) as server:
        args = [
            *("--provider", wire, "--base-url", server.base_url, "--api-key-env", KEY_ENV),
            *("--no-progress", "--json-summary", "--no-cache", "--pack", "2", *FIELD_FLAGS),
        ]
        plain = forge("classify", str(src), *args)
        plain_tokens = server.stats.tokens_in
        run = forge("classify", str(src), *args, "--examples", str(examples))
        example_tokens = server.stats.tokens_in - plain_tokens
    assert plain.exit_code == 0 and run.exit_code == 0, run.stderr
    rows = read_jsonl(tmp_path / "t.results.jsonl")
    assert [(r["id"], r["queue"], r["type"]) for r in rows] == [
        ("T1", "Returns", "Request"),
        ("T2", "Returns", "Request"),
    ]
    # the pack the simulator answered is the records alone, in both runs
    assert seen == [texts, texts]
    # and the prompt it received grew by the examples' block (the simulator counts 4 chars a token)
    pool = ExamplePool(
        label_examples([(t, {"queue": q, "type": k}) for t, q, k in LABELLED], FIELDS[:2]).examples,
        FIELDS[:2],
    )
    block = "\n\n" + pool.block(texts)
    assert abs((example_tokens - plain_tokens) - len(block) // 4) <= 1
    assert run.summary["tokens_in"] - plain.summary["tokens_in"] == example_tokens - plain_tokens


def test_examples_change_the_cache_key(tmp_path):
    examples = write_examples_csv(tmp_path / "labelled.csv", LABELLED)
    other = write_examples_csv(tmp_path / "other.csv", LABELLED[:-1])
    src = write_tickets(tmp_path / "t.jsonl", ["Refund please", "VPN is down", "Broken parcel"])
    with FakeUpstream(api_key=API_KEY, responder=_responder([])) as server:
        _check_cache_keys(src, [*remote_args(server), *FIELD_FLAGS], examples, other)


def _check_cache_keys(src: Path, base: list[str], examples: Path, other: Path) -> None:

    def hits(*extra: str) -> int:
        plan = forge("classify", str(src), *base, "--dry-run", *extra)
        assert plan.exit_code == 0, plan.stderr
        return int(orjson.loads(plan.stdout.splitlines()[-1])["cache_hits"])

    assert forge("classify", str(src), *base).exit_code == 0
    assert hits() == 3
    assert hits("--examples", str(examples)) == 0
    assert forge("classify", str(src), *base, "--examples", str(examples)).exit_code == 0
    assert hits("--examples", str(examples)) == 3
    assert hits("--examples", str(other)) == 0
    assert hits("--examples", str(examples), "--examples-per-label", "1") == 0
    assert hits("--examples", str(examples), "--examples-tokens", "300") == 0
    assert hits() == 3


def test_dry_run_counts_the_examples(tmp_path, upstream):
    examples = write_examples_csv(tmp_path / "labelled.csv", LABELLED)
    src = write_tickets(tmp_path / "t.jsonl", [f"ticket number {n}" for n in range(30)])
    args = [*remote_args(upstream, "--dry-run"), *FIELD_FLAGS, "--pack", "10"]
    plain = orjson.loads(forge("classify", str(src), *args).stdout.splitlines()[-1])
    more = orjson.loads(
        forge("classify", str(src), *args, "--examples", str(examples)).stdout.splitlines()[-1]
    )
    assert plain["calls"] == more["calls"] == 3
    assert more["tokens_in"] > plain["tokens_in"] + 3 * 50
    assert more["cost_usd"] > plain["cost_usd"]


def test_examples_from_jsonl_forge_toml_and_the_environment(tmp_path, monkeypatch):
    labelled = tmp_path / "labelled.jsonl"
    labelled.write_bytes(
        b"".join(
            orjson.dumps({"text": t, "category": "billing", "priority": "High"}) + b"\n"
            for t in ("refund me", "double charge")
        )
    )
    (tmp_path / "forge.toml").write_text(
        f'[classify]\nexamples = "{labelled.name}"\nexamples_tokens = 200\n', encoding="utf-8"
    )
    monkeypatch.setenv("FORGE_EXAMPLES_PER_LABEL", "1")
    src = write_tickets(tmp_path / "t.jsonl", ["Refund my charge"])
    from forge_cli.app.classify import make_task
    from forge_cli.app.settings import ClassifySettings, resolve

    settings = resolve(ClassifySettings, "classify", {"input": str(src)}, cwd=tmp_path)
    assert (settings.examples, settings.examples_per_label, settings.examples_tokens) == (
        "labelled.jsonl",
        1,
        200,
    )
    task = make_task(settings)
    assert task.examples is not None and len(task.examples.examples) == 2
    assert (
        '"priority":"high"' in task.build_request([PackItem("1", "refund")]).messages[0]["content"]
    )
    run = forge("classify", str(src), "--no-progress")  # the offline rule ignores the examples
    assert run.exit_code == 0, run.stderr


# ------------------------------------------------------------------------------ bad files


def test_unknown_labels_are_one_warning_each(tmp_path):
    examples = write_examples_csv(
        tmp_path / "labelled.csv",
        [*LABELLED[:2], ("x", "Sales", "Request"), ("y", "Sales", "Incident")],
    )
    src = write_tickets(tmp_path / "t.jsonl", ["Refund please"])
    run = forge("classify", str(src), *FIELD_FLAGS, "--examples", str(examples), "--no-progress")
    assert run.exit_code == 0, run.stderr
    warnings = [line for line in run.stderr.splitlines() if "warning" in line]
    assert warnings == [
        f"forge: warning: {examples}: queue 'Sales' is not one of its labels (in 2 records): "
        "that queue is left out of the examples"
    ]


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "no such file"),
        ("id,body,queue\n1,hello,Sales\n", "no usable example"),
        ("id,body,colour\n1,hello,red\n", "no usable example"),
        ("id,queue\n1,Returns\n", "no text column"),
        ("", "empty CSV file"),
    ],
)
def test_a_file_without_usable_examples_is_one_line(tmp_path, content, expected):
    examples = tmp_path / "labelled.csv"
    if content is not None:
        examples.write_text(content, encoding="utf-8")
    src = write_tickets(tmp_path / "t.jsonl", ["Refund please"])
    run = forge("classify", str(src), *FIELD_FLAGS, "--examples", str(examples))
    assert run.exit_code == 2
    errors = [line for line in run.stderr.splitlines() if line.startswith("forge: error:")]
    assert len(errors) == 1 and expected in errors[0]
    assert errors[0].startswith("forge: error: --examples") and "labelled.csv" in errors[0]


def test_examples_and_input_cannot_both_be_stdin(tmp_path):
    run = forge("classify", "-", "--examples", "-")
    assert run.exit_code == 2 and "stdin" in run.stderr
    run = forge("classify", "-", "--examples", str(tmp_path / "x.csv"), "--examples-tokens", "10")
    assert run.exit_code == 2 and "--examples-tokens" in run.stderr
