"""End to end against a real OpenAI-compatible server on 127.0.0.1 with injected faults.

Every test checks the invariant: each input record is in exactly one of results or failures, once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import orjson

from conftest import (
    API_KEY,
    KEY_ENV,
    distinct_texts,
    forge,
    read_jsonl,
    remote_args,
    write_tickets,
)
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream


def outputs(src: Path) -> tuple[list[dict], list[dict]]:
    stem = src.with_suffix("")
    return (
        read_jsonl(stem.parent / f"{stem.name}.results.jsonl"),
        read_jsonl(stem.parent / f"{stem.name}.failures.jsonl"),
    )


def assert_each_once(src: Path, expected_ids: list[str]) -> tuple[list[dict], list[dict]]:
    results, failures = outputs(src)
    seen = Counter(r["id"] for r in results) + Counter(f["id"] for f in failures)
    assert sorted(seen) == sorted(expected_ids)
    assert set(seen.values()) == {1}, [k for k, v in seen.items() if v > 1]
    return results, failures


def test_happy_path_fields_and_accounting(tmp_path, upstream):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(30), customer="acme")
    run = forge("classify", str(src), *remote_args(upstream))
    assert run.exit_code == 0, run.stderr
    results, failures = assert_each_once(src, [f"T{n}" for n in range(1, 31)])
    assert failures == []
    row = results[0]
    for field in (
        "id",
        "line",
        "category",
        "priority",
        "summary",
        "provider",
        "model",
        "cache_hit",
        "tokens_in",
        "tokens_out",
        "latency_ms",
    ):
        assert field in row
    assert row["provider"] == "openai" and row["customer"] == "acme"
    assert row["category"] in {
        "hardware_issue",
        "software_issue",
        "model_quality",
        "billing",
        "other",
    }
    summary = run.summary
    assert summary["done"] == 30 and summary["failed"] == 0
    # packed: far fewer calls than tickets
    assert summary["calls"] == upstream.stats.requests < 30
    assert summary["tokens_in"] == upstream.stats.tokens_in


def test_faults_are_retried_and_nothing_is_lost(tmp_path, upstream):
    upstream.script(
        Fault("429", retry_after=0.2),
        Fault("500"),
        Fault("503", retry_after="0"),
        Fault("timeout", delay=1.5),
        Fault("malformed"),
        Fault("partial", drop=2),
        Fault("invalid_label"),
        Fault("reset"),
        Fault("empty"),
    )
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(60))
    # five retries: even when every retryable fault lands on one pack (the two slots interleave
    # differently on a loaded machine) each fault is one retry, never an exhausted pack
    args = ("--timeout", "0.5", "--concurrency", "2", "--retries", "5", "--backoff", "0.05")
    run = forge("classify", str(src), *remote_args(upstream, *args))
    assert run.exit_code == 0, run.stderr
    _results, failures = assert_each_once(src, [f"T{n}" for n in range(1, 61)])
    assert failures == []
    s = run.summary
    assert s["rate_limited"] == 1
    # the scripted hang; on a loaded machine an ordinary call may also pass the 0.5 s timeout
    assert s["timeouts"] >= 1
    assert s["upstream_errors"] >= 3  # 500, 503, reset
    assert s["retries"] >= 5
    assert s["invalid_answers"] >= 3  # malformed, partial, invalid label (and empty)
    assert s["reasked"] >= 4


def test_partial_answer_reasks_only_the_missing_items(tmp_path, upstream):
    upstream.script(Fault("partial", drop=3))
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(10))
    run = forge("classify", str(src), *remote_args(upstream, "--pack", "10", "--concurrency", "1"))
    assert run.exit_code == 0, run.stderr
    records = upstream.stats.records
    assert len(records[0].texts) == 10
    missing = set(records[0].texts[:3])  # the simulator drops the first items
    asked_again = {t for r in records[1:] for t in r.texts}
    assert asked_again == missing
    assert all(len(r.texts) <= 3 for r in records[1:])  # only they, in a smaller pack
    assert_each_once(src, [f"T{n}" for n in range(1, 11)])


def test_items_that_keep_failing_end_in_failures_with_reason(tmp_path, upstream):
    poison = "POISON ticket that the model never answers"
    upstream.fault_when(
        lambda items: (
            Fault("invalid_label")
            if any(i["text"] == poison for i in items) and len(items) == 1
            else None
        )
    )
    upstream.fault_when(
        lambda items: (
            Fault("partial", drop=len(items))
            if any(i["text"] == poison for i in items) and len(items) > 1
            else None
        )
    )
    texts = [*distinct_texts(9), poison]
    src = write_tickets(tmp_path / "t.jsonl", texts)
    run = forge("classify", str(src), *remote_args(upstream, "--concurrency", "1"))
    assert run.exit_code == 1
    _results, failures = assert_each_once(src, [f"T{n}" for n in range(1, 11)])
    assert [f["id"] for f in failures] == ["T10"]
    failure = failures[0]
    assert failure["error"] == "InvalidResponseError"
    assert failure["line"] == 10 and failure["attempts"] >= 3
    assert failure.get("raw")


def test_breaker_opens_holds_work_and_closes_again(tmp_path, upstream):
    upstream.script(*[Fault("503") for _ in range(6)])
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(20))
    run = forge(
        "classify",
        str(src),
        *remote_args(
            upstream,
            "--concurrency",
            "1",
            "--retries",
            "10",
            "--breaker-threshold",
            "5",
            "--breaker-cooldown",
            "0.3",
        ),
    )
    assert run.exit_code == 0, run.stderr
    s = run.summary
    assert s["breaker_opened"] == 1 and s["breaker_closed"] == 1
    assert s["failed"] == 0
    assert_each_once(src, [f"T{n}" for n in range(1, 21)])


def test_twenty_percent_503_loses_nothing(tmp_path):
    with FakeUpstream(api_key=API_KEY, failure_rate=0.2, failure_status=503, seed=7) as server:
        src = write_tickets(tmp_path / "t.jsonl", distinct_texts(200))
        run = forge(
            "classify",
            str(src),
            *remote_args(server, "--pack", "1", "--concurrency", "16", "--breaker-cooldown", "0.2"),
        )
        assert server.stats.by_status.get(503, 0) > 20
    assert run.exit_code == 0, run.stderr
    results, failures = assert_each_once(src, [f"T{n}" for n in range(1, 201)])
    assert failures == [] and len(results) == 200


def test_rerun_pays_for_nothing_twice(tmp_path, upstream):
    texts = distinct_texts(40)
    src = write_tickets(tmp_path / "t.jsonl", texts)
    first = forge("classify", str(src), *remote_args(upstream))
    assert first.exit_code == 0
    paid = upstream.stats.items_answered
    assert paid == 40
    second = forge("classify", str(src), *remote_args(upstream))
    assert second.exit_code == 0
    assert upstream.stats.items_answered == paid  # no new item answered
    assert second.summary["calls"] == 0 and second.summary["cached"] == 40
    results, _ = assert_each_once(src, [f"T{n}" for n in range(1, 41)])
    assert all(r["cache_hit"] and r["tokens_in"] == 0 for r in results)
    # --no-cache really calls again
    third = forge("classify", str(src), *remote_args(upstream, "--no-cache"))
    assert third.summary["cached"] == 0 and upstream.stats.items_answered == 80


def test_duplicates_in_one_run_cost_one_call_even_in_flight(tmp_path):
    with FakeUpstream(api_key=API_KEY, latency=0.2) as server:
        base = distinct_texts(5)
        texts = [base[i % 5] + ("  " if i % 2 else "") for i in range(50)]  # whitespace variants
        src = write_tickets(tmp_path / "t.jsonl", texts)
        run = forge("classify", str(src), *remote_args(server, "--pack", "1", "--concurrency", "8"))
        assert run.exit_code == 0, run.stderr
        assert server.stats.items_answered == 5
    results, _ = assert_each_once(src, [f"T{n}" for n in range(1, 51)])
    assert sum(not r["cache_hit"] for r in results) == 5


def test_auth_error_stops_with_one_clear_line_and_no_key(tmp_path, monkeypatch):
    wrong = "sk-wrong-0123456789abcdefWRONGKEY"
    monkeypatch.setenv(KEY_ENV, wrong)
    with FakeUpstream(api_key=API_KEY) as server:
        src = write_tickets(tmp_path / "t.jsonl", distinct_texts(50))
        run = forge("classify", str(src), *remote_args(server, "--concurrency", "2"))
        assert server.stats.requests <= 2  # stopped at once, not retried
    assert run.exit_code == 2
    assert "authentication failed" in run.stderr and KEY_ENV in run.stderr
    assert "***" not in run.stderr  # not even the masked key the provider echoes
    everything = (
        run.stdout
        + run.stderr
        + "".join(p.read_text(errors="replace") for p in tmp_path.glob("t.*.jsonl"))
    )
    assert wrong not in everything and wrong[:12] not in everything
    # nothing is lost: every ticket is in the failures file, saying why it was not answered
    _, failures = assert_each_once(src, [f"T{n}" for n in range(1, 51)])
    assert {f["error"] for f in failures} == {"AuthError"}
    assert all("authentication failed" in f["message"] for f in failures)
    assert any(f["message"].startswith("not sent:") for f in failures)


def test_api_key_never_reaches_outputs_cache_or_logs(tmp_path, upstream):
    upstream.script(Fault("500"), Fault("malformed"))
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(25))
    run = forge("classify", str(src), *remote_args(upstream))
    assert run.exit_code == 0
    blobs = [run.stdout, run.stderr]
    for path in tmp_path.rglob("*"):
        if path.is_file():
            blobs.append(path.read_bytes().decode("latin-1"))
    assert not any(API_KEY in b for b in blobs)
    assert all(r.had_authorization for r in upstream.stats.records)


def test_reasoning_is_ignored_when_reading_labels(tmp_path, upstream):
    upstream.script(Fault("think"), Fault("reasoning"))
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(2))
    run = forge("classify", str(src), *remote_args(upstream, "--pack", "1", "--concurrency", "1"))
    assert run.exit_code == 0, run.stderr
    assert run.summary["invalid_answers"] == 0 and run.summary["calls"] == 2


def test_no_batch_barrier_slow_call_holds_one_slot_only(tmp_path, upstream):
    slow = "SLOW ticket that takes a long time"
    upstream.fault_when(
        lambda items: Fault("timeout", delay=1.0) if any(i["text"] == slow for i in items) else None
    )
    src = write_tickets(tmp_path / "t.jsonl", [slow, *distinct_texts(40)])
    run = forge("classify", str(src), *remote_args(upstream, "--pack", "1", "--concurrency", "4"))
    assert run.exit_code == 0, run.stderr
    records = upstream.stats.records
    slow_rec = next(r for r in records if slow in r.texts)
    during = [
        r
        for r in records
        if r is not slow_rec
        and slow_rec.timestamp < r.timestamp < slow_rec.timestamp + slow_rec.duration
    ]
    # the other three slots kept working while the slow call was out: nearly all other tickets
    assert len(during) >= 35


def test_custom_labels_reach_the_model_and_bind_the_answer(tmp_path):
    labels = ("bug", "question", "praise")
    with FakeUpstream(api_key=API_KEY, labels=labels) as server:
        src = write_tickets(tmp_path / "t.jsonl", distinct_texts(12))
        run = forge("classify", str(src), *remote_args(server, "--labels", "bug,question,praise"))
    assert run.exit_code == 0, run.stderr
    results, _ = outputs(src)
    assert {r["category"] for r in results} <= set(labels)


def test_csv_output_format(tmp_path, upstream):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(5), team="ops")
    run = forge("classify", str(src), *remote_args(upstream, "--format", "csv", "--out-dir", "out"))
    assert run.exit_code == 0, run.stderr
    text = (tmp_path / "out" / "t.results.csv").read_text()
    header = text.splitlines()[0]
    assert header.startswith("id,line,category,priority,summary")
    assert len(text.strip().splitlines()) == 6
    assert (tmp_path / "out" / "t.failures.csv").exists()
    assert orjson.loads(run.stdout.splitlines()[-1])["done"] == 5


def test_redact_keeps_secrets_and_pii_off_the_wire(tmp_path, upstream):
    key = "ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8"
    texts = [
        f"Our CI fails since we rotated the token {key}, please help",
        "Contact me at jane.doe@example.com or +1 415 555 0134 about invoice 77",
    ]
    src = write_tickets(tmp_path / "t.jsonl", texts)
    run = forge("classify", str(src), *remote_args(upstream, "--redact", "pii"))
    assert run.exit_code == 0, run.stderr
    sent = " ".join(t for r in upstream.stats.records for t in r.texts)
    assert key not in sent and "jane.doe@example.com" not in sent and "555 0134" not in sent
    assert "[REDACTED:github_token]" in sent and "[REDACTED:email]" in sent
    results, _ = outputs(src)
    assert all(key not in orjson.dumps(r).decode() for r in results)
