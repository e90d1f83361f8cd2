"""The native Cohere v2 adapter against the loopback simulator speaking Cohere's wire.

No mocks: every test sends real HTTP to a ``FakeUpstream(wire=CohereWire())`` on 127.0.0.1 and
checks what forge makes of Cohere's bodies, headers and status codes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from forge_cli.core.calls import Completion, PackItem, PackRequest
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
from forge_cli.providers.cohere import DEFAULT_BASE_URL, CohereProvider
from forge_cli.providers.http import make_client
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.cohere_wire import CohereWire
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.server import FakeUpstream
from forge_cli.testing.sim.wire import Headers, Wire, WireRequest

KEY = "co-test-7c1d9e2f4a6b8c0d1e3f5a7b9c2d4e6f"
WRONG_KEY = "co-wrong-0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d"
KEY_ENV = "CO_API_KEY"
MODEL = "command-a-03-2025"
TASK = TicketTask()
ITEMS = [
    PackItem("1", "printer on fire"),
    PackItem("2", "I was charged twice for March"),
    PackItem("3", "app crashes when I open settings"),
]


class RecordingWire(CohereWire):
    """Cohere's wire that also keeps the request bodies it read (the simulator keeps none)."""

    def __init__(self) -> None:
        super().__init__()
        self.bodies: list[Any] = []

    def parse(self, body: Any, path_model: str | None, headers: Headers) -> WireRequest:
        self.bodies.append(body)
        return super().parse(body, path_model, headers)


class ShapeWire(CohereWire):
    """Answers 200 with a body of the test's choosing instead of Cohere's chat response."""

    def __init__(self, body: Any) -> None:
        super().__init__()
        self.body = body

    def success(self, **kwargs: Any) -> Any:
        return self.body


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(wire=CohereWire(), api_key=KEY) as server:
        yield server


def provider(
    server: FakeUpstream, *, key: str | None = KEY, timeout: float = 10.0, base_url: str = ""
) -> CohereProvider:
    return CohereProvider(
        name="cohere",
        base_url=base_url or server.base_url,
        model=MODEL,
        api_key=key,
        key_env=KEY_ENV,
        client=make_client(timeout, 4),
        price_in=2.5,
        price_out=10.0,
    )


def complete(p: CohereProvider, request: PackRequest | None = None) -> Completion:
    async def run() -> Completion:
        try:
            return await p.complete(request or TASK.build_request(ITEMS))
        finally:
            await p.aclose()

    return asyncio.run(run())


def failure(p: CohereProvider, request: PackRequest | None = None) -> ProviderError:
    with pytest.raises(ProviderError) as info:
        complete(p, request)
    return info.value


def chat(text: str, *, json_mode: bool) -> PackRequest:
    return PackRequest(
        messages=[{"role": "user", "content": text}],
        items=[],
        json_mode=json_mode,
    )


def test_the_wire_satisfies_the_protocol() -> None:
    wire: Wire = CohereWire()
    assert (wire.name, wire.base_path) == ("cohere", "/v2")
    assert DEFAULT_BASE_URL == "https://api.cohere.com/v2"


def test_success_answers_every_item_and_counts_tokens(upstream: FakeUpstream) -> None:
    p = provider(upstream)
    assert (p.name, p.model, p.cacheable, p.price_in, p.price_out) == (
        "cohere",
        MODEL,
        True,
        2.5,
        10.0,
    )
    done = complete(p)
    parsed = TASK.parse(done.content, [it.id for it in ITEMS])
    assert parsed.errors == {}
    assert sorted(parsed.answers) == ["1", "2", "3"]
    assert parsed.answers["1"]["summary"] == "printer on fire"
    assert done.model == MODEL
    assert done.tokens_in > 0 and done.tokens_out > 0
    assert (done.tokens_in, done.tokens_out) == (
        upstream.stats.tokens_in,
        upstream.stats.tokens_out,
    )
    assert done.latency_ms > 0
    assert done.rate is None  # no trial limit configured: Cohere sends no rate headers
    assert upstream.stats.records[0].had_authorization


def test_trial_call_budget_becomes_rate_info() -> None:
    with FakeUpstream(wire=CohereWire(), api_key=KEY, rpm_limit=20) as server:
        first = complete(provider(server))
        second = complete(provider(server))
    assert first.rate is not None and second.rate is not None
    assert (first.rate.rpm_limit, first.rate.rpm_remaining) == (20, 19)
    assert (second.rate.rpm_limit, second.rate.rpm_remaining) == (20, 18)
    assert first.rate.tpm_limit is None and first.rate.rpm_reset is None


