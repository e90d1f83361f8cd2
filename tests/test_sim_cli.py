"""The simulator as a user meets it: answering ``forge commit-msg`` on every wire, and its fault
flags (``--fault KIND[=RATE]``) in its own process, driven by ``forge`` in another."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, forge, read_jsonl
from forge_cli.testing.sim.commit_answers import default_commit_report
from forge_cli.testing.sim.fault_flags import RandomFaults, parse_fault
from forge_cli.testing.sim.server import FakeUpstream


def git(repo: Path, *args: str) -> None:
    subprocess.run(
        ["git", "-c", "user.name=T", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        capture_output=True,
        check=True,
    )


@pytest.mark.parametrize("wire", ["openai", "anthropic", "gemini", "cohere"])
def test_the_simulator_answers_commit_msg(tmp_path, monkeypatch, wire):
    git(tmp_path, "init", "-q", "-b", "main")
    (tmp_path / "parser.py").write_text("def parse(text):\n    return text.split()\n")
    git(tmp_path, "add", ".")
    monkeypatch.chdir(tmp_path)
    with FakeUpstream(api_key=API_KEY, wire=wire) as server:
        run = forge(
            "commit-msg",
            *("--provider", wire, "--base-url", server.base_url, "--api-key-env", KEY_ENV),
            *("--json", "--no-cache"),
        )
        sent = [t for r in server.stats.records for t in r.texts]
    assert run.exit_code == 0, run.stderr
    report = orjson.loads(run.stdout)
    expected = default_commit_report(sent[0])
    assert report["type"] == expected["type"] and report["scope"] == "parser"
    assert report["title"].endswith(": update parser.py")
    assert report["changes"] == ["change parser.py"]


def test_a_pack_that_mentions_commits_still_gets_a_classification(tmp_path):
    """Only the instructions choose the kind of answer, never a ticket's own words."""
    src = tmp_path / "t.jsonl"
    src.write_bytes(b'{"id": "T1", "text": "Please follow Conventional Commits in your repo"}\n')
    with FakeUpstream(api_key=API_KEY) as server:
        run = forge(
            "classify",
            str(src),
            *("--provider", "openai", "--base-url", server.base_url, "--api-key-env", KEY_ENV),
            *("--no-progress", "--no-cache"),
        )
    assert run.exit_code == 0, run.stderr
    assert "category" in read_jsonl(tmp_path / "t.results.jsonl")[0]


@contextmanager
def upstream_process(*flags: str) -> Iterator[str]:
    """``python -m forge_cli.testing.sim.upstream`` on a free port; yields its base URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "forge_cli.testing.sim.upstream", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, KEY_ENV: API_KEY},
    )
    try:
        assert proc.stdout is not None
        line: list[str] = []
        reader = threading.Thread(target=lambda: line.append(proc.stdout.readline()), daemon=True)
        reader.start()
        reader.join(30)  # a simulator that never starts fails the test instead of hanging it
        assert line and line[0].startswith("http://127.0.0.1:"), proc.stderr
        yield line[0].strip()
    finally:
        proc.terminate()
        proc.wait(10)


def classify_through(url: str, tmp_path: Path, *extra: str) -> tuple[int, list[dict]]:
    src = tmp_path / "t.jsonl"
    lines = [orjson.dumps({"id": f"T{i}", "text": f"ticket number {i}"}) for i in range(4)]
    src.write_bytes(b"\n".join(lines) + b"\n")
    run = subprocess.run(
        [
            *(sys.executable, "-m", "forge_cli", "classify", str(src), "--provider", "openai"),
            *("--base-url", url, "--api-key-env", KEY_ENV, "--no-progress", "--no-cache", *extra),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, KEY_ENV: API_KEY},
        cwd=tmp_path,
    )
    return run.returncode, read_jsonl(tmp_path / "t.failures.jsonl")


@pytest.mark.parametrize(
    ("flag", "error"),
    [("garbage", "InvalidResponseError"), ("invalid_label=1", "InvalidResponseError")],
)
def test_fault_flags_reach_the_answers(tmp_path, flag, error):
    with upstream_process("--api-key-env", KEY_ENV, "--fault", flag) as url:
        code, failures = classify_through(url, tmp_path, "--pack", "1")
    assert code == 1
    assert failures and all(f["error"] == error for f in failures), failures


def test_a_partial_fault_on_some_calls_is_re_asked(tmp_path):
    with upstream_process("--api-key-env", KEY_ENV, "--fault", "partial=0.3", "--seed", "3") as url:
        code, failures = classify_through(url, tmp_path, "--pack", "4")
    assert code == 0 and failures == []
    assert len(read_jsonl(tmp_path / "t.results.jsonl")) == 4


@pytest.mark.parametrize("flag", ["nonsense", "garbage=2", "partial=x"])
def test_a_bad_fault_flag_exits_2_with_one_line(flag):
    run = subprocess.run(
        [sys.executable, "-m", "forge_cli.testing.sim.upstream", "--port", "0", "--fault", flag],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert run.returncode == 2
    assert run.stderr.startswith("error: --fault") and len(run.stderr.strip().splitlines()) == 1


def test_random_faults_follow_their_rates():
    rule = RandomFaults([parse_fault("garbage=0.25"), parse_fault("partial")], seed=1)
    kinds = [fault.kind for fault in (rule([]) for _ in range(2000)) if fault is not None]
    assert len(kinds) == 2000  # "partial" with no rate catches every request garbage left
    assert 400 < kinds.count("garbage") < 600
