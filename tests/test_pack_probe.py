"""``--pack-probe N``: ask the first N records alone and in packs, pack no larger than they agree.

Every test runs forge against ``FakeUpstream`` on 127.0.0.1 with a responder that plays a model whose
answers hold up to some pack size and go wrong beyond it (a small model loses track of which ticket
is which), and reads back what the server received and what the run wrote.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pytest

from conftest import API_KEY, distinct_texts, forge, read_jsonl, remote_args, write_tickets
from forge_cli.engine.probe import MIN_AGREEMENT, ProbeReport, ProbeRound, _agreement
from forge_cli.testing.sim.answers import DEFAULT_LABELS, default_classification
from forge_cli.testing.sim.server import FakeUpstream


def model_that_packs_up_to(limit: int) -> Any:
    """Right (the simulator's own verdict) in packs of up to ``limit``; beyond, every ticket gets
    its neighbour's category, as a model that mixes up a pack's tickets would answer."""

    def answer(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        rows = [{"id": it["id"], **default_classification(it["text"])} for it in items]
        if len(items) > limit:
            for row in rows:
                shifted = DEFAULT_LABELS.index(row["category"]) + 1
                row["category"] = DEFAULT_LABELS[shifted % len(DEFAULT_LABELS)]
        return rows

    return answer


def probed_run(
    tmp_path: Path, limit: int, *extra: str, tickets: int = 60
) -> tuple[dict[str, Any], list[int], int]:
    """(summary, records per request as the server saw them, requests) of one run."""
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(tickets))
    with FakeUpstream(api_key=API_KEY, responder=model_that_packs_up_to(limit)) as server:
        run = forge("classify", str(src), *remote_args(server, "--no-cache", *extra))
        sizes = [len(r.ids) for r in server.stats.records]
        requests = server.stats.requests
    assert run.exit_code == 0, run.stderr
    rows = read_jsonl(tmp_path / "t.results.jsonl")
    assert sorted(r["id"] for r in rows) == sorted(f"T{n}" for n in range(1, tickets + 1))
    return orjson.loads(run.stdout.splitlines()[-1]), sizes, requests


def test_a_model_that_answers_packs_alike_keeps_adaptive_packing(tmp_path: Path) -> None:
    summary, sizes, _ = probed_run(tmp_path, 1_000, "--pack-probe", "12")
    probe = summary["pack_probe"]
    assert probe["answered_alone"] == 12
    assert [r["size"] for r in probe["rounds"]] == [12]  # the sample in one pack: all alike
    assert probe["rounds"][0]["agreement"] == {"category": 1.0, "priority": 1.0}
    assert probe["chosen"] == 20  # the run's own largest pack stands
    run_sizes = sizes[12 + 1 :]  # after the 12 singles and the one probe pack
    assert max(run_sizes) > 12


def test_a_model_that_mixes_up_large_packs_gets_packs_it_answers_alike(tmp_path: Path) -> None:
    summary, sizes, _ = probed_run(tmp_path, 5, "--pack-probe", "20")
    probe = summary["pack_probe"]
    assert [r["size"] for r in probe["rounds"]] == [20, 10, 5]
    assert [r["agreement"]["category"] for r in probe["rounds"]] == [0.0, 0.0, 1.0]
    assert probe["rounds"][-1]["agreement"]["priority"] == 1.0
    assert probe["chosen"] == 5
    probe_calls = 20 + 1 + 2 + 4
    assert len(sizes) > probe_calls and max(sizes[probe_calls:]) == 5
    assert summary["packs"] == len(sizes)  # the probe's calls are counted with the run's


def test_a_model_that_cannot_pack_gets_one_record_a_request(tmp_path: Path) -> None:
    summary, sizes, requests = probed_run(tmp_path, 1, "--pack-probe", "16", tickets=30)
    probe = summary["pack_probe"]
    assert [r["size"] for r in probe["rounds"]] == [16, 8, 4, 2]
    assert probe["chosen"] == 1
    probe_calls = 16 + 1 + 2 + 4 + 8
    assert sizes[probe_calls:] == [1] * 30  # every record asked alone by the run, sample too
    assert requests == probe_calls + 30
    assert summary["tokens_in"] > 0 and summary["done"] == 30


def test_the_summary_says_what_the_probe_chose(tmp_path: Path) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(12))
    with FakeUpstream(api_key=API_KEY, responder=model_that_packs_up_to(1)) as server:
        run = forge("classify", str(src), *remote_args(server, "--pack-probe", "6"))
    assert run.exit_code == 0, run.stderr
    assert "pack probe" in run.stderr
    assert "one record a request" in run.stderr


@pytest.mark.parametrize("extra", [("--pack", "4"), ("--pack-probe", "0")])
def test_no_probe_where_packing_is_chosen_or_none_is_asked(tmp_path: Path, extra: tuple) -> None:
    args = ("--pack-probe", "10", *extra) if extra[0] == "--pack" else extra
    summary, sizes, _ = probed_run(tmp_path, 1, *args, tickets=12)
    assert "pack_probe" not in summary
    assert len(sizes) == summary["packs"]


def test_a_provider_that_refuses_every_call_ends_the_run_as_without_a_probe(
    tmp_path: Path,
) -> None:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(10))
    with FakeUpstream(api_key="sk-another-key") as server:  # forge's key is refused: 401
        plain = forge("classify", str(src), *remote_args(server))
        run = forge("classify", str(src), *remote_args(server, "--pack-probe", "5"))
    assert run.exit_code == plain.exit_code != 0
    assert "Traceback" not in run.stderr
    failures = read_jsonl(tmp_path / "t.failures.jsonl")
    assert len(failures) == 10 and not (tmp_path / "t.results.jsonl").read_text()
    summary = orjson.loads(run.stdout.splitlines()[-1])
    assert summary["pack_probe"]["answered_alone"] == 0
    assert summary["pack_probe"]["chosen"] is None


def test_agreement_is_per_field_and_ignores_the_order_of_a_multi_label_answer() -> None:
    alone = {0: {"tags": ["a", "b"], "kind": "x"}, 1: {"tags": ["c"], "kind": "y"}}
    packed = {0: {"tags": ["b", "a"], "kind": "x"}}  # record 1 left unanswered by the pack
    assert _agreement(alone, packed, ["tags", "kind"]) == {"tags": 0.5, "kind": 0.5}


def test_the_report_line_names_each_size_tried() -> None:
    report = ProbeReport(records=8, answered=8, chosen=2)
    report.rounds = [
        ProbeRound(8, 1, {"category": 0.25}),
        ProbeRound(4, 2, {"category": 0.5}),
        ProbeRound(2, 4, {"category": MIN_AGREEMENT}),
    ]
    assert report.line() == (
        "8 records alone, then 8 a request 25% alike, 4 a request 50% alike, "
        "2 a request 80% alike: packs of up to 2"
    )
