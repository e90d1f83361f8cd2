"""``forge classify --batch`` against the simulator's Batch API on 127.0.0.1: several jobs, the
journal, resuming after SIGKILL, expiry, cancel, re-asks, and providers without a batch API."""

from __future__ import annotations

import signal
from pathlib import Path

import orjson
import pytest

from batch_support import (
    batch_args,
    exactly_once,
    ids_of,
    journal,
    rows,
    run_forge,
    spawn,
    tickets,
    wait_for,
)
from conftest import API_KEY, forge
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream


@pytest.fixture
def upstream() -> FakeUpstream:
    with FakeUpstream(api_key=API_KEY) as server:
        yield server


def _outputs(tmp_path: Path, stem: str = "t") -> tuple[list[str], list[str]]:
    return ids_of(tmp_path / f"{stem}.results.jsonl"), ids_of(tmp_path / f"{stem}.failures.jsonl")


def test_ten_thousand_tickets_across_several_jobs(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 10_000)
    args = batch_args(upstream.base_url, "--batch-max-requests", "100")
    run = run_forge(tmp_path, "classify", "t.jsonl", *args)
    assert run.returncode == 0, run.stderr
    assert exactly_once(tmp_path, 10_000) == []
    jobs = upstream.batches.jobs.values()
    requests = sum(len(job.lines) for job in jobs)
    # packs of 10 to 20 tickets, at most 100 requests a job: several jobs, none over the limit
    assert upstream.batches.creates == len(jobs) == -(-requests // 100) >= 5
    assert all(len(job.lines) <= 100 for job in jobs)
    assert upstream.stats.requests == 0  # nothing asked synchronously
    assert not (tmp_path / "t.jobs.json").exists()  # the run finished: the journal is spent
    first = rows(tmp_path / "t.results.jsonl")[0]
    assert first["provider"] == "openai" and first["category"]


def test_same_answers_as_the_synchronous_run(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 60)
    assert forge("classify", "t.jsonl", *batch_args(upstream.base_url)).exit_code == 0
    batch = {r["id"]: (r["category"], r["priority"]) for r in rows(tmp_path / "t.results.jsonl")}
    sync_dir = tmp_path / "sync"
    args = [a for a in batch_args(upstream.base_url) if a != "--batch"]
    run = forge("classify", "t.jsonl", *args, "--no-cache", "--out-dir", str(sync_dir))
    assert run.exit_code == 0, run.stderr
    sync = {r["id"]: (r["category"], r["priority"]) for r in rows(sync_dir / "t.results.jsonl")}
    assert batch == sync


def test_sigkill_after_submit_and_mid_collect_then_resume(
    tmp_path: Path, upstream: FakeUpstream
) -> None:
    tickets(tmp_path / "t.jsonl", 400)
    service = upstream.batches
    service.clock.validating = 3600  # jobs wait until the test lets them go
    args = ["classify", "t.jsonl", *batch_args(upstream.base_url, "--batch-max-requests", "5")]
    path = tmp_path / "t.jobs.json"

    def submitted() -> bool:
        data = journal(path)
        return bool(data and data["jobs"] and all(j["batch_id"] for j in data["jobs"]))

    proc = spawn(tmp_path, *args)
    wait_for(submitted, "every job submitted")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    created = service.creates
    assert created == len(journal(path)["jobs"]) >= 4  # 20 to 40 packs, five a job

    # let all but the last job finish, and kill forge again once it has collected some
    jobs = sorted(service.jobs.values(), key=lambda job: job.created)
    for job in jobs[:-1]:
        job.clock.validating = 0
    proc = spawn(tmp_path, *args)

    def some_collected() -> bool:
        data = journal(path)
        return bool(data) and any(j["state"] == "collected" for j in data["jobs"])

    wait_for(some_collected, "a job collected")
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert not (tmp_path / "t.results.jsonl").exists()
    jobs[-1].clock.validating = 0

    run = forge(*args)
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 400) == []
    assert service.creates == created  # resumed twice, never submitted again
    assert upstream.stats.requests == 0


def test_a_create_that_reached_the_provider_is_found_not_repeated(
    tmp_path: Path, upstream: FakeUpstream
) -> None:
    """Killed after the create call reached the provider, before the id was written down."""
    tickets(tmp_path / "t.jsonl", 50)
    upstream.batches.clock.validating = 3600
    args = ["classify", "t.jsonl", *batch_args(upstream.base_url)]
    assert forge(*args, "--no-wait").exit_code == 0
    path = tmp_path / "t.jobs.json"
    data = orjson.loads(path.read_bytes())
    (entry,) = data["jobs"]
    batch_id = entry["batch_id"]
    entry.update(state="creating", batch_id=None, status="not submitted")
    path.write_bytes(orjson.dumps(data))
    upstream.batches.jobs[batch_id].clock.validating = 0

    run = forge(*args)
    assert run.exit_code == 0, run.stderr
    assert "created by an interrupted run" in run.stderr
    assert upstream.batches.creates == 1
    assert exactly_once(tmp_path, 50) == []


