"""The simulated upstream, exercised over real HTTP with httpx.

These tests pin the wire format other suites and benchmarks rely on: if the simulator drifts from
OpenAI's shapes, forge's provider code would be tested against a fiction.
"""

from __future__ import annotations

import email.utils
import http.client
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest

from forge_cli.testing.sim.answers import DEFAULT_LABELS, DEFAULT_PRIORITIES, default_classification
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.openai_wire import go_duration, mask_key
from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-test-0123456789abcdefghijklmnopqrstuvwxyz"
TEXTS = [
    "My laptop will not boot after the update",
    "I was charged twice for the March invoice",
    "The model keeps giving wrong answers in German",
    "App crashes when I open settings",
    "Where is your office?",
]


def pack(texts: list[str] = TEXTS) -> str:
    return json.dumps([{"id": str(i + 1), "text": t} for i, t in enumerate(texts)])


def chat_body(content: str, **extra: Any) -> dict[str, Any]:
    return {
        "model": "gpt-4o-mini",
        "messages": [
            {"role": "system", "content": "Classify each ticket. Answer JSON."},
            {"role": "user", "content": content},
        ],
        **extra,
    }


def post(client: httpx.Client, content: str | None = None, **extra: Any) -> httpx.Response:
    return client.post(
        "/chat/completions", json=chat_body(pack() if content is None else content, **extra)
    )


def results_of(response: httpx.Response) -> list[dict[str, Any]]:
    return json.loads(response.json()["choices"][0]["message"]["content"])["results"]


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream() as up:
        yield up


@pytest.fixture
def client(upstream: FakeUpstream) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=upstream.base_url, timeout=10) as c:
        yield c


def assert_openai_error(response: httpx.Response, type_: str, code: str | None) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert error["type"] == type_
    assert error["code"] == code
    assert error["param"] is None
    assert isinstance(error["message"], str) and error["message"]
    return error


# -- normal answers --------------------------------------------------------------------------


def test_normal_answer_has_every_openai_field(client: httpx.Client, upstream: FakeUpstream) -> None:
    response = post(client, temperature=0, max_tokens=500, response_format={"type": "json_object"})
    assert response.status_code == 200
    assert response.http_version == "HTTP/1.1"
    assert response.headers["content-type"] == "application/json"
    assert int(response.headers["content-length"]) == len(response.content)
    assert response.headers["x-request-id"].startswith("req_")
    body = response.json()
    assert body["id"].startswith("chatcmpl-")
    assert body["object"] == "chat.completion"
    assert isinstance(body["created"], int) and abs(body["created"] - time.time()) < 60
    assert body["model"] == "gpt-4o-mini"
    (choice,) = body["choices"]
    assert choice["index"] == 0
    assert choice["logprobs"] is None
    assert choice["finish_reason"] == "stop"
    assert choice["message"]["role"] == "assistant"
    usage = body["usage"]
    assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
    assert usage["completion_tokens"] == len(choice["message"]["content"]) // 4
    chars = sum(len(m["content"]) for m in chat_body(pack())["messages"])
    assert usage["prompt_tokens"] == chars // 4

    results = results_of(response)
    assert [r["id"] for r in results] == ["1", "2", "3", "4", "5"]
    for result, text in zip(results, TEXTS, strict=True):
        assert set(result) == {"id", "category", "priority", "summary"}
        assert result["category"] in DEFAULT_LABELS
        assert result["priority"] in DEFAULT_PRIORITIES
        assert result["summary"] == text[:60]
        assert {k: result[k] for k in ("category", "priority", "summary")} == (
            default_classification(text)
        )

    snap = upstream.stats.snapshot()
    assert snap["requests"] == 1 and snap["by_status"] == {200: 1}
    assert snap["items_answered"] == 5
    assert snap["tokens_in"] == usage["prompt_tokens"]
    assert snap["tokens_out"] == usage["completion_tokens"]
    (record,) = upstream.stats.records
    assert record.ids == ("1", "2", "3", "4", "5") and record.texts == tuple(TEXTS)
    assert record.status == 200 and record.had_authorization is False


