"""The native Anthropic Messages API adapter against the loopback simulator speaking Anthropic.

Everything goes over real HTTP on 127.0.0.1: ``FakeUpstream(wire=AnthropicWire())`` answers with
Anthropic's bodies, status codes and headers, and refuses a request without ``x-api-key`` or
``anthropic-version`` just as the real API does, so a passing call proves the headers were sent.
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from forge_cli.core.calls import Completion, PackItem, PackRequest, PromptSections
from forge_cli.core.errors import (
    AuthError,
    InvalidResponseError,
    NotFoundError,
    ProviderError,
    ProviderTimeoutError,
    RateLimitError,
    RequestError,
    UpstreamError,
)
from forge_cli.providers.anthropic import (
    ANTHROPIC_VERSION,
    DEFAULT_BASE_URL,
    AnthropicProvider,
)
from forge_cli.providers.http import anthropic_rate_info, make_client
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.answers import default_classification
from forge_cli.testing.sim.anthropic_wire import AnthropicWire
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream
from forge_cli.testing.sim.wire import Limited, WindowState, WireRequest

KEY = "sk-ant-api03-forgetest-Zq8x7W6v5U4t3S2r1Q0p"
KEY_ENV = "ANTHROPIC_API_KEY"
MODEL = "claude-haiku-4-5"
TEXTS = ("printer on fire", "I was charged twice this month", "the app crashes on login")

TASK = TicketTask()
ITEMS = [PackItem(str(i + 1), text) for i, text in enumerate(TEXTS)]
IDS = [item.id for item in ITEMS]


def request() -> PackRequest:
    return TASK.build_request(ITEMS)


def provider(
    base_url: str, *, key: str | None = KEY, timeout: float = 10, model: str = MODEL
) -> AnthropicProvider:
    return AnthropicProvider(
        name="anthropic",
        base_url=base_url,
        model=model,
        api_key=key,
        key_env=KEY_ENV,
        client=make_client(timeout, 4),
        price_in=1.0,
        price_out=5.0,
    )


def call(prov: AnthropicProvider, req: PackRequest | None = None) -> Completion:
    async def go() -> Completion:
        try:
            return await prov.complete(req or request())
        finally:
            await prov.aclose()

    return asyncio.run(go())


def failure(prov: AnthropicProvider, req: PackRequest | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        call(prov, req)
    return info.value


def anthropic(**kwargs: Any) -> FakeUpstream:
    kwargs.setdefault("api_key", KEY)
    return FakeUpstream(wire=kwargs.pop("wire", AnthropicWire()), **kwargs)


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with anthropic() as server:
        yield server


# -- success -----------------------------------------------------------------------------------


def test_pack_is_answered_with_tokens_and_model(upstream: FakeUpstream) -> None:
    done = call(provider(upstream.base_url))
    parsed = TASK.parse(done.content, IDS)
    assert parsed.errors == {}
    for item in ITEMS:
        expected = default_classification(item.text)
        assert parsed.answers[item.id]["category"] == expected["category"]
        assert parsed.answers[item.id]["priority"] == expected["priority"]
    assert done.model == MODEL
    assert done.tokens_in > 0 and done.tokens_out > 0
    # the adapter reports exactly what the usage block said
    assert (done.tokens_in, done.tokens_out) == (
        upstream.stats.tokens_in,
        upstream.stats.tokens_out,
    )
    assert done.latency_ms > 0
    # no limit configured: no rate headers, and none invented
    assert done.rate is None


def test_key_and_version_headers_are_sent(upstream: FakeUpstream) -> None:
    call(provider(upstream.base_url))
    record = upstream.stats.records[-1]
    assert record.status == 200 and record.had_authorization
    # the wire refuses the same request without anthropic-version: the adapter must have sent it
    body = {"model": MODEL, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]}
    bare = httpx.post(f"{upstream.base_url}/messages", json=body, headers={"x-api-key": KEY})
    assert bare.status_code == 400
    assert bare.json()["error"] == {
        "type": "invalid_request_error",
        "message": "anthropic-version: header is required",
    }
    assert bare.json()["type"] == "error" and bare.json()["request_id"].startswith("req_")
    versioned = httpx.post(
        f"{upstream.base_url}/messages",
        json=body,
        headers={"x-api-key": KEY, "anthropic-version": ANTHROPIC_VERSION},
    )
    assert versioned.status_code == 200
    assert versioned.headers["request-id"].startswith("req_")


def test_request_body_uses_top_level_system_and_required_max_tokens() -> None:
    prov = provider(DEFAULT_BASE_URL)
    req = request()
    req.temperature = 1.7  # an OpenAI-range value is clamped into Anthropic's 0..1
    body = prov._body(req)
    assert body["model"] == MODEL
    assert body["system"] == TASK.system_prompt
    assert [m["role"] for m in body["messages"]] == ["user"]
    assert json.loads(body["messages"][0]["content"])[0] == {"id": "1", "text": TEXTS[0]}
    assert body["max_tokens"] == req.max_tokens
    assert body["temperature"] == 1.0
    assert "response_format" not in body  # Anthropic has no JSON mode
    # a request built from sections takes its system text from them
    sections = PromptSections(
        role="You sort things.",
        instructions="Sort them.",
        constraints="",
        context='[{"id": "1", "text": "x"}]',
        task="",
        output_format="JSON only.",
    )
    from_sections = PackRequest.from_sections(sections, items=ITEMS[:1])
    body = prov._body(from_sections)
    assert body["system"] == "You sort things.\n\nSort them.\n\nJSON only."
    assert body["messages"] == [{"role": "user", "content": sections.context}]
    asyncio.run(prov.aclose())


def test_thinking_blocks_are_not_part_of_the_answer(upstream: FakeUpstream) -> None:
    upstream.script(Fault("reasoning"))
    done = call(provider(upstream.base_url))
    # the thinking block names a wrong label on purpose; only the text block is the answer
    assert "on reflection" not in done.content
    assert TASK.parse(done.content, IDS).errors == {}


def test_rate_info_is_read_from_headers_on_success() -> None:
    with anthropic(rpm_limit=50, tpm_limit=40_000) as server:
        done = call(provider(server.base_url))
    assert done.rate is not None
    assert done.rate.rpm_limit == 50 and done.rate.rpm_remaining == 49
    assert done.rate.rpm_reset is not None and 0 < done.rate.rpm_reset <= 61
    assert done.rate.tpm_limit == 40_000
    # Anthropic rounds remaining tokens to the nearest thousand
    assert done.rate.tpm_remaining is not None and done.rate.tpm_remaining % 1000 == 0
    assert 38_000 <= done.rate.tpm_remaining <= 40_000


# -- authentication ----------------------------------------------------------------------------


def _assert_keyless(exc: ProviderError, *secrets: str) -> None:
    for secret in secrets:
        for text in (str(exc), repr(exc), exc.message, exc.raw or "", *map(str, exc.args)):
            assert secret not in text
            assert secret[:12] not in text


def test_wrong_key_is_fatal_and_never_echoed(upstream: FakeUpstream) -> None:
    wrong = "sk-ant-api03-wrongkey-AAAAbbbbCCCCddddEEEE"
    exc = failure(provider(upstream.base_url, key=wrong))
    assert isinstance(exc, AuthError) and not exc.retryable
    assert exc.status == 401 and exc.provider == "anthropic"
    assert KEY_ENV in str(exc) and "authentication_error" in str(exc)
    _assert_keyless(exc, wrong, KEY)
    assert upstream.stats.by_status == {401: 1}


def test_missing_key_is_an_auth_error(upstream: FakeUpstream) -> None:
    exc = failure(provider(upstream.base_url, key=None))
    assert isinstance(exc, AuthError) and exc.status == 401
    assert upstream.stats.records[-1].had_authorization is False


def test_scripted_401_is_an_auth_error(upstream: FakeUpstream) -> None:
    upstream.script(Fault("401"))
    exc = failure(provider(upstream.base_url))
    assert isinstance(exc, AuthError)
    _assert_keyless(exc, KEY)


# -- rate limits and overload ------------------------------------------------------------------


def test_429_carries_retry_after_and_rate_info() -> None:
    with anthropic(rpm_limit=100) as server:
        server.script(Fault("429", retry_after=2))
        exc = failure(provider(server.base_url))
    assert isinstance(exc, RateLimitError) and exc.retryable
    assert exc.status == 429 and exc.retry_after == 2.0
    assert "rate_limit_error" in str(exc)
    assert exc.rate is not None and exc.rate.rpm_limit == 100 and exc.rate.rpm_remaining == 99


def test_real_rpm_window_is_refused_with_anthropic_headers() -> None:
    with anthropic(rpm_limit=1) as server:
        first = call(provider(server.base_url))
        assert first.rate is not None and first.rate.rpm_remaining == 0
        exc = failure(provider(server.base_url))
        raw_429 = httpx.post(
            f"{server.base_url}/messages",
            json={"model": MODEL, "max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
            headers={"x-api-key": KEY, "anthropic-version": ANTHROPIC_VERSION},
        )
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after is not None and 1 <= exc.retry_after <= 60
    assert exc.rate is not None and exc.rate.rpm_limit == 1 and exc.rate.rpm_remaining == 0
    assert "1 requests per minute" in exc.message
    # the wire's headers are what Anthropic documents: integer retry-after, RFC 3339 resets
    assert raw_429.headers["retry-after"].isdigit()
    reset = raw_429.headers["anthropic-ratelimit-requests-reset"]
    assert reset.endswith("Z") and datetime.fromisoformat(reset) > datetime.now(UTC)
    assert anthropic_rate_info(raw_429.headers) is not None
    assert raw_429.json()["error"]["type"] == "rate_limit_error"


def test_overloaded_529_is_retryable_upstream_error(upstream: FakeUpstream) -> None:
    upstream.script(Fault("overloaded"), Fault("overloaded", retry_after=3))
    exc = failure(provider(upstream.base_url))
    assert isinstance(exc, UpstreamError)
    assert exc.retryable and exc.trips_breaker
    assert exc.status == 529 and "overloaded_error" in str(exc)
    assert exc.message.startswith("overloaded")
    assert exc.retry_after is None
    again = failure(provider(upstream.base_url))
    assert isinstance(again, UpstreamError) and again.retry_after == 3.0
    # and the next call goes through
    assert TASK.parse(call(provider(upstream.base_url)).content, IDS).errors == {}


@pytest.mark.parametrize("kind", ["500", "503"])
def test_server_errors_are_retryable(upstream: FakeUpstream, kind: str) -> None:
    upstream.script(Fault(kind))  # type: ignore[arg-type]
    exc = failure(provider(upstream.base_url))
    assert isinstance(exc, UpstreamError) and exc.retryable
    assert exc.status == int(kind)


def test_500_names_anthropic_error_type(upstream: FakeUpstream) -> None:
    upstream.script(Fault("500"))
    exc = failure(provider(upstream.base_url))
    assert "api_error" in str(exc) and "Internal server error" in str(exc)


# -- other statuses ----------------------------------------------------------------------------


def test_wrong_base_url_is_not_found(upstream: FakeUpstream) -> None:
    exc = failure(provider(upstream.base_url + "/v2"))
    assert isinstance(exc, NotFoundError) and not exc.retryable
    assert exc.status == 404 and upstream.base_url in str(exc) and MODEL in str(exc)


def test_unknown_model_is_not_found() -> None:
    with anthropic(wire=AnthropicWire(models=["claude-sonnet-4-5"])) as server:
        exc = failure(provider(server.base_url, model="claude-no-such-model"))
    assert isinstance(exc, NotFoundError)
    assert "model: claude-no-such-model" in str(exc) and "not_found_error" in str(exc)


@pytest.mark.parametrize(
    ("status", "error", "error_type"),
    [
        (400, RequestError, "invalid_request_error"),
        (413, RequestError, "request_too_large"),
        (403, AuthError, "permission_error"),
        (504, ProviderTimeoutError, "timeout_error"),
    ],
)
def test_status_mapping(status: int, error: type[ProviderError], error_type: str) -> None:
    with anthropic(failure_rate=1.0, failure_status=status) as server:
        exc = failure(provider(server.base_url))
    assert type(exc) is error and exc.status == status
    assert error_type in str(exc)
    _assert_keyless(exc, KEY)


def test_timeout_is_a_provider_timeout(upstream: FakeUpstream) -> None:
    upstream.script(Fault("timeout", delay=2.0))
    exc = failure(provider(upstream.base_url, timeout=0.3))
    assert isinstance(exc, ProviderTimeoutError) and exc.retryable


def test_connection_reset_is_an_upstream_error(upstream: FakeUpstream) -> None:
    upstream.script(Fault("reset"))
    exc = failure(provider(upstream.base_url))
    assert isinstance(exc, UpstreamError) and exc.retryable


# -- answers the task cannot use ---------------------------------------------------------------


def test_malformed_answer_is_invalid(upstream: FakeUpstream) -> None:
    upstream.script(Fault("malformed"))
    done = call(provider(upstream.base_url))
    with pytest.raises(InvalidResponseError):
        TASK.parse(done.content, IDS)


def test_empty_content_is_an_empty_answer(upstream: FakeUpstream) -> None:
    upstream.script(Fault("empty"))
    done = call(provider(upstream.base_url))
    assert done.content == ""
    with pytest.raises(InvalidResponseError, match="empty"):
        TASK.parse(done.content, IDS)


def test_partial_answer_marks_only_the_missing_items(upstream: FakeUpstream) -> None:
    upstream.script(Fault("partial", drop=1))
    parsed = TASK.parse(call(provider(upstream.base_url)).content, IDS)
    assert set(parsed.errors) == {"1"} and set(parsed.answers) == {"2", "3"}


@pytest.fixture
def odd_server() -> Iterator[Callable[[int, str, str], str]]:
    """A loopback server answering every POST with a fixed status, content type and body."""
    servers: list[ThreadingHTTPServer] = []

    def start(status: int, content_type: str, payload: str) -> str:
        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                return None

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("content-length") or 0))
                data = payload.encode()
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("content_type", "payload"),
    [
        ("text/html", "<html><body>captive portal</body></html>"),
        ("application/json", '{"type": "message", "role": "assistant"}'),
        ("application/json", '{"content": "not a list of blocks"}'),
    ],
)
def test_a_200_that_is_not_a_message_is_invalid(
    odd_server: Callable[[int, str, str], str], content_type: str, payload: str
) -> None:
    exc = failure(provider(odd_server(200, content_type, payload)))
    assert isinstance(exc, InvalidResponseError)
    assert exc.raw and payload[:10] in exc.raw


def test_non_json_error_body_still_maps_by_status(
    odd_server: Callable[[int, str, str], str],
) -> None:
    exc = failure(provider(odd_server(529, "text/plain", "upstream overloaded")))
    assert isinstance(exc, UpstreamError) and exc.retryable
    assert "upstream overloaded" in str(exc)


def test_spend_limit_429_stops_the_run(odd_server: Callable[[int, str, str], str]) -> None:
    body = {
        "type": "error",
        "error": {
            "type": "rate_limit_error",
            "message": "You have reached your monthly spend limit.",
            "details": {"error_code": "enforced_spend_limit_reached"},
        },
        "request_id": "req_011CSpend",
    }
    exc = failure(provider(odd_server(429, "application/json", json.dumps(body))))
    assert isinstance(exc, AuthError) and "spend limit" in str(exc)


# -- the wire on its own -------------------------------------------------------------------------


def test_wire_reads_system_and_block_content_as_openai_messages() -> None:
    wire = AnthropicWire()
    headers = {"anthropic-version": ANTHROPIC_VERSION}
    parsed = wire.parse(
        {
            "model": MODEL,
            "max_tokens": 64,
            "system": [{"type": "text", "text": "Be brief."}],
            "messages": [
                {"role": "user", "content": [{"type": "text", "text": '[{"id": "1", '}]},
                {"role": "assistant", "content": "ok"},
                {"role": "user", "content": '[{"id": "1", "text": "x"}]'},
            ],
        },
        None,
        headers,
    )
    assert parsed.error is None and parsed.model == MODEL and parsed.max_tokens == 64
    assert parsed.wants_json is False
    assert parsed.messages[0] == {"role": "system", "content": "Be brief."}
    assert parsed.messages[-1] == {"role": "user", "content": '[{"id": "1", "text": "x"}]'}


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (
            {"model": MODEL, "messages": [{"role": "user", "content": "x"}]},
            400,
            "max_tokens: Field required",
        ),
        (
            {"max_tokens": 5, "messages": [{"role": "user", "content": "x"}]},
            400,
            "model: Field required",
        ),
        ({"model": MODEL, "max_tokens": 5}, 400, "messages: Field required"),
        (
            {"model": MODEL, "max_tokens": 5, "messages": [{"role": "system", "content": "x"}]},
            400,
            'Unexpected role "system"',
        ),
        (
            {
                "model": MODEL,
                "max_tokens": 5,
                "temperature": 1.5,
                "messages": [{"role": "user", "content": "x"}],
            },
            400,
            "temperature",
        ),
    ],
)
def test_wire_refuses_bad_requests_like_anthropic(
    body: dict[str, Any], status: int, message: str
) -> None:
    parsed = AnthropicWire().parse(body, None, {"anthropic-version": ANTHROPIC_VERSION})
    assert parsed.error is not None
    got_status, got_body = parsed.error
    assert got_status == status
    assert got_body["type"] == "error" and got_body["error"]["type"] == "invalid_request_error"
    assert message in got_body["error"]["message"]


def test_wire_bodies_and_headers() -> None:
    wire = AnthropicWire()
    assert wire.chat_route("POST", "/v1/messages") == ""
    assert wire.chat_route("POST", "/v1/chat/completions") is None
    assert wire.chat_route("GET", "/v1/messages") is None
    assert wire.presented_key({"x-api-key": KEY}, {}) == KEY
    assert wire.presented_key({"authorization": f"Bearer {KEY}"}, {}) is None
    assert wire.auth_failure(None)[1]["error"]["message"] == "x-api-key header is required"
    status, body = wire.auth_failure("sk-ant-wrong")
    assert status == 401 and body["error"] == {
        "type": "authentication_error",
        "message": "invalid x-api-key",
    }
    assert wire.overloaded("req_1") == (
        529,
        {
            "type": "error",
            "error": {"type": "overloaded_error", "message": "Overloaded"},
            "request_id": "req_1",
        },
    )
    assert wire.server_error(500, "req_2")["error"] == {
        "type": "api_error",
        "message": "Internal server error",
    }
    assert wire.not_found("POST", "/v1/x")[0] == 404
    success = wire.success(
        model=MODEL,
        content="hi",
        reasoning=None,
        prompt_tokens=10,
        completion_tokens=2,
        reasoning_tokens=0,
        request=WireRequest(model=MODEL),
    )
    assert success["id"].startswith("msg_") and success["type"] == "message"
    assert success["role"] == "assistant" and success["stop_reason"] == "end_turn"
    assert success["stop_sequence"] is None
    assert success["content"] == [{"type": "text", "text": "hi"}]
    assert success["usage"]["input_tokens"] == 10 and success["usage"]["output_tokens"] == 2
    status, body, headers = wire.rate_limited(MODEL, Limited("tokens", 40_000, 39_000, 2_000, 7.2))
    assert status == 429 and headers == {"retry-after": "8"}
    assert "40,000 input tokens per minute" in body["error"]["message"]
    assert wire.ratelimit_headers(WindowState()) == {}
    rate = wire.ratelimit_headers(
        WindowState(
            rpm_limit=50, rpm_remaining=10, rpm_reset=30.0, tpm_limit=40_000, tpm_remaining=12_345
        )
    )
    assert rate["anthropic-ratelimit-requests-remaining"] == "10"
    assert rate["anthropic-ratelimit-tokens-remaining"] == "12000"
    info = anthropic_rate_info(rate)
    assert info is not None and info.rpm_limit == 50 and info.tpm_limit == 40_000
    assert info.rpm_reset is not None and 29 <= info.rpm_reset <= 31
    assert wire.response_headers("req_3", 5) == {
        "request-id": "req_3",
        "anthropic-organization-id": wire.organization_id,
    }
