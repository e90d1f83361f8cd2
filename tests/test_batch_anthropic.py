"""Batch mode through Anthropic's Message Batches on the simulator: several batches, a batch
found again after a run was killed mid-create, expiry, cancel, and the wire's shapes."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from batch_support import batch_args, exactly_once, ids_of, run_forge, tickets
from conftest import API_KEY, forge
from forge_cli.testing.sim.server import FakeUpstream


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=API_KEY, wire="anthropic") as server:
        yield server


def _args(server: FakeUpstream, *extra: str) -> list[str]:
    return batch_args(server.base_url, *extra, provider="anthropic", model=None)


def test_ten_thousand_tickets_across_several_batches(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 10_000)
    run = run_forge(
        tmp_path, "classify", "t.jsonl", *_args(upstream, "--batch-max-requests", "200")
    )
    assert run.returncode == 0, run.stderr
    assert exactly_once(tmp_path, 10_000) == []
    jobs = list(upstream.batches.jobs.values())
    assert upstream.batches.creates == len(jobs) >= 3
    assert all(len(job.lines) <= 200 for job in jobs)
    assert upstream.stats.requests == 0
    # the requests carried what a synchronous call carries: the forced answer tool and its schema
    params = jobs[0].lines[0].body
    assert params["tool_choice"]["type"] == "tool" and params["tools"][0]["input_schema"]


def test_a_batch_created_before_a_kill_is_found_by_size_and_time(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 50)
    upstream.batches.clock.validating = 3600
    args = ["classify", "t.jsonl", *_args(upstream)]
    assert forge(*args, "--no-wait").exit_code == 0
    path = tmp_path / "t.jobs.json"
    data = orjson.loads(path.read_bytes())
    (entry,) = data["jobs"]
    batch_id = entry["batch_id"]
    entry.update(state="creating", batch_id=None)
    path.write_bytes(orjson.dumps(data))
    upstream.batches.jobs[batch_id].clock.validating = 0
    run = forge(*args)
    assert run.exit_code == 0, run.stderr
    assert upstream.batches.creates == 1
    assert exactly_once(tmp_path, 50) == []


def test_expired_batch_and_cancelled_batch(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 200)
    clock = upstream.batches.clock
    clock.per_request, clock.window = 0.05, 0.2
    run = forge("classify", "t.jsonl", *_args(upstream))
    assert run.exit_code == 0, run.stderr
    (job,) = upstream.batches.jobs.values()
    assert job.status == "expired" and 0 < job.done < len(job.lines)
    assert exactly_once(tmp_path, 200) == []
    assert upstream.stats.requests > 0  # what expired was asked synchronously

    (tmp_path / "u").mkdir()
    tickets(tmp_path / "u" / "t.jsonl", 30, prefix="other")
    clock.per_request, clock.window, clock.validating = 0.0, 24 * 3600.0, 3600
    args = ["classify", "u/t.jsonl", *_args(upstream)]
    assert forge(*args, "--no-wait").exit_code == 0
    cancel = forge("jobs", "cancel", "u/t.jobs.json")
    assert cancel.exit_code == 0, cancel.stderr
    collect = forge("jobs", "collect", "u/t.jobs.json")
    assert collect.exit_code == 0, collect.stderr
    last = max(upstream.batches.jobs.values(), key=lambda j: j.created)
    assert last.status == "cancelled" and upstream.batches.creates == 2
    assert len(ids_of(tmp_path / "u" / "t.results.jsonl")) == 30