def test_answers_are_deterministic_and_use_custom_labels() -> None:
    labels = ("alpha", "beta", "gamma")
    with FakeUpstream(labels=labels) as up, httpx.Client(base_url=up.base_url) as c:
        first, second = results_of(post(c)), results_of(post(c))
    assert first == second
    assert {r["category"] for r in first} <= set(labels)


def test_custom_responder_is_used() -> None:
    def responder(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            {"id": i["id"], "category": "billing", "priority": "low", "summary": "x"} for i in items
        ]

    with FakeUpstream(responder=responder) as up, httpx.Client(base_url=up.base_url) as c:
        assert {r["category"] for r in results_of(post(c))} == {"billing"}


def test_non_pack_content_gets_plain_text(client: httpx.Client) -> None:
    response = post(client, "Write a haiku about tickets")
    assert response.status_code == 200
    content = response.json()["choices"][0]["message"]["content"]
    assert content and not content.lstrip().startswith(("{", "["))


def test_connection_is_kept_alive(upstream: FakeUpstream) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", upstream.port, timeout=5)
    try:
        sockets = []
        for _ in range(3):
            conn.request("POST", "/v1/chat/completions", json.dumps(chat_body(pack())))
            response = conn.getresponse()
            assert response.status == 200
            assert response.getheader("Content-Length") is not None
            response.read()
            assert not response.will_close
            sockets.append(conn.sock)
        assert sockets[0] is sockets[1] is sockets[2]
    finally:
        conn.close()


def test_models_list_and_unknown_routes(client: httpx.Client) -> None:
    models = client.get("/models")
    assert models.status_code == 200
    body = models.json()
    assert body["object"] == "list" and body["data"]
    for model in body["data"]:
        assert set(model) == {"id", "object", "created", "owned_by"}
        assert model["object"] == "model"
    missing = client.post("/nope", json={})
    assert missing.status_code == 404
    error = assert_openai_error(missing, "invalid_request_error", None)
    assert error["message"] == "Invalid URL (POST /v1/nope)"


def test_bad_json_and_missing_fields_get_400(client: httpx.Client) -> None:
    bad = client.post("/chat/completions", content=b"{not json", headers={"content-type": "x"})
    assert bad.status_code == 400
    assert_openai_error(bad, "invalid_request_error", None)
    no_messages = client.post("/chat/completions", json={"model": "m"})
    assert no_messages.status_code == 400
    assert no_messages.json()["error"]["code"] == "missing_required_parameter"


# -- faults ----------------------------------------------------------------------------------


def test_scripted_faults_apply_in_arrival_order(
    client: httpx.Client, upstream: FakeUpstream
) -> None:
    upstream.script(Fault("500"), Fault("503"))
    assert upstream.pending_faults == 2
    first, second, third = post(client), post(client), post(client)
    assert (first.status_code, second.status_code, third.status_code) == (500, 503, 200)
    assert_openai_error(first, "server_error", None)
    assert "overloaded" in assert_openai_error(second, "server_error", None)["message"]
    assert [r.fault for r in upstream.stats.records] == ["500", "503", None]
    assert upstream.stats.by_status == {500: 1, 503: 1, 200: 1}


@pytest.mark.parametrize(
    ("fault", "header"),
    [
        (Fault("429", retry_after=2), "2"),
        (Fault("429", retry_after=0.25), "0.25"),
        (Fault("503", retry_after=7), "7"),
        (Fault("429"), None),
    ],
)
def test_retry_after_header_values(
    client: httpx.Client, upstream: FakeUpstream, fault: Fault, header: str | None
) -> None:
    upstream.script(fault)
    response = post(client)
    assert response.status_code == int(fault.kind)
    assert response.headers.get("retry-after") == header
    if fault.kind == "429":
        error = assert_openai_error(response, "requests", "rate_limit_exceeded")
        assert "on requests per min (RPM): Limit" in error["message"]


