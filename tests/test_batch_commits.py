"""``forge commit-msg --range A..B --batch`` and ``forge jobs status`` on the simulator."""

from __future__ import annotations

import subprocess
from pathlib import Path

import orjson

from batch_support import rows
from conftest import API_KEY, KEY_ENV, forge
from forge_cli.testing.sim.server import FakeUpstream


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def test_range_in_batch_mode_with_no_wait_then_jobs_collect(tmp_path: Path, monkeypatch) -> None:
    repo = tmp_path / "repo"
    repo.mkdir()
    git(repo, "init", "-q", "-b", "main")
    (repo / "README.md").write_text("# demo\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "initial")
    base = git(repo, "rev-parse", "HEAD").strip()
    for n in range(6):
        (repo / f"mod{n}.py").write_text(f"def f{n}():\n    return {n}\n")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", f"add mod{n}")
    monkeypatch.chdir(repo)
    with FakeUpstream(api_key=API_KEY) as server:
        server.batches.clock.validating = 3600
        args = [
            "commit-msg",
            "--range",
            f"{base}..HEAD",
            "--provider",
            "openai",
            "--base-url",
            server.base_url,
            "--api-key-env",
            KEY_ENV,
            "--batch",
            "--batch-poll",
            "0.05",
            "--no-progress",
        ]
        first = forge(*args, "--no-wait", "--json-summary")
        assert first.exit_code == 0, first.stderr
        pending = orjson.loads(first.stdout.strip().splitlines()[-1])
        assert pending["batch"] == "pending" and len(pending["jobs"]) == 1
        (job,) = server.batches.jobs.values()
        assert len(job.lines) == 6  # one commit a request, as --range packs them

        status = forge("jobs", "status", "--json")
        assert status.exit_code == 0, status.stderr
        assert "validating" in status.stdout

        job.clock.validating = 0
        collect = forge("jobs", "collect", str(repo / "commits.jobs.json"))
        assert collect.exit_code == 0, collect.stderr
        assert server.batches.creates == 1 and server.stats.requests == 0
    results = rows(repo / "commits.results.jsonl")
    assert len(results) == 6 and all(r["title"] for r in results)
    assert rows(repo / "commits.failures.jsonl") == []
    assert not (repo / "commits.jobs.json").exists()
