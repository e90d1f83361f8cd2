"""Dead, hung and hostile providers: every run ends, says why in one line, and accounts for every record.

Each case runs a real ``python -m forge_cli classify`` (or ``commit-msg``) against the simulator on
127.0.0.1 playing one fault: nothing listening, an answer after 60 s, a reset on every connection, a
server that dies mid-run, one byte a second, a body shorter than its Content-Length, 100 MB, garbage.
Stall settings are small (``FAST``) so each case ends in a few seconds; the subprocess timeout only
turns a hang into a failure. Below them, ``post_json`` meets the same servers directly.
"""

from __future__ import annotations

import asyncio
import resource
import socket
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from conftest import API_KEY, KEY_ENV, distinct_texts, read_jsonl, write_tickets
from forge_cli.core.calls import PackItem
from forge_cli.core.errors import ProviderTimeoutError, UnreachableError, UpstreamError
from forge_cli.providers.http import post_json, token_count
from forge_cli.providers.openai import OpenAICompatibleProvider
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream

RECORDS = 30
#: seconds a case may run before the test calls it a hang (each ends in a few)
HANG_GUARD = 60
#: small limits so a dead provider is given up on in seconds: 1 s per request, 2 s of stall
FAST = ("--timeout", "1", "--stall-timeout", "2", "--breaker-cooldown", "0.2", "--backoff", "0.05")


@dataclass
class Finished:
    code: int
    stdout: str
    stderr: str
    results: list[dict[str, Any]]
    failures: list[dict[str, Any]]

    @property
    def summary(self) -> dict[str, Any]:
        return orjson.loads(self.stdout.strip().splitlines()[-1])

    def dropped(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if "dropped for this run" in line]


def closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def forge_args(tmp_path: Path, base_url: str, provider: str, *flags: str) -> list[str]:
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(RECORDS))
    return [
        sys.executable,
        "-m",
        "forge_cli",
        "classify",
        str(src),
        "--provider",
        provider,
        "--base-url",
        base_url,
        "--api-key-env",
        KEY_ENV,
        "--model",
        "gpt-4o-mini",
        "--out-dir",
        str(tmp_path / "out"),
        "--no-progress",
        "--json-summary",
        "--no-cache",
        *flags,
    ]


def finished(tmp_path: Path, proc: subprocess.CompletedProcess[str]) -> Finished:
    out = tmp_path / "out"
    run = Finished(
        proc.returncode,
        proc.stdout,
        proc.stderr,
        read_jsonl(out / "t.results.jsonl"),
        read_jsonl(out / "t.failures.jsonl"),
    )
    assert "Traceback" not in run.stderr and "Task exception" not in run.stderr, run.stderr
    # records in = results + failures, each record once
    lines = [
        line
        for name in ("t.results.jsonl", "t.failures.jsonl")
        for line in (out / name).read_bytes().splitlines()
    ]
    assert len(lines) == RECORDS, run.stderr
    ids = Counter(row["id"] for row in run.results + run.failures)
    assert ids == Counter(f"T{n}" for n in range(1, RECORDS + 1)), run.stderr
    return run


def classify(tmp_path: Path, base_url: str, *flags: str, provider: str = "openai") -> Finished:
    args = forge_args(tmp_path, base_url, provider, *flags)
    proc = subprocess.run(args, capture_output=True, text=True, timeout=HANG_GUARD)
    return finished(tmp_path, proc)


def serving(fault: Fault, **kw: Any) -> FakeUpstream:
    """The simulator answering every request with ``fault``."""
    server = FakeUpstream(api_key=API_KEY, **kw).start()
    server.fault_when(lambda items: fault)
    return server


def assert_dead_provider_run(run: Finished, reason: str) -> None:
    """Nothing answered: every record a failure naming why, one line saying so, exit 1."""
    assert run.code == 1, run.stderr
    assert run.results == [] and len(run.failures) == RECORDS
    [line] = run.dropped()
    assert line.startswith("forge: openai dropped for this run: ") and reason in line, line
    assert all(row["error"] == "StalledError" for row in run.failures), run.failures[0]
    assert all(reason in row["message"] for row in run.failures), run.failures[0]
    assert "no provider left" in run.stderr