def test_retry_after_as_http_date(client: httpx.Client, upstream: FakeUpstream) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    upstream.script(Fault("429", retry_after=when))
    response = post(client)
    assert response.headers["retry-after"] == when
    wait = re.search(r"Please try again in ([\d.]+)s", response.json()["error"]["message"])
    assert wait is not None and 25 <= float(wait.group(1)) <= 31


def test_timeout_fault_outlasts_client_then_recovers(
    client: httpx.Client, upstream: FakeUpstream
) -> None:
    upstream.script(Fault("timeout", delay=1.0))
    with pytest.raises(httpx.ReadTimeout):
        client.post("/chat/completions", json=chat_body(pack()), timeout=0.2)
    assert post(client).status_code == 200


def test_malformed_fault(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.script(Fault("malformed"))
    response = post(client)
    assert response.status_code == 200
    content = response.json()["choices"][0]["message"]["content"]
    assert content.startswith("Sure! Here are the results: {")
    with pytest.raises(ValueError):
        json.loads(content)
    with pytest.raises(ValueError):
        json.loads(content[content.index("{") :])
    assert upstream.stats.items_answered == 0


def test_partial_fault_drops_items(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.script(Fault("partial", drop=2))
    ids = [r["id"] for r in results_of(post(client))]
    assert len(ids) == 3 and set(ids) < {"1", "2", "3", "4", "5"}
    assert upstream.stats.items_answered == 3


def test_invalid_label_fault(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.script(Fault("invalid_label"))
    categories = [r["category"] for r in results_of(post(client))]
    assert sum(c not in DEFAULT_LABELS for c in categories) == 1


def test_think_fault_wraps_answer_in_reasoning(
    client: httpx.Client, upstream: FakeUpstream
) -> None:
    upstream.script(Fault("think"))
    content = post(client).json()["choices"][0]["message"]["content"]
    assert content.startswith("<think>")
    answer = json.loads(content.split("</think>", 1)[1])
    assert len(answer["results"]) == 5


def test_reasoning_fault_adds_misleading_reasoning_content(
    client: httpx.Client, upstream: FakeUpstream
) -> None:
    upstream.script(Fault("reasoning"))
    response = post(client)
    message = response.json()["choices"][0]["message"]
    results = json.loads(message["content"])["results"]
    reasoning = message["reasoning_content"]
    mentioned = [label for label in DEFAULT_LABELS if label in reasoning]
    assert mentioned and results[0]["category"] not in mentioned
    details = response.json()["usage"]["completion_tokens_details"]
    assert details["reasoning_tokens"] > 0


def test_empty_fault(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.script(Fault("empty"))
    response = post(client)
    assert response.status_code == 200
    assert response.json()["choices"][0]["message"]["content"] == ""


def test_401_fault_without_configured_key(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.script(Fault("401"))
    response = client.post(
        "/chat/completions", json=chat_body(pack()), headers={"Authorization": f"Bearer {KEY}"}
    )
    assert response.status_code == 401
    assert_openai_error(response, "invalid_request_error", "invalid_api_key")
    assert KEY not in response.text


def test_reset_fault_closes_without_response(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.script(Fault("reset"))
    with pytest.raises(httpx.TransportError):
        post(client)
    assert post(client).status_code == 200
    assert [r.status for r in upstream.stats.records] == [0, 200]


def test_fault_when_poison_ticket(client: httpx.Client, upstream: FakeUpstream) -> None:
    upstream.fault_when(
        lambda items: Fault("500") if any("POISON" in i["text"] for i in items) else None
    )
    assert post(client, pack(["fine", "POISON pill"])).status_code == 500
    assert post(client, pack(["fine", "also fine"])).status_code == 200
    upstream.clear_faults()
    assert post(client, pack(["POISON pill"])).status_code == 200


def test_unknown_fault_kind_is_rejected() -> None:
    with pytest.raises(ValueError):
        Fault("418")  # type: ignore[arg-type]


# -- limits and random failures --------------------------------------------------------------


def test_rpm_limit_is_enforced_with_openai_headers() -> None:
    with FakeUpstream(rpm_limit=5) as up, httpx.Client(base_url=up.base_url) as c:
        remaining = []
        for _ in range(5):
            ok = post(c)
            assert ok.status_code == 200
            assert ok.headers["x-ratelimit-limit-requests"] == "5"
            assert ok.headers["x-ratelimit-reset-requests"].endswith("s")
            remaining.append(int(ok.headers["x-ratelimit-remaining-requests"]))
        assert remaining == [4, 3, 2, 1, 0]

        limited = post(c)
        assert limited.status_code == 429
        assert 1 <= int(limited.headers["retry-after"]) <= 60
        assert limited.headers["x-ratelimit-remaining-requests"] == "0"
        error = assert_openai_error(limited, "requests", "rate_limit_exceeded")
        assert error["message"].startswith("Rate limit reached for gpt-4o-mini in organization")
        assert "on requests per min (RPM): Limit 5, Used 5, Requested 1." in error["message"]
        assert up.stats.by_status == {200: 5, 429: 1}
        assert up.stats.records[-1].fault == "rpm"


def test_tpm_limit_is_enforced() -> None:
    with FakeUpstream(tpm_limit=200) as up, httpx.Client(base_url=up.base_url) as c:
        first = post(c, max_tokens=100)
        assert first.status_code == 200
        assert int(first.headers["x-ratelimit-remaining-tokens"]) < 200
        second = post(c, max_tokens=100)
        assert second.status_code == 429
        error = assert_openai_error(second, "tokens", "rate_limit_exceeded")
        assert "on tokens per min (TPM): Limit 200" in error["message"]


def count_failures(seed: int, n: int = 200) -> int:
    with FakeUpstream(failure_rate=0.25, seed=seed) as up, httpx.Client(base_url=up.base_url) as c:
        statuses = [post(c, pack(["x"])).status_code for _ in range(n)]
        assert set(statuses) <= {200, 503}
        assert up.stats.by_status.get(503, 0) == statuses.count(503)
        return statuses.count(503)


def test_failure_rate_is_roughly_honoured_and_seeded() -> None:
    failures = count_failures(seed=7)
    assert 30 <= failures <= 70  # 25 % of 200, generous bounds
    assert count_failures(seed=7) == failures


def test_failure_status_body() -> None:
    with FakeUpstream(failure_rate=1.0, failure_status=500) as up:
        response = httpx.post(f"{up.base_url}/chat/completions", json=chat_body(pack()))
    assert response.status_code == 500
    assert_openai_error(response, "server_error", None)


# -- auth ------------------------------------------------------------------------------------


def test_api_key_required_and_never_stored() -> None:
    with FakeUpstream(api_key=KEY) as up, httpx.Client(base_url=up.base_url) as c:
        missing = post(c)
        assert missing.status_code == 401
        error = assert_openai_error(missing, "invalid_request_error", None)
        assert "You didn't provide an API key" in error["message"]

        wrong_key = "sk-wrong-0123456789abcdefghijklmnop"
        wrong = c.post(
            "/chat/completions",
            json=chat_body(pack()),
            headers={"Authorization": f"Bearer {wrong_key}"},
        )
        assert wrong.status_code == 401
        error = assert_openai_error(wrong, "invalid_request_error", "invalid_api_key")
        assert mask_key(wrong_key) in error["message"]
        assert wrong_key not in wrong.text

        good = c.post(
            "/chat/completions", json=chat_body(pack()), headers={"Authorization": f"Bearer {KEY}"}
        )
        assert good.status_code == 200
        assert c.get("/models").status_code == 401

        records = up.stats.records
        assert [r.had_authorization for r in records] == [False, True, True]
        dump = repr(records) + repr(up.stats.snapshot()) + repr(up)
        assert KEY not in dump and wrong_key not in dump
        assert KEY[5:-2] not in dump


# -- concurrency and lifecycle ---------------------------------------------------------------


def test_concurrent_requests_overlap() -> None:
    with (
        FakeUpstream(latency=0.2) as up,
        httpx.Client(base_url=up.base_url, limits=httpx.Limits(max_connections=64)) as c,
        ThreadPoolExecutor(max_workers=32) as pool,
    ):
        statuses = list(pool.map(lambda _: post(c).status_code, range(32)))
    assert statuses == [200] * 32
    assert up.stats.max_concurrent >= 16


def test_64_keep_alive_connections_at_300ms() -> None:
    # 300 ms (not 100): on a loaded machine 64 client threads need a moment to all get going,
    # and the point is the server's concurrency, not the client's start-up speed
    limits = httpx.Limits(max_connections=64, max_keepalive_connections=64)
    with (
        FakeUpstream(latency=0.3) as up,
        httpx.Client(base_url=up.base_url, limits=limits) as c,
        ThreadPoolExecutor(max_workers=64) as pool,
    ):
        statuses = list(pool.map(lambda _: post(c).status_code, range(192)))
    assert statuses == [200] * 192
    assert up.stats.max_concurrent >= 48
    assert up.stats.requests == 192


def test_latency_is_applied() -> None:
    with FakeUpstream(latency=0.15) as up, httpx.Client(base_url=up.base_url) as c:
        started = time.monotonic()
        post(c)
        assert time.monotonic() - started >= 0.15


def test_stop_frees_the_port_even_with_idle_keep_alive() -> None:
    up = FakeUpstream().start()
    port = up.port
    client = httpx.Client(base_url=up.base_url)
    assert post(client).status_code == 200  # leaves an idle keep-alive connection open
    started = time.monotonic()
    up.stop()
    up.stop()  # idempotent
    assert time.monotonic() - started < 2
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass
    client.close()
    with FakeUpstream(port=port) as again:
        assert again.base_url == f"http://127.0.0.1:{port}/v1"
        assert httpx.get(f"{again.base_url}/models").status_code == 200


def test_records_are_bounded() -> None:
    with FakeUpstream(max_records=3) as up, httpx.Client(base_url=up.base_url) as c:
        for i in range(5):
            post(c, pack([f"text {i}"]))
        assert up.stats.requests == 5
        assert [r.texts for r in up.stats.records] == [("text 2",), ("text 3",), ("text 4",)]


def test_reset_stats(client: httpx.Client, upstream: FakeUpstream) -> None:
    post(client)
    upstream.reset_stats()
    assert upstream.stats.snapshot()["requests"] == 0
    assert upstream.stats.records == []


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.168.1.10", ""])
def test_only_loopback_is_accepted(host: str) -> None:
    with pytest.raises(ValueError):
        FakeUpstream(host=host)


def test_go_duration_matches_openai_style() -> None:
    assert go_duration(0.012) == "12ms"
    assert go_duration(1.5) == "1.5s"
    assert go_duration(20) == "20s"
    assert go_duration(360) == "6m0s"
    assert go_duration(0) == "0s"


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_standalone_entry_point(stop_signal: signal.Signals) -> None:
    src = Path(__file__).resolve().parents[1] / "src"
    env = {**os.environ, "PYTHONPATH": str(src)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "forge_cli.testing.sim.upstream", "--port", "0", "--rpm", "600"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert proc.stdout is not None
        base_url = proc.stdout.readline().strip()
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        response = httpx.post(f"{base_url}/chat/completions", json=chat_body(pack()), timeout=5)
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit-requests"] == "600"
    finally:
        proc.send_signal(stop_signal)
        _, stderr = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert json.loads(stderr.strip().splitlines()[-1])["requests"] == 1