def test_json_mode_is_sent_as_response_format() -> None:
    wire = RecordingWire()
    schema = {"type": "object", "properties": {"results": {"type": "array"}}}
    with FakeUpstream(wire=wire, api_key=KEY) as server:
        request = TASK.build_request(ITEMS)
        request.schema = schema
        complete(provider(server), request)
        as_json = complete(provider(server), chat("hello there", json_mode=True))
        as_text = complete(provider(server), chat("hello there", json_mode=False))
    sent = wire.bodies[0]
    assert sent["model"] == MODEL
    assert sent["stream"] is False
    assert sent["response_format"] == {"type": "json_object", "json_schema": schema}
    assert sent["messages"] == request.messages  # system + user, as v2 takes them
    assert sent["max_tokens"] == request.max_tokens
    assert sent["temperature"] == request.temperature
    assert wire.bodies[1]["response_format"] == {"type": "json_object"}
    assert "response_format" not in wire.bodies[2]
    # the simulator honours response_format the way Cohere does: JSON only when asked
    assert as_json.content == '{"reply": "Simulated reply to: hello there"}'
    assert as_text.content == "Simulated reply to: hello there"


def _assert_no_key(exc: ProviderError, *keys: str) -> None:
    for key in keys:
        for text in (str(exc), repr(exc), exc.message, exc.raw or "", *map(str, exc.args)):
            assert key not in text


def test_wrong_key_is_an_auth_error_that_never_shows_a_key(upstream: FakeUpstream) -> None:
    exc = failure(provider(upstream, key=WRONG_KEY))
    assert isinstance(exc, AuthError)
    assert exc.status == 401 and exc.provider == "cohere" and not exc.retryable
    assert f"set {KEY_ENV} to a valid key" in str(exc)
    assert "refused" in str(exc)
    _assert_no_key(exc, WRONG_KEY, KEY)
    assert upstream.stats.by_status == {401: 1}


def test_missing_key_and_scripted_401(upstream: FakeUpstream) -> None:
    missing = failure(provider(upstream, key=None))
    assert isinstance(missing, AuthError) and "no key was sent" in str(missing)
    upstream.script(Fault("401"))
    scripted = failure(provider(upstream))
    assert isinstance(scripted, AuthError) and scripted.status == 401
    _assert_no_key(scripted, KEY)


def test_429_is_a_rate_limit_with_retry_after_when_sent(upstream: FakeUpstream) -> None:
    upstream.script(Fault("429", retry_after=3), Fault("429"))
    with_header = failure(provider(upstream))
    assert isinstance(with_header, RateLimitError) and with_header.retryable
    assert with_header.status == 429 and with_header.retry_after == 3.0
    assert "Trial key" in str(with_header)
    without = failure(provider(upstream))
    assert isinstance(without, RateLimitError) and without.retry_after is None


def test_the_real_per_minute_window_refuses_without_retry_after() -> None:
    with FakeUpstream(wire=CohereWire(), api_key=KEY, rpm_limit=1) as server:
        complete(provider(server))
        exc = failure(provider(server))
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after is None  # Cohere's 429s carry no Retry-After
    assert "limited to 1 API calls / minute" in str(exc)


@pytest.mark.parametrize(("fault", "status"), [("500", 500), ("503", 503), ("overloaded", 503)])
def test_server_errors_are_retryable_upstream_errors(
    upstream: FakeUpstream, fault: Any, status: int
) -> None:
    upstream.script(Fault(fault))
    exc = failure(provider(upstream))
    assert isinstance(exc, UpstreamError) and exc.retryable and exc.trips_breaker
    assert exc.status == status and exc.provider == "cohere"


def test_503_passes_retry_after_on(upstream: FakeUpstream) -> None:
    upstream.script(Fault("503", retry_after=2))
    exc = failure(provider(upstream))
    assert isinstance(exc, UpstreamError) and exc.retry_after == 2.0


def test_a_reset_connection_is_an_upstream_error(upstream: FakeUpstream) -> None:
    upstream.script(Fault("reset"))
    exc = failure(provider(upstream))
    assert isinstance(exc, UpstreamError) and exc.retryable


