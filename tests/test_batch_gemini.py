"""Batch mode through Gemini's Batch Mode on the simulator: several batches over thousands of
tickets, a batch found again after a run was killed mid-create, expiry with partial results,
cancel, answers matched by position when the metadata does not come back, and the wire's shapes."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from batch_support import (
    batch_args,
    exactly_once,
    journal,
    run_forge,
    spawn,
    tickets,
    wait_for,
)
from conftest import API_KEY, forge
from forge_cli.core.errors import InvalidResponseError
from forge_cli.providers.gemini_batch import inlined_responses, parse_operation
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=API_KEY, wire="gemini") as server:
        yield server


def _args(server: FakeUpstream, *extra: str) -> list[str]:
    return batch_args(server.base_url, *extra, provider="gemini", model=None)


def test_ten_thousand_tickets_across_several_batches(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 10_000)
    run = run_forge(
        tmp_path, "classify", "t.jsonl", *_args(upstream, "--batch-max-requests", "150")
    )
    assert run.returncode == 0, run.stderr
    assert exactly_once(tmp_path, 10_000) == []
    jobs = list(upstream.batches.jobs.values())
    assert upstream.batches.creates == len(jobs) >= 3
    assert all(len(job.lines) <= 150 for job in jobs)
    assert all(job.status == "completed" for job in jobs)
    assert upstream.stats.requests == 0  # nothing asked synchronously
    # each request is the synchronous generateContent body: system instruction, JSON schema
    request = jobs[0].lines[0].body
    config = request["generationConfig"]
    assert request["systemInstruction"]["parts"][0]["text"]
    assert config["responseMimeType"] == "application/json" and config["responseSchema"]
    assert config["thinkingConfig"] == {"thinkingBudget": 0}  # gemini-2.5-flash, as synchronously
    # but no log probabilities: gemini-2.5 refuses them, and would fail every request of the job
    assert "responseLogprobs" not in config
    assert all(line.custom_id for job in jobs for line in job.lines)  # metadata.key sent
    assert all(job.metadata["displayName"].startswith("forge-") for job in jobs)
    assert all(job.metadata["model"] == "gemini-2.5-flash" for job in jobs)
    assert not (tmp_path / "t.jobs.json").exists()


def test_a_batch_created_before_a_kill_is_found_by_its_display_name(
    tmp_path: Path, upstream
) -> None:
    tickets(tmp_path / "t.jsonl", 50)
    upstream.batches.clock.validating = 3600
    args = ["classify", "t.jsonl", *_args(upstream)]
    assert forge(*args, "--no-wait").exit_code == 0
    path = tmp_path / "t.jobs.json"
    data = orjson.loads(path.read_bytes())
    (entry,) = data["jobs"]
    batch_id = entry["batch_id"]
    assert batch_id.startswith("batches/")
    # as if killed after the create call reached Google but before the id was written down
    entry.update(state="creating", batch_id=None)
    path.write_bytes(orjson.dumps(data))
    upstream.batches.jobs[batch_id].clock.validating = 0
    run = forge(*args)
    assert run.exit_code == 0, run.stderr
    assert upstream.batches.creates == 1
    assert exactly_once(tmp_path, 50) == []
    assert upstream.stats.requests == 0


def test_expired_batch_with_partial_results_and_cancelled_batch(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 200)
    service = upstream.batches
    service.expired_results = True
    clock = service.clock
    clock.per_request, clock.window = 0.05, 0.2
    run = forge("classify", "t.jsonl", *_args(upstream))
    assert run.exit_code == 0, run.stderr
    (job,) = service.jobs.values()
    assert job.status == "expired" and 0 < job.done < len(job.lines)
    assert exactly_once(tmp_path, 200) == []
    # what the batch answered was kept; only what it never ran was asked synchronously
    assert 0 < upstream.stats.requests <= len(job.lines) - job.done + 2

    (tmp_path / "u").mkdir()
    tickets(tmp_path / "u" / "t.jsonl", 30, prefix="other")
    clock.per_request, clock.window, clock.validating = 0.0, 24 * 3600.0, 3600
    args = ["classify", "u/t.jsonl", *_args(upstream)]
    assert forge(*args, "--no-wait").exit_code == 0
    cancel = forge("jobs", "cancel", "u/t.jobs.json")
    assert cancel.exit_code == 0, cancel.stderr
    collect = forge("jobs", "collect", "u/t.jobs.json")
    assert collect.exit_code == 0, collect.stderr
    last = max(service.jobs.values(), key=lambda j: j.created)
    assert last.status == "cancelled" and service.creates == 2
    assert exactly_once(tmp_path / "u", 30) == []


def test_responses_without_their_metadata_are_matched_by_position(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 120)
    upstream.batches.echo_metadata = False
    run = forge("classify", "t.jsonl", *_args(upstream, "--batch-max-requests", "3"))
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 120) == []
    assert upstream.stats.requests == 0
    assert upstream.batches.creates >= 2


def test_dry_run_shows_half_the_gemini_price(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 100)
    args = [a for a in _args(upstream) if a != "--batch"]
    run = forge("classify", "t.jsonl", *args, "--dry-run", "--json-summary")
    assert run.exit_code == 0, run.stderr
    plan = orjson.loads(run.stdout.strip().splitlines()[-1])
    assert plan["cost_usd"] > 0
    assert plan["cost_usd_batch"] == pytest.approx(plan["cost_usd"] / 2, rel=1e-3)
    assert upstream.batches.creates == 0 and upstream.stats.requests == 0


def test_sigkill_after_submit_and_mid_collect_then_resume(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 400)
    service = upstream.batches
    service.clock.validating = 3600  # batches wait until the test lets them go
    args = ["classify", "t.jsonl", *_args(upstream, "--batch-max-requests", "5")]
    path = tmp_path / "t.jobs.json"

    def submitted() -> bool:
        data = journal(path)
        return bool(data and data["jobs"] and all(j["batch_id"] for j in data["jobs"]))

    proc = spawn(tmp_path, *args)
    wait_for(submitted, "every batch submitted")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    created = service.creates
    assert created == len(journal(path)["jobs"]) >= 4

    jobs = sorted(service.jobs.values(), key=lambda job: job.created)
    for job in jobs[:-1]:
        job.clock.validating = 0
    proc = spawn(tmp_path, *args)

    def some_collected() -> bool:
        data = journal(path)
        return bool(data) and any(j["state"] == "collected" for j in data["jobs"])

    wait_for(some_collected, "a batch collected")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    jobs[-1].clock.validating = 0

    run = forge(*args)
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 400) == []
    assert service.creates == created  # resumed twice, never submitted again
    assert upstream.stats.requests == 0


def test_a_request_that_failed_in_the_batch_is_asked_again(tmp_path: Path, upstream) -> None:
    tickets(tmp_path / "t.jsonl", 40)
    upstream.script(Fault("500"))  # the batch's first request answers an error Status
    run = forge("classify", "t.jsonl", *_args(upstream))
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 40) == []
    assert upstream.stats.requests >= 1  # its pack, asked synchronously
    assert upstream.batches.creates == 1


def test_the_shapes_the_wire_is_read_in() -> None:
    """The state's two spellings, and the three places results were seen documented."""
    operation = {
        "name": "batches/abc",
        "metadata": {
            "state": "JOB_STATE_SUCCEEDED",
            "createTime": "2026-12-01T10:00:00.5Z",
            "batchStats": {"requestCount": "3", "successfulRequestCount": "2"},
        },
        "done": True,
    }
    job = parse_operation(operation)
    assert (job.status, job.total, job.completed) == ("completed", 3, 2)
    assert job.expires_at == job.created_at + 48 * 3600
    expired = {
        "name": "batches/x",
        "metadata": {
            "state": "BATCH_STATE_EXPIRED",
            "batchStats": {"pendingRequestCount": "4", "failedRequestCount": "1"},
        },
    }
    assert (parse_operation(expired).status, parse_operation(expired).failed) == ("expired", 5)
    items = [{"response": {}}]
    wrapped = {"inlinedResponses": {"inlinedResponses": items}}
    assert inlined_responses({"metadata": {"output": wrapped}}) == items
    assert inlined_responses({"response": {"inlinedResponses": items}}) == items
    assert inlined_responses({"response": {"output": wrapped}}) == items
    with pytest.raises(InvalidResponseError, match="unexpected batch name"):
        parse_operation({"name": "batches/../files/x"})
