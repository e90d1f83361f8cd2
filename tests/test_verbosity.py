"""``-q`` and ``-v`` as a user runs them: real processes against the simulator on 127.0.0.1.

``-v`` must show what went over the wire when a provider misbehaves, and never a key: not in the
Authorization header, not as a password in ``--base-url``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx

from conftest import API_KEY, distinct_texts, remote_args, write_tickets
from forge_cli.providers.exchange_log import masked_headers, masked_url
from forge_cli.testing.sim.server import FakeUpstream


def forge_proc(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forge_cli", *args],
        cwd=cwd,
        env=dict(os.environ),
        capture_output=True,
        text=True,
        timeout=120,
        stdin=subprocess.DEVNULL,
    )


def with_password(base_url: str, password: str) -> str:
    return base_url.replace("http://", f"http://proxyuser:{password}@", 1)


def test_verbose_shows_each_exchange_with_keys_masked(tmp_path: Path, upstream: FakeUpstream):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(4))
    args = remote_args(upstream, "--pack", "1", "--concurrency", "1")
    done = forge_proc("classify", str(src), *args, "-v", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    exchanges = [line for line in done.stderr.splitlines() if line.startswith("forge: http: ")]
    assert len(exchanges) == 4, done.stderr
    for line in exchanges:
        assert line.startswith(f"forge: http: POST {upstream.base_url}/chat/completions -> 200 in ")
        assert " ms | sent " in line and " | got " in line
        assert "authorization: ***" in line.lower()
        assert "content-type: application/json" in line.lower()
    assert API_KEY not in done.stderr and API_KEY not in done.stdout


def test_verbose_masks_a_password_in_the_base_url(tmp_path: Path, upstream: FakeUpstream):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(1))
    password = "hunter2-proxy-pass"
    args = remote_args(upstream, "--retries", "0")
    args[args.index("--base-url") + 1] = with_password(upstream.base_url, password)
    # httpx sends the URL's user:password as Basic auth, which the simulator refuses: the
    # point here is what -v prints of that exchange
    done = forge_proc("classify", str(src), *args, "-v", cwd=tmp_path)
    exchanges = [line for line in done.stderr.splitlines() if line.startswith("forge: http: ")]
    assert exchanges and exchanges[0].startswith(
        "forge: http: POST http://proxyuser:***@127.0.0.1:"
    )
    assert password not in done.stderr and API_KEY not in done.stderr


def test_verbose_before_the_command_too_and_failures_are_shown(tmp_path: Path):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(1))
    with FakeUpstream(api_key=API_KEY) as server:
        dead = server.base_url
        args = remote_args(server, "--retries", "0")
    # nothing listens there any more: the exchange has no answer, and -v says why
    done = forge_proc("-v", "classify", str(src), *args, cwd=tmp_path)
    assert done.returncode in (1, 2), done.stderr
    assert "forge: http: POST " + dead in done.stderr
    assert "-> no answer (" in done.stderr
    assert API_KEY not in done.stderr


def test_quiet_keeps_stderr_to_errors(tmp_path: Path, upstream: FakeUpstream):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(3))
    (tmp_path / "t.results.jsonl").write_text("")  # an earlier run's: normally a notice
    quiet = forge_proc("classify", str(src), "-q", cwd=tmp_path)
    assert quiet.returncode == 0
    assert quiet.stderr == ""
    loud = forge_proc("classify", str(src), cwd=tmp_path)
    assert loud.returncode == 0 and "offline" in loud.stderr
    # an error still shows, in one line
    missing = forge_proc("-q", "classify", "nope.jsonl", cwd=tmp_path)
    assert missing.returncode == 2 and "nope.jsonl" in missing.stderr


def test_masking_rules() -> None:
    assert masked_url("https://h/v1beta/models?key=AIzaSECRET&alt=sse") == (
        "https://h/v1beta/models?key=***&alt=sse"
    )
    headers = httpx.Headers(
        {"Authorization": "Bearer sk-1", "x-api-key": "k2", "api-key": "k3", "x-goog-api-key": "k4"}
    )
    shown = masked_headers(headers.multi_items())
    assert "sk-1" not in shown and "k2" not in shown and "k3" not in shown and "k4" not in shown
    assert shown.count("***") == 4


def test_quiet_bench_prints_its_table_and_nothing_else(tmp_path: Path):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(6))
    args = ["--packs", "2", "--concurrency", "2", "--repeat", "1", "--latency", "0"]
    quiet = forge_proc("-q", "bench", str(src), *args, cwd=tmp_path)
    assert quiet.returncode == 0, quiet.stderr
    assert quiet.stderr == ""
    assert "forge bench (medians)" in quiet.stdout
    assert (tmp_path / "bench.json").exists()
    loud = forge_proc("bench", str(src), *args, cwd=tmp_path)
    assert "fastest" in loud.stderr and "wrote" in loud.stderr