def test_wrong_base_url_is_not_found(upstream: FakeUpstream) -> None:
    wrong = upstream.base_url + "/nowhere"
    exc = failure(provider(upstream, base_url=wrong))
    assert isinstance(exc, NotFoundError) and exc.status == 404
    assert wrong in str(exc) and MODEL in str(exc)


def test_unknown_model_is_not_found() -> None:
    with FakeUpstream(wire=CohereWire(models={"command-r7b-12-2024"}), api_key=KEY) as server:
        exc = failure(provider(server))
    assert isinstance(exc, NotFoundError)
    assert f"model '{MODEL}' not found" in str(exc) and server.base_url in str(exc)


def test_a_rejected_request_is_a_request_error(upstream: FakeUpstream) -> None:
    request = TASK.build_request(ITEMS)
    request.temperature = 1.5  # Cohere takes 0..1
    exc = failure(provider(upstream), request)
    assert isinstance(exc, RequestError) and not exc.retryable and exc.status == 400
    assert "temperature" in str(exc)


def test_a_slow_answer_is_a_timeout(upstream: FakeUpstream) -> None:
    upstream.script(Fault("timeout", delay=1.0))
    exc = failure(provider(upstream, timeout=0.2))
    assert isinstance(exc, ProviderTimeoutError) and exc.retryable


@pytest.mark.parametrize("fault", ["malformed", "empty"])
def test_a_malformed_answer_is_an_invalid_response(upstream: FakeUpstream, fault: Any) -> None:
    upstream.script(Fault(fault))
    done = complete(provider(upstream))
    with pytest.raises(InvalidResponseError):
        TASK.parse(done.content, [it.id for it in ITEMS])


def test_a_partial_answer_fails_only_the_missing_item(upstream: FakeUpstream) -> None:
    upstream.script(Fault("partial", drop=1))
    parsed = TASK.parse(complete(provider(upstream)).content, [it.id for it in ITEMS])
    assert sorted(parsed.answers) == ["2", "3"] and list(parsed.errors) == ["1"]


def test_thinking_parts_are_not_the_answer(upstream: FakeUpstream) -> None:
    upstream.script(Fault("reasoning"))
    done = complete(provider(upstream))
    assert done.content.startswith('{"results"')
    assert TASK.parse(done.content, [it.id for it in ITEMS]).errors == {}


@pytest.mark.parametrize(
    "body",
    [
        {"choices": [{"message": {"content": "{}"}}]},  # an OpenAI answer
        {"id": "x", "finish_reason": "COMPLETE"},
        ["not", "an", "object"],
    ],
)
def test_a_wrong_shape_is_an_invalid_response(body: Any) -> None:
    with FakeUpstream(wire=ShapeWire(body), api_key=KEY) as server:
        exc = failure(provider(server))
    assert isinstance(exc, InvalidResponseError) and exc.status == 200
    assert exc.raw and exc.raw.startswith(("{", "["))


def test_billed_units_are_the_fallback_and_finish_reason_error_fails() -> None:
    billed_only = {
        "id": "x",
        "finish_reason": "MAX_TOKENS",
        "message": {"role": "assistant", "content": [{"type": "text", "text": "{}"}]},
        "usage": {"billed_units": {"input_tokens": 17.0, "output_tokens": 12}},
    }
    with FakeUpstream(wire=ShapeWire(billed_only), api_key=KEY) as server:
        done = complete(provider(server))
    assert (done.content, done.tokens_in, done.tokens_out) == ("{}", 17, 12)
    errored = {**billed_only, "finish_reason": "ERROR"}
    with FakeUpstream(wire=ShapeWire(errored), api_key=KEY) as server:
        exc = failure(provider(server))
    assert isinstance(exc, UpstreamError) and exc.retryable


class EchoWire(CohereWire):
    """Rejects every request with a 400 that echoes the Authorization header back."""

    def parse(self, body: Any, path_model: str | None, headers: Headers) -> WireRequest:
        request = super().parse(body, path_model, headers)
        request.error = (
            400,
            {"id": "x", "message": f"invalid request: {headers.get('Authorization')}"},
        )
        return request


def test_a_key_echoed_by_the_provider_is_scrubbed() -> None:
    with FakeUpstream(wire=EchoWire(), api_key=KEY) as server:
        exc = failure(provider(server))
    assert isinstance(exc, RequestError) and "Bearer ***" in str(exc)
    _assert_no_key(exc, KEY)