def test_a_failed_create_is_resumed_without_a_second_upload(
    tmp_path: Path, upstream: FakeUpstream
) -> None:
    """The provider fails every create attempt after the upload: the run stops with the job
    recorded as uploaded and being created; the next run finds no job and creates it once."""
    tickets(tmp_path / "t.jsonl", 30)
    upstream.batches.fail_creates = 4  # every attempt of the first run
    args = ["classify", "t.jsonl", *batch_args(upstream.base_url)]
    first = forge(*args)
    assert first.exit_code == 2 and "HTTP 500" in first.stderr
    (entry,) = orjson.loads((tmp_path / "t.jobs.json").read_bytes())["jobs"]
    assert entry["state"] == "creating" and entry["file_id"] and entry["batch_id"] is None
    assert (upstream.batches.uploads, upstream.batches.creates) == (1, 0)

    again = forge(*args)
    assert again.exit_code == 0, again.stderr
    assert (upstream.batches.uploads, upstream.batches.creates) == (1, 1)
    assert exactly_once(tmp_path, 30) == []


def test_expired_job_gives_back_its_unanswered_records(
    tmp_path: Path, upstream: FakeUpstream
) -> None:
    tickets(tmp_path / "t.jsonl", 200)
    clock = upstream.batches.clock
    clock.per_request, clock.window = 0.05, 0.2  # 10 requests; about 4 done when it expires
    run = forge("classify", "t.jsonl", *batch_args(upstream.base_url, "--json-summary"))
    assert run.exit_code == 0, run.stderr
    (job,) = upstream.batches.jobs.values()
    assert job.status == "expired"
    assert 0 < job.done < len(job.lines)
    assert exactly_once(tmp_path, 200) == []
    answered_in_batch = sum(1 for _, status, _ in job.answered if status == 200) and sum(
        len(orjson.loads(orjson.loads(body)["choices"][0]["message"]["content"])["results"])
        for _, status, body in job.answered
    )
    assert run.summary["cached"] == answered_in_batch  # batch answers arrive through the cache
    assert upstream.stats.items_answered == 200 - answered_in_batch  # the rest asked again


def test_cancelled_job_then_collect(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 100)
    upstream.batches.clock.validating = 3600
    args = ["classify", "t.jsonl", *batch_args(upstream.base_url)]
    assert forge(*args, "--no-wait").exit_code == 0
    listed = forge("jobs", "list", "--json")
    assert listed.exit_code == 0
    assert "not created" not in listed.stdout and "validating" in listed.stdout

    cancel = forge("jobs", "cancel", "t.jobs.json")
    assert cancel.exit_code == 0, cancel.stderr
    (job,) = upstream.batches.jobs.values()
    assert job.status == "cancelled"

    collect = forge("jobs", "collect", "t.jobs.json")
    assert collect.exit_code == 0, collect.stderr
    assert exactly_once(tmp_path, 100) == []
    assert upstream.batches.creates == 1
    assert upstream.stats.items_answered == 100  # every record asked synchronously instead


def test_invalid_answer_is_asked_again_synchronously(
    tmp_path: Path, upstream: FakeUpstream
) -> None:
    tickets(tmp_path / "t.jsonl", 40)
    upstream.script(Fault("invalid_label"))  # the first request of the job: one label off
    run = forge("classify", "t.jsonl", *batch_args(upstream.base_url))
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 40) == []
    assert upstream.stats.requests == 1 and upstream.stats.items_answered == 1


def test_invalid_answer_in_a_follow_up_batch(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 40)
    upstream.script(Fault("partial", drop=3))  # three items missing from one answer
    run = forge("classify", "t.jsonl", *batch_args(upstream.base_url, "--batch-reask", "batch"))
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 40) == []
    assert upstream.batches.creates == 2
    assert upstream.stats.requests == 0


@pytest.mark.parametrize("provider", ["offline", "cohere", "mistral"])
def test_providers_without_a_batch_api(tmp_path: Path, provider: str) -> None:
    tickets(tmp_path / "t.jsonl", 3)
    run = forge(
        "classify",
        "t.jsonl",
        "--provider",
        provider,
        "--api-key-env",
        "FORGE_TEST_API_KEY",
        "--batch",
    )
    assert run.exit_code == 2
    assert "has no batch API" in run.stderr
    assert not (tmp_path / "t.jobs.json").exists()


def test_stdin_and_no_cache_are_refused(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 3)
    run = forge("classify", "t.jsonl", *batch_args(upstream.base_url, "--no-cache"))
    assert run.exit_code == 2 and "needs the cache" in run.stderr
    assert upstream.batches.creates == 0


def test_dry_run_shows_the_batch_price(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 100)
    args = [a for a in batch_args(upstream.base_url) if a != "--batch"]
    run = forge("classify", "t.jsonl", *args, "--dry-run", "--json-summary")
    assert run.exit_code == 0, run.stderr
    plan = orjson.loads(run.stdout.strip().splitlines()[-1])
    assert plan["cost_usd_batch"] == pytest.approx(plan["cost_usd"] / 2, rel=1e-3)
    assert upstream.batches.creates == 0


def test_groq_batches_through_the_openai_shape(tmp_path: Path, upstream: FakeUpstream) -> None:
    tickets(tmp_path / "t.jsonl", 30)
    args = batch_args(upstream.base_url, provider="groq", model="llama-3.1-8b-instant")
    run = forge("classify", "t.jsonl", *args)
    assert run.exit_code == 0, run.stderr
    assert exactly_once(tmp_path, 30) == []
    assert upstream.batches.creates == 1 and upstream.stats.requests == 0
    plan = forge("classify", "t.jsonl", *args, "--dry-run", "--json-summary")
    doc = orjson.loads(plan.stdout.splitlines()[-1])
    assert doc["cost_usd_batch"] == pytest.approx(doc["cost_usd"] / 2, rel=0.01)
