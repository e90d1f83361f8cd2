"""forge commit-msg against real git repositories in temporary folders."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, forge, read_jsonl
from forge_cli.testing.sim.server import FakeUpstream

TITLE = re.compile(
    r"^(feat|fix|docs|style|refactor|perf|test|build|ci|chore|revert)(\([a-z0-9_.\-/]+\))?!?: \S"
)
# built at run time so no scanner mistakes this file for a leak
FAKE_AWS = "AKIA" + "Q7XZ2KD9" + "PLM4RT8W"


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        text=True,
        check=True,
    ).stdout


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    (root / "README.md").write_text("# demo\n")
    git(root, "add", ".")
    git(root, "commit", "-qm", "initial")
    monkeypatch.chdir(root)
    return root


def commit_answers(items: list[dict]) -> list[dict]:
    return [
        {
            "id": i["id"],
            "type": "feat",
            "scope": "Parser",
            "breaking": False,
            "subject": "Add a tolerant config parser.",
            "summary": "Adds a parser.",
            "changes": ["add parser", "- test it"],
        }
        for i in items
    ]


def stage_feature(repo: Path) -> None:
    src = repo / "src" / "app"
    src.mkdir(parents=True)
    (src / "parser.py").write_text(
        "class ConfigParser:\n    def parse(self, text):\n        return dict(line.split('=') for line in text.splitlines())\n"
    )
    git(repo, "add", ".")


def test_not_a_repo_and_nothing_staged_exit_2(tmp_path, repo, monkeypatch):
    run = forge("commit-msg")
    assert run.exit_code == 2 and "nothing staged" in run.stderr
    elsewhere = tmp_path / "plain"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    run = forge("commit-msg")
    assert run.exit_code == 2 and "not a git repository" in run.stderr


def test_offline_message_for_staged_changes(repo):
    stage_feature(repo)
    run = forge("commit-msg")
    assert run.exit_code == 0, run.stderr
    title, blank, *body = run.stdout.splitlines()
    assert TITLE.match(title) and len(title) <= 72
    assert blank == "" and body and all(line.startswith(("- ", "  ")) for line in body)
    report = orjson.loads(forge("commit-msg", "--json").stdout)
    assert set(report) == {"title", "type", "scope", "breaking", "summary", "changes"}
    assert report["title"] == title


def test_diff_from_file_and_stdin(repo, tmp_path):
    stage_feature(repo)
    diff = git(repo, "diff", "--cached")
    path = tmp_path / "change.diff"
    path.write_text(diff)
    from_file = forge("commit-msg", "--diff", str(path))
    assert from_file.exit_code == 0 and TITLE.match(from_file.stdout)
    proc = subprocess.run(
        [sys.executable, "-m", "forge_cli", "commit-msg", "--diff", "-"],
        input=diff,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        check=False,
    )
    assert proc.returncode == 0 and proc.stdout == from_file.stdout


def test_secrets_never_leave_show_prompt_and_redactions(repo):
    (repo / ".env").write_text(f"AWS_ACCESS_KEY_ID={FAKE_AWS}\nDEBUG=1\n")
    git(repo, "add", ".")
    run = forge("commit-msg", "--show-prompt", "--show-redactions")
    assert run.exit_code == 0, run.stderr
    assert FAKE_AWS not in run.stdout and FAKE_AWS not in run.stderr
    assert "[REDACTED:aws_access_key]" in run.stdout
    assert "--- system ---" in run.stdout and ".env" in run.stdout  # the file list is there
    assert "aws_access_key" in run.stderr and "line" in run.stderr


def test_model_answer_cache_and_no_secret_on_the_wire(repo, monkeypatch):
    (repo / "settings.py").write_text(f'AWS_KEY = "{FAKE_AWS}"\n')
    git(repo, "add", ".")
    with FakeUpstream(api_key=API_KEY, responder=commit_answers) as server:
        args = [
            "commit-msg",
            "--provider",
            "openai",
            "--base-url",
            server.base_url,
            "--api-key-env",
            KEY_ENV,
            "--json",
        ]
        first = forge(*args)
        assert first.exit_code == 0, first.stderr
        report = orjson.loads(first.stdout)
        assert report["title"] == "feat(parser): add a tolerant config parser"
        assert report["changes"] == ["add parser", "test it"]
        assert server.stats.requests == 1
        assert all(FAKE_AWS not in t for r in server.stats.records for t in r.texts)
        again = forge(*args)
        assert again.stdout == first.stdout
        assert server.stats.requests == 1  # the same diff: from the cache, no call


def test_invalid_model_answers_fail_clearly(repo):
    stage_feature(repo)
    bad = lambda items: [{"id": i["id"], "type": "feature", "subject": "x"} for i in items]  # noqa: E731
    with FakeUpstream(api_key=API_KEY, responder=bad) as server:
        run = forge(
            "commit-msg",
            "--provider",
            "openai",
            "--base-url",
            server.base_url,
            "--api-key-env",
            KEY_ENV,
            "--backoff",
            "0",
        )
    assert run.exit_code == 2
    assert "not a Conventional type" in run.stderr


def test_range_reports_every_commit_through_the_pipeline(repo):
    base = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "checkout", "-qb", "feature")
    (repo / "docs").mkdir()
    (repo / "docs" / "guide.md").write_text("# Guide\n\nHow to use it.\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "docs")
    stage_feature(repo)
    git(repo, "commit", "-qm", "feature")
    git(repo, "checkout", "-q", "main")
    (repo / "run.sh").write_text("#!/bin/sh\necho hi\n")
    git(repo, "add", ".")
    git(repo, "commit", "-qm", "script")
    script = git(repo, "rev-parse", "HEAD").strip()
    git(repo, "merge", "-q", "--no-ff", "feature", "-m", "Merge branch 'feature'")
    git(repo, "revert", "--no-edit", script)
    run = forge(
        "commit-msg",
        "--range",
        f"{base}..HEAD",
        "--no-progress",
        "--json-summary",
        "--out-dir",
        "reports",
    )
    assert run.exit_code == 0, run.stderr
    rows = read_jsonl(repo / "reports" / "commits.results.jsonl")
    assert len(rows) == 5 and read_jsonl(repo / "reports" / "commits.failures.jsonl") == []
    by_subject = {r["original_subject"]: r for r in rows}
    assert by_subject["docs"]["type"] == "docs"
    assert by_subject["Merge branch 'feature'"]["title"].startswith("chore")
    assert by_subject['Revert "script"']["type"] == "revert"
    assert all(TITLE.match(r["title"]) for r in rows)
    summary = orjson.loads(run.stdout.splitlines()[-1])
    assert summary["done"] == 5


def test_redact_command(tmp_path):
    path = tmp_path / "config.yaml"
    path.write_text(f"aws_key: {FAKE_AWS}\nname: demo\n")
    run = forge("redact", str(path), "--show-redactions")
    assert run.exit_code == 0
    assert FAKE_AWS not in run.stdout and "[REDACTED:aws_access_key]" in run.stdout
    assert "name: demo" in run.stdout
    assert FAKE_AWS not in run.stderr and "aws_access_key" in run.stderr
