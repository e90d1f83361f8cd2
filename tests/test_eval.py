"""``forge eval`` as a user meets it: real files, the offline provider, nothing on the network."""

from __future__ import annotations

import csv
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from conftest import KEY_ENV, forge
from forge_cli.app.config_files import load_files
from forge_cli.app.evaluation.variants import parse_variant, prepare, run_prepared
from forge_cli.cli.main import app
from forge_cli.core.errors import UsageError
from forge_cli.providers.catalog.prices import PriceTable

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
ENGINE = {"complexity": "simple", "provider": "openai", "model": "gpt-4o-mini", "cache_hit": False}


def write_jsonl(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_bytes(b"".join(orjson.dumps(row) + b"\n" for row in rows))
    return path


def write_csv(path: Path, rows: list[dict[str, Any]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def result_row(rid: str, line: int, tokens: tuple[int, int] = (100, 20), **answer: Any) -> dict:
    """A results row laid out as the engine writes it: id, line, answers, engine fields."""
    return {
        "id": rid,
        "line": line,
        **answer,
        **ENGINE,
        "tokens_in": tokens[0],
        "tokens_out": tokens[1],
        "latency_ms": 100.0 * line,
    }


@pytest.fixture
def gold(tmp_path: Path) -> Path:
    """Six tickets: queue and type per ticket."""
    rows = [
        ("G1", "Billing", "Request"),
        ("G2", "Billing", "Incident"),
        ("G3", "Technical Support", "Incident"),
        ("G4", "Technical Support", "Problem"),
        ("G5", "Sales", "Request"),
        ("G6", "Sales", "Request"),
    ]
    return write_jsonl(
        tmp_path / "gold.jsonl",
        [{"id": i, "text": f"ticket {i}", "queue": q, "type": t} for i, q, t in rows],
    )


@pytest.fixture
def results(tmp_path: Path) -> Path:
    """Answers for G1-G4 and an id gold does not have; G5 failed; G6 is nowhere."""
    write_jsonl(
        tmp_path / "gold.failures.jsonl",
        [{"id": "G5", "line": 5, "error": "InvalidResponseError", "message": "bad", "attempts": 3}],
    )
    return write_jsonl(
        tmp_path / "gold.results.jsonl",
        [
            result_row("G1", 1, queue="billing", type="Request"),
            result_row("G2", 2, queue="BILLING", type="Request"),
            result_row("G3", 3, queue="technical_support", type="Incident"),
            result_row("G4", 4, queue="Sales", type="Problem"),
            result_row("X9", 9, queue="Sales", type="Request"),
        ],
    )


def dead_provider(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Flags naming a provider nobody can reach, and a trap should anything try to build it."""

    def trap(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("scoring a results file built a provider")

    monkeypatch.setattr("forge_cli.app.assemble.build_provider", trap)
    monkeypatch.setattr("forge_cli.app.assemble.build_chain", trap)
    return [
        "--provider",
        "openai",
        "--base-url",
        "http://127.0.0.1:9/v1",
        "--api-key-env",
        "FORGE_TEST_NO_SUCH_KEY",
    ]


def test_scores_a_results_file_without_calling_anything(tmp_path, gold, results, monkeypatch):
    run = forge(
        "eval",
        str(gold),
        "--results",
        str(results),
        "--out-dir",
        "out",
        "--json",
        *dead_provider(monkeypatch),
    )
    assert run.exit_code == 0, run.stderr
    doc = orjson.loads(run.stdout)
    assert doc == orjson.loads((tmp_path / "out" / "eval.json").read_bytes()) | {}
    (entry,) = doc["entries"]
    assert entry["name"] == "gold" and entry["kind"] == "results"
    assert entry["coverage"] == {"gold": 6, "answered": 4, "failed": 1, "missing": 1, "extra": 1}
    fields = {f["field"]: f for f in entry["fields"]}
    assert set(fields) == {"queue", "type"}

    queue = fields["queue"]
    # G1, G2, G3 right (case and separators forgiven), G4 wrong, G5 and G6 no answer
    assert queue["accuracy"] == pytest.approx(3 / 6)
    assert queue["answered"] == 4 and queue["valid_pct"] == pytest.approx(66.67)
    assert queue["compared"] == "normalised"
    confusion = queue["confusion"]
    assert confusion["rows"] == ["Billing", "Sales", "Technical Support"]
    assert confusion["columns"] == ["Billing", "Sales", "Technical Support", "(no answer)"]
    assert confusion["counts"] == [[2, 0, 0, 0], [0, 0, 0, 2], [0, 1, 1, 0]]
    labels = {row["label"]: row for row in queue["labels"]}
    # Billing: P 1 R 1; Sales: P 0 (G4) R 0; Technical Support: P 1 R 0.5 -> F1 2/3
    assert labels["Technical Support"]["f1"] == pytest.approx(2 / 3, abs=1e-6)
    assert queue["macro_f1"] == pytest.approx((1 + 0 + 2 / 3) / 3, abs=1e-6)

    usage = entry["usage"]
    # the four joined rows; X9 is not gold's and is not counted
    assert (usage["tokens_in"], usage["tokens_out"], usage["records"]) == (400, 80, 6)
    price = PriceTable().lookup("gpt-4o-mini", "openai")
    assert price is not None
    assert usage["cost_usd"] == pytest.approx(price.cost(400, 80))
    assert usage["latency_p50_ms"] == pytest.approx(250.0)
    assert usage["calls"] is None  # a results file does not say

    assert "1 in neither results nor failures" in run.stderr
    assert "1 result ids not in gold" in run.stderr
    svg = tmp_path / "out" / "confusion-gold-queue.svg"
    assert queue["svg"] == str(Path("out") / "confusion-gold-queue.svg")
    ET.parse(svg)
    rows = list(csv.DictReader((tmp_path / "out" / "eval.csv").open(encoding="utf-8")))
    assert [(r["variant"], r["field"]) for r in rows] == [("gold", "queue"), ("gold", "type")]
    assert rows[0]["failed"] == "1" and rows[0]["missing"] == "1"


def test_terminal_report_shows_tables_and_matrix(gold, results):
    run = forge("eval", str(gold), "--results", str(results), "--field", "queue")
    assert run.exit_code == 0, run.stderr
    out = run.stdout
    assert "gold: queue (gold queue): accuracy 50.0%" in out
    assert "precision" in out and "(no answer)" in out and "Technical Support" in out
    assert "type" not in out.split("forge eval: every variant")[1]


def test_csv_files_another_id_field_and_a_map(tmp_path):
    gold = write_csv(
        tmp_path / "gold.csv",
        [
            {"ticket_id": "a", "body": "x", "Queue": "Technical Support"},
            {"ticket_id": "b", "body": "y", "Queue": "Billing and Payments"},
            {"ticket_id": "c", "body": "z", "Queue": "Billing and Payments"},
        ],
    )
    res = write_csv(
        tmp_path / "run.results.csv",
        [
            result_row("a", 1, category="technical_support"),
            result_row("b", 2, category='"billing-and-payments"'),
            result_row("c", 3, category="Returns"),
        ],
    )
    run = forge(
        "eval",
        str(gold),
        "--results",
        str(res),
        "--id-field",
        "ticket_id",
        "--map",
        "category=Queue",
        "--json",
    )
    assert run.exit_code == 0, run.stderr
    (field,) = orjson.loads(run.stdout)["entries"][0]["fields"]
    assert (field["field"], field["gold_field"]) == ("category", "Queue")
    assert field["accuracy"] == pytest.approx(2 / 3)
    assert field["confusion"]["columns"][-2:] == ["Returns", "(no answer)"]


def test_gold_passed_through_into_results_is_not_taken_for_an_answer(tmp_path):
    """classify passes the input's fields through after its own: that is gold, not an answer."""
    gold = write_jsonl(tmp_path / "g.jsonl", [{"id": "1", "text": "t", "queue": "Sales"}])
    res = write_jsonl(
        tmp_path / "g.results.jsonl", [{**result_row("1", 1, category="Billing"), "queue": "Sales"}]
    )
    run = forge("eval", str(gold), "--results", str(res))
    assert run.exit_code == 2
    assert "no field to score" in run.stderr and "--map" in run.stderr
    run = forge("eval", str(gold), "--results", str(res), "--map", "category=queue", "--json")
    assert run.exit_code == 0, run.stderr
    assert orjson.loads(run.stdout)["entries"][0]["fields"][0]["accuracy"] == 0.0


def test_multi_label_field(tmp_path):
    gold = write_jsonl(
        tmp_path / "g.jsonl",
        [
            {"id": "1", "text": "t", "tags": ["vpn", "login"]},
            {"id": "2", "text": "t", "tags": ["vpn"]},
        ],
    )
    res = write_csv(
        tmp_path / "g.results.csv",
        [result_row("1", 1, tags="Login; VPN"), result_row("2", 2, tags="vpn;billing")],
    )
    run = forge("eval", str(gold), "--results", str(res), "--multi", "tags", "--json")
    assert run.exit_code == 0, run.stderr
    (field,) = orjson.loads(run.stdout)["entries"][0]["fields"]
    assert field["kind"] == "multi"
    assert field["accuracy"] == 0.5  # exact match: record 1
    # tp 3 (vpn, login, vpn), fp 1 (billing), fn 0
    assert field["micro_f1"] == pytest.approx(6 / 7, abs=1e-6)


def test_gold_from_stdin(gold, results):
    run = CliRunner().invoke(
        app, ["eval", "-", "--results", str(results), "--json"], input=gold.read_bytes()
    )
    assert run.exit_code == 0, run.stderr
    assert orjson.loads(run.stdout)["entries"][0]["coverage"]["answered"] == 4


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--field", "nope"], "--field nope"),
        (["--map", "category=queue"], "no answer column 'category'"),
        (["--map", "queue=Queue"], "has no column 'Queue'"),
        (["--map", "queue"], "RESULT_COLUMN=GOLD_COLUMN"),
        (["--id-field", "text"], "no id of"),
        (["--variant", "x:frobnicate=1"], "unknown setting 'frobnicate'"),
        (["--variant", "provider=offline"], "start with a name"),
        (["--variant", "a:pack=1", "--variant", "a:pack=2"], "two variants"),
        (["--variant", "gold:pack=1"], "the results file goes by that name"),
    ],
)
def test_usage_errors_exit_2_with_one_line(gold, results, args, message):
    run = forge("eval", str(gold), "--results", str(results), *args)
    assert run.exit_code == 2, run.stdout
    assert message in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert "Traceback" not in run.stderr


def test_unreadable_files_are_named(tmp_path, gold):
    run = forge("eval", str(tmp_path / "missing.jsonl"), "--results", str(gold))
    assert run.exit_code == 2 and "missing.jsonl" in run.stderr
    run = forge("eval", str(gold), "--results", str(tmp_path / "nothing.results.jsonl"))
    assert run.exit_code == 2 and "nothing.results.jsonl" in run.stderr
    (tmp_path / "preds.bin").write_bytes(b"\x00\x01")
    run = forge("eval", str(gold), "--results", str(tmp_path / "preds.bin"))
    assert run.exit_code == 2 and "preds.bin" in run.stderr


def sample_gold(tmp_path: Path, n: int = 40) -> Path:
    """The first labelled samples, with the gold column named as a real data set might."""
    rows = []
    for line in (SAMPLES / "tickets.jsonl").read_bytes().splitlines():
        try:
            row = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(row, dict) and row.get("label") and row.get("text"):
            rows.append(
                {"id": row["id"], "text": row["text"], "queue": row["label"], "priority": "x"}
            )
    return write_jsonl(tmp_path / "gold.jsonl", rows[:n])


def test_variants_end_to_end_with_the_offline_provider(tmp_path):
    gold = sample_gold(tmp_path)
    run = forge(
        "eval",
        str(gold),
        "--variant",
        "adaptive:provider=offline",
        "--variant",
        "pack1:provider=offline,pack=1",
        "--map",
        "category=queue",
        "--field",
        "category",
        "--out-dir",
        "out",
        "--no-progress",
        "--json",
    )
    assert run.exit_code == 0, run.stderr
    doc = orjson.loads(run.stdout)
    assert [e["name"] for e in doc["entries"]] == ["adaptive", "pack1"]
    adaptive, pack1 = doc["entries"]
    assert pack1["origin"] == "provider=offline,pack=1"
    for entry in doc["entries"]:
        assert entry["coverage"] == {
            "gold": 40,
            "answered": 40,
            "failed": 0,
            "missing": 0,
            "extra": 0,
        }
        (field,) = entry["fields"]
        assert field["accuracy"] >= 0.9 and field["valid_pct"] == 100.0
        assert entry["usage"]["cost_usd"] == 0.0
        assert entry["usage"]["tokens_per_record"] > 0
    # one call per distinct text at pack 1 (the samples repeat a few texts on purpose)
    assert adaptive["usage"]["calls"] < pack1["usage"]["calls"] <= 40
    out = tmp_path / "out"
    assert {p.name for p in out.iterdir()} == {
        "eval.json",
        "eval.csv",
        "confusion-adaptive-category.svg",
        "confusion-pack1-category.svg",
    }
    rows = list(csv.DictReader((out / "eval.csv").open(encoding="utf-8")))
    assert [(r["variant"], r["field"], r["calls"]) for r in rows] == [
        ("adaptive", "category", str(adaptive["usage"]["calls"])),
        ("pack1", "category", str(pack1["usage"]["calls"])),
    ]


def test_without_results_or_variants_eval_runs_classify_once(tmp_path):
    gold = sample_gold(tmp_path, 10)
    run = forge("eval", str(gold), "--map", "category=queue", "--no-progress", "--no-cache")
    assert run.exit_code == 0, run.stderr
    assert "offline keyword baseline" in run.stderr
    assert (tmp_path / "eval.json").exists()


def test_a_variant_never_sees_the_gold_it_is_scored_against(tmp_path):
    gold = sample_gold(tmp_path, 5)
    prepared = prepare(
        parse_variant("v:provider=offline"),
        gold=str(gold),
        id_field="id",
        input_format=None,
        base_flags={"no_cache": True},
        loaded=load_files([]),
    )
    ran = run_prepared(prepared, hide={"queue", "priority"})
    assert len(ran.rows) == 5
    for row in ran.rows.values():
        assert "queue" not in row and "input_priority" not in row


def test_variant_settings_are_checked_before_anything_runs(tmp_path):
    gold = sample_gold(tmp_path, 5)
    with pytest.raises(UsageError, match="--variant bad: --pack"):
        prepare(
            parse_variant("bad:pack=0"),
            gold=str(gold),
            id_field="id",
            input_format=None,
            base_flags={},
            loaded=load_files([]),
        )
    run = forge(
        "eval",
        str(gold),
        "--variant",
        "ok:provider=offline",
        "--variant",
        "bad:pack=0",
        "--map",
        "category=queue",
    )
    assert run.exit_code == 2 and "--variant bad" in run.stderr
    assert "classifying" not in run.stderr  # the good one did not run either


def test_variant_values_keep_their_commas():
    v = parse_variant("chain:provider=groq,offline,labels=a,b,c,pack=5,base-url=http://h:1/v1")
    assert dict(v.flags) == {
        "provider": "groq,offline",
        "labels": "a,b,c",
        "pack": "5",
        "base_url": "http://h:1/v1",
    }
    assert dict(parse_variant("bare").flags) == {}
    # a key given twice is a list, as a repeated flag would be (classify's --field NAME=LABELS)
    two = parse_variant("twice:labels=a=1,b,labels=c,pack=1")
    assert dict(two.flags) == {"labels": ["a=1,b", "c"], "pack": "1"}
    assert two.describe() == "labels=a=1,b,labels=c,pack=1"


def test_what_to_score_is_never_taken_from_the_environment(gold, results, monkeypatch):
    monkeypatch.setenv("FORGE_RESULTS", str(results))
    run = forge("eval", str(gold))
    assert run.exit_code == 2 and "--results is given on the command line only" in run.stderr


def test_a_priced_variant_reports_cost_and_latency(tmp_path, upstream):
    """Through the simulator on 127.0.0.1, priced as gpt-4o-mini: cost per record is known."""
    gold = sample_gold(tmp_path, 12)
    spec = (
        f"sim:provider=openai,base_url={upstream.base_url},api_key_env={KEY_ENV},"
        "model=gpt-4o-mini,backoff=0.01"
    )
    run = forge(
        "eval", str(gold), "--variant", spec, "--map", "category=queue", "--no-progress", "--json"
    )
    assert run.exit_code == 0, run.stderr
    (entry,) = orjson.loads(run.stdout)["entries"]
    usage = entry["usage"]
    assert usage["calls"] >= 1 and usage["tokens_in"] > 0
    price = PriceTable().lookup("gpt-4o-mini", "openai")
    assert price is not None
    assert usage["cost_usd"] == pytest.approx(
        price.cost(usage["tokens_in"], usage["tokens_out"]), rel=1e-3
    )
    assert usage["cost_per_record_usd"] > 0 and usage["latency_p50_ms"] is not None
    assert entry["coverage"]["answered"] == 12


def test_labels_are_shown_as_written_and_null_failure_ids_are_left_out(tmp_path):
    gold = write_csv(
        tmp_path / "g.csv",
        [
            {"text": "a", "level": "[P1] urgent"},
            {"text": "b", "level": "[bold]low"},
            {"text": "c", "level": "[bold]low"},
        ],
    )  # no id column: records are known by their line numbers, as classify knows them
    write_jsonl(
        tmp_path / "g.failures.jsonl",
        [
            {"id": None, "line": 2, "error": "MalformedRecord", "message": "bad", "attempts": 0},
            {"id": "4", "line": 4, "error": "InvalidResponseError", "message": "x", "attempts": 2},
        ],
    )
    res = write_jsonl(
        tmp_path / "g.results.jsonl",
        [result_row("2", 2, level="[p1] URGENT"), result_row("3", 3, level="[bold]low")],
    )
    run = forge("eval", str(gold), "--results", str(res), "--json")
    assert run.exit_code == 0, run.stderr
    (entry,) = orjson.loads(run.stdout)["entries"]
    # line 4 failed; the failure with a null id is no gold record's
    assert entry["coverage"] == {"gold": 3, "answered": 2, "failed": 1, "missing": 0, "extra": 0}
    assert entry["fields"][0]["accuracy"] == pytest.approx(2 / 3)
    assert "[P1] urgent" in run.stderr and "[bold]low" in run.stderr  # --json: tables on stderr


def test_lists_in_the_answers_make_a_field_multi_label(tmp_path):
    gold = write_csv(tmp_path / "g.csv", [{"id": "1", "text": "t", "tags": "vpn; login"}])
    res = write_jsonl(tmp_path / "g.results.jsonl", [result_row("1", 1, tags=["Login", "VPN"])])
    run = forge("eval", str(gold), "--results", str(res), "--json")
    assert run.exit_code == 0, run.stderr
    (field,) = orjson.loads(run.stdout)["entries"][0]["fields"]
    assert (field["kind"], field["accuracy"], field["micro_f1"]) == ("multi", 1.0, 1.0)


def test_a_variant_without_its_key_stops_eval_before_any_run(tmp_path, monkeypatch):
    monkeypatch.delenv("GROQ_API_KEY", raising=False)
    gold = sample_gold(tmp_path, 5)
    run = forge(
        "eval",
        str(gold),
        "--variant",
        "ok:provider=offline",
        "--variant",
        "paid:provider=groq",
        "--map",
        "category=queue",
    )
    assert run.exit_code == 2
    assert "--variant paid" in run.stderr and "GROQ_API_KEY" in run.stderr
    assert "classifying" not in run.stderr and not (tmp_path / "eval.json").exists()


def test_a_field_defined_on_evals_command_line_reaches_the_runs(tmp_path):
    """`--field queue=A,B` names the column to score and defines the field, as classify's does."""
    gold = write_jsonl(
        tmp_path / "gold.jsonl",
        [
            {"id": "1", "text": "I was charged twice for my plan", "queue": "Billing and Payments"},
            {"id": "2", "text": "The app crashes when I open it", "queue": "Technical Support"},
            {"id": "3", "text": "Refund my invoice please", "queue": "Billing and Payments"},
        ],
    )
    run = forge(
        "eval",
        str(gold),
        "--field",
        "queue=Billing and Payments,Technical Support",
        "--variant",
        "offline:provider=offline",
        "--no-cache",
        "--no-progress",
        "--json",
    )
    assert run.exit_code == 0, run.stderr
    (entry,) = orjson.loads(run.stdout)["entries"]
    (field,) = entry["fields"]
    assert field["field"] == "queue" and field["valid_pct"] == 100.0


def test_quiet_eval_keeps_the_tables_and_the_warnings_only(tmp_path, gold, results):
    loud = forge("eval", str(gold), "--results", str(results))
    assert "answered" in loud.stderr and "wrote" in loud.stderr
    quiet = forge("-q", "eval", str(gold), "--results", str(results))
    assert quiet.exit_code == 0, quiet.stderr
    assert "wrote" not in quiet.stderr and "answered" not in quiet.stderr
    assert "queue" in quiet.stdout  # the tables are the command's output
    # the offline baseline, run quietly, asked for the gold's own fields
    ran = forge("-q", "eval", str(gold), "--field", "queue=Billing,Sales,Technical Support")
    assert ran.exit_code == 0, ran.stderr
    assert "classifying" not in ran.stderr and "offline" not in ran.stderr