# ------------------------------------------------------------------ a dead provider alone


def test_nothing_listening_ends_at_once_with_default_settings(tmp_path: Path) -> None:
    # no FAST here: a refused connection before any answer needs no stall time at all
    run = classify(tmp_path, f"http://127.0.0.1:{closed_port()}/v1")
    assert_dead_provider_run(run, "nothing listening")
    assert "cannot connect to http://127.0.0.1:" in run.dropped()[0]
    assert run.summary["calls"] <= 8  # the first calls of the run, none after


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        (Fault("timeout", delay=60), "timed out"),  # answers after 60 s, --timeout 1
        (Fault("reset"), "cut off"),  # resets every connection
        (Fault("trickle", delay=0.5), "timed out"),  # a byte every half second
        (Fault("short_body"), "timed out"),  # Content-Length promises more than comes
        (Fault("hang"), "timed out"),  # never a byte
    ],
    ids=["answers-after-60s", "resets", "trickles", "short-body", "hangs"],
)
def test_a_provider_that_never_answers_is_dropped_within_the_stall_time(
    tmp_path: Path, fault: Fault, reason: str
) -> None:
    server = serving(fault)
    try:
        run = classify(tmp_path, server.base_url, *FAST)
    finally:
        server.stop()
    assert_dead_provider_run(run, "past the stall timeout of 2 s")
    assert reason in run.dropped()[0]
    if reason == "timed out":
        # --timeout bounds the whole request, body included, and is counted as a timeout
        assert run.summary["timeouts"] >= 2
        assert "no complete answer within 1 s" in run.dropped()[0]


@pytest.mark.parametrize("where", ["env", "forge.toml"])
def test_one_byte_a_second_is_bounded_by_the_timeout_without_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, where: str
) -> None:
    # the stall time comes through the one settings resolver, like every other setting
    if where == "env":
        monkeypatch.setenv("FORGE_STALL_TIMEOUT", "1.5")
    else:
        (tmp_path / "forge.toml").write_text("[classify]\nstall_timeout = 1.5\n")
    server = serving(Fault("trickle", delay=1.0))
    try:
        run = classify(tmp_path, server.base_url, "--timeout", "1", "--retries", "0")
    finally:
        server.stop()
    assert run.code == 1 and run.summary["timeouts"] >= 1, run.stderr
    [line] = run.dropped()
    assert "past the stall timeout of 1.5 s" in line


def test_a_server_that_dies_mid_run_ends_the_run_with_what_it_answered(tmp_path: Path) -> None:
    server = FakeUpstream(api_key=API_KEY, latency=0.05).start()
    args = forge_args(
        tmp_path, server.base_url, "openai", *FAST, "--pack", "1", "--concurrency", "1"
    )
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + HANG_GUARD
        while server.stats.requests < 5 and time.monotonic() < deadline:
            time.sleep(0.02)
        server.stop()  # the local model server crashed: from now on, connections are refused
        stdout, stderr = proc.communicate(timeout=HANG_GUARD)
    finally:
        server.stop()
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    run = finished(tmp_path, subprocess.CompletedProcess(args, proc.returncode, stdout, stderr))
    assert run.code == 1, run.stderr
    assert 4 <= len(run.results) < RECORDS and run.failures
    [line] = run.dropped()
    # it had answered before: not "nothing listening" at once, but the stall time of failures
    assert "past the stall timeout of 2 s" in line and "could not connect" in line, line
    # records whose retries ran out before the stall time fail with their own reason
    kinds = Counter(row["error"] for row in run.failures)
    assert kinds["StalledError"] and set(kinds) <= {"StalledError", "UpstreamError"}, kinds


def test_a_huge_answer_is_given_up_on_past_the_cap(tmp_path: Path) -> None:
    server = serving(Fault("huge"))  # 100 MB each
    try:
        run = classify(tmp_path, server.base_url, *FAST)
    finally:
        server.stop()
    assert_dead_provider_run(run, "answer larger than 8 MB")
    # 100 MB answers once cost 1.5 GB; read as a stream and cut at 8 MB, no forge process came
    # near that (ru_maxrss is the largest child this test process has waited for, in KiB)
    assert resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss < 500 * 1024


# ------------------------------------------------------------------ a chain goes on


@pytest.mark.parametrize("fault", [None, Fault("reset"), Fault("hang")], ids=str)
def test_in_a_chain_the_next_provider_takes_over_from_a_dead_one(
    tmp_path: Path, fault: Fault | None
) -> None:
    server = serving(fault) if fault is not None else None
    url = server.base_url if server is not None else f"http://127.0.0.1:{closed_port()}/v1"
    try:
        run = classify(tmp_path, url, *FAST, provider="openai,offline")
    finally:
        if server is not None:
            server.stop()
    assert run.code == 0, run.stderr
    assert {row["provider"] for row in run.results} == {"offline"} and not run.failures
    # nothing listening drops openai at once; a run that ends before the stall time may never
    # need to (its breaker had sent the packs on), but it never says so twice
    assert len(run.dropped()) == 1 if fault is None else len(run.dropped()) <= 1
    for line in run.dropped():
        assert line.startswith("forge: openai dropped for this run: ")
        assert "going on with offline" in line


@pytest.mark.parametrize("kind", ["malformed", "garbage", "empty"])
def test_invalid_answers_move_the_pack_down_the_chain(tmp_path: Path, kind: str) -> None:
    server = serving(Fault(kind))  # type: ignore[arg-type]
    try:
        run = classify(tmp_path, server.base_url, provider="openai,offline")
        (tmp_path / "alone").mkdir()
        alone = classify(tmp_path / "alone", server.base_url)
    finally:
        server.stop()
    assert run.code == 0, run.stderr
    assert {row["provider"] for row in run.results} == {"offline"} and not run.failures
    # with nobody to move on to, the reason is kept: the provider and what was wrong
    assert alone.code == 1 and not alone.results
    assert {row["error"] for row in alone.failures} == {"InvalidResponseError"}
    assert all(row["message"].startswith("openai: ") for row in alone.failures)


def commit_msg(diff: Path, url: str, provider: str) -> subprocess.CompletedProcess[str]:
    args = [sys.executable, "-m", "forge_cli", "commit-msg", "--diff", str(diff)]
    args += ["--provider", provider, "--base-url", url, "--api-key-env", KEY_ENV, "--no-cache"]
    return subprocess.run(args, capture_output=True, text=True, timeout=HANG_GUARD)


DIFF = """diff --git a/app.py b/app.py
index 1111111..2222222 100644
--- a/app.py
+++ b/app.py
@@ -1,2 +1,2 @@
 def total(items):
-    return sum(items) + 1
+    return sum(items)
"""


def test_commit_msg_falls_back_from_garbage_and_says_why_when_it_cannot(tmp_path: Path) -> None:
    diff = tmp_path / "change.diff"
    diff.write_text(DIFF)
    server = serving(Fault("malformed"))
    try:
        chained = commit_msg(diff, server.base_url, "openai,offline")
        alone = commit_msg(diff, server.base_url, "openai")
    finally:
        server.stop()
    assert chained.returncode == 0, chained.stderr
    assert chained.stdout.strip() and "Traceback" not in chained.stderr
    assert alone.returncode == 2 and not alone.stdout
    [line] = alone.stderr.strip().splitlines()
    assert line.startswith("forge: error: openai: ") and "JSON" in line, line


# ------------------------------------------------------------------ smaller ones


def test_a_bad_usage_block_keeps_the_answers(tmp_path: Path) -> None:
    server = serving(Fault("bad_usage"))
    try:
        run = classify(tmp_path, server.base_url)
    finally:
        server.stop()
    assert run.code == 0 and len(run.results) == RECORDS, run.stderr
    assert "InternalError" not in run.stderr
    assert all(row["tokens_in"] == 0 and row["tokens_out"] > 0 for row in run.results)


def test_a_refused_key_is_said_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(KEY_ENV, "sk-wrong-0123456789abcdefWRONGKEY")
    with FakeUpstream(api_key=API_KEY) as server:
        run = classify(tmp_path, server.base_url)
    assert run.code == 2 and len(run.failures) == RECORDS
    said = [line for line in run.stderr.splitlines() if "authentication failed" in line]
    assert len(said) == 1 and said == run.dropped(), run.stderr


# ------------------------------------------------------------------ the HTTP plumbing itself


async def _post(url: str, *, timeout: float = 1.0, limit: int | None = None) -> httpx.Response:
    async with httpx.AsyncClient(timeout=timeout) as client:
        body = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}]}
        headers = {"authorization": f"Bearer {API_KEY}"}
        kw: dict[str, Any] = {} if limit is None else {"limit": limit}
        call = post_json(client, f"{url}/chat/completions", body, headers, provider="p", **kw)
        return await asyncio.wait_for(call, HANG_GUARD)  # a hang fails the test, not the suite


@pytest.mark.parametrize("kind", ["trickle", "short_body", "hang"])
def test_the_timeout_bounds_the_body_too(kind: str) -> None:
    server = serving(Fault(kind, delay=0.3 if kind == "trickle" else 0.0))  # type: ignore[arg-type]
    try:
        with pytest.raises(ProviderTimeoutError, match=r"no complete answer within 0\.5 s"):
            asyncio.run(_post(server.base_url, timeout=0.5))
    finally:
        server.stop()


def test_a_body_past_the_cap_is_an_upstream_error_and_a_small_one_passes() -> None:
    server = serving(Fault("huge", size=3 * 2**20))
    try:
        with pytest.raises(UpstreamError, match="answer larger than 1 MB"):
            asyncio.run(_post(server.base_url, limit=2**20))
        # under the cap the same body is read whole (and is still what the server sent)
        response = asyncio.run(_post(server.base_url, limit=4 * 2**20))
        assert len(response.content) == 3 * 2**20 and response.json()["padding"][:3] == "aaa"
    finally:
        server.stop()


def test_nothing_listening_is_unreachable_and_names_no_password() -> None:
    port = closed_port()
    with pytest.raises(UnreachableError) as refused:
        asyncio.run(_post(f"http://user:hunter2@127.0.0.1:{port}/v1"))
    assert f"cannot connect to http://127.0.0.1:{port}" in str(refused.value)
    assert "hunter2" not in str(refused.value) and "user" not in str(refused.value)


def test_token_counts_that_are_not_numbers_are_ignored_not_fatal() -> None:
    with FakeUpstream(api_key=API_KEY) as server:
        server.fault_when(lambda items: Fault("bad_usage"))
        provider = OpenAICompatibleProvider(
            name="openai",
            base_url=server.base_url,
            model="gpt-4o-mini",
            api_key=API_KEY,
            key_env=KEY_ENV,
            client=httpx.AsyncClient(timeout=5),
        )
        request = TicketTask().build_request([PackItem("1", "my card was charged twice")])

        async def go() -> Any:
            try:
                return await provider.complete(request)
            finally:
                await provider.aclose()

        completion = asyncio.run(go())
    assert "results" in completion.content
    assert completion.tokens_in == 0 and completion.tokens_out > 0  # estimated from the text


@pytest.mark.parametrize(
    ("value", "count"),
    [
        *((12, 12), (12.0, 12), ("12", 12), ("abc", None), ([1, 2], None), ({"n": 1}, None)),
        *((True, None), (-3, None), (None, None), (float("inf"), None)),
    ],
)
def test_token_count_takes_numbers_only(value: Any, count: int | None) -> None:
    assert token_count(value) == count
