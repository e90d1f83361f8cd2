"""The native Gemini adapter against the simulator speaking Gemini's wire (no mocks).

``FakeUpstream(wire=GeminiWire())`` answers on 127.0.0.1 with Google's own bodies: errors in the
``{"error": {"code", "message", "status", "details"}}`` envelope, 429s whose only delay is a
``RetryInfo.retryDelay``, a 400 API_KEY_INVALID for a wrong key. A few odd answers (HTML, a
blocked prompt) come from tiny loopback servers of their own.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

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
from forge_cli.providers.gemini import DEFAULT_BASE_URL, GeminiProvider, model_spec
from forge_cli.providers.http import make_client
from forge_cli.tasks.classify.task import TicketTask
from forge_cli.testing.sim.answers import default_classification
from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream

KEY = "AIzaSyForgeTest-0123456789abcdefGHIJ"
KEY_ENV = "GEMINI_API_KEY"
MODELS = ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-3-flash-preview")
TEXTS = ("printer on fire", "I was charged twice this month", "the model keeps hallucinating")

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


@pytest.fixture
def wire() -> GeminiWire:
    return GeminiWire(models=MODELS)


@pytest.fixture
def gemini(wire: GeminiWire) -> Iterator[FakeUpstream]:
    with FakeUpstream(wire=wire, api_key=KEY) as server:
        yield server


def provider(
    base_url: str,
    *,
    model: str = "gemini-2.5-flash",
    key: str | None = KEY,
    timeout: float = 10.0,
) -> GeminiProvider:
    return GeminiProvider(
        name="gemini",
        base_url=base_url,
        model=model,
        api_key=key,
        key_env=KEY_ENV,
        client=make_client(timeout, 4),
    )


def pack_request(task: TicketTask | None = None) -> tuple[TicketTask, PackRequest]:
    task = task or TicketTask()
    items = [PackItem(str(n), text) for n, text in enumerate(TEXTS, 1)]
    return task, task.build_request(items)


def sections_request(task: TicketTask) -> PackRequest:
    items = [PackItem(str(n), text) for n, text in enumerate(TEXTS, 1)]
    sections = PromptSections(
        role="You triage customer support tickets.",
        instructions="Choose one category and one priority per ticket.",
        constraints="Use only the listed labels.",
        context=json.dumps([{"id": it.id, "text": it.text} for it in items]),
        task="Classify every ticket in the context.",
        output_format='{"results": [{"id", "category", "priority", "summary"}]}',
    )
    return PackRequest.from_sections(sections, items=items, max_tokens=400)


def complete(prov: GeminiProvider, request: PackRequest) -> Completion:
    async def go() -> Completion:
        try:
            return await prov.complete(request)
        finally:
            await prov.aclose()

    return run(go())


def failure(prov: GeminiProvider, request: PackRequest) -> ProviderError:
    with pytest.raises(ProviderError) as caught:
        complete(prov, request)
    return caught.value


def assert_no_key(exc: BaseException) -> None:
    for text in (str(exc), repr(exc), *map(str, exc.args), getattr(exc, "raw", None) or ""):
        assert KEY not in text
        assert KEY[:16] not in text


# -- success ------------------------------------------------------------------------------------


def test_a_pack_is_answered_and_parsed(gemini: FakeUpstream, wire: GeminiWire) -> None:
    task, request = pack_request()
    completion = complete(provider(gemini.base_url), request)

    parsed = task.parse(completion.content, ["1", "2", "3"])
    assert not parsed.errors
    for n, text in enumerate(TEXTS, 1):
        expected = default_classification(text, task.labels, task.priorities)
        assert parsed.answers[str(n)]["category"] == expected["category"]
    assert completion.tokens_in > 0 and completion.tokens_out > 0
    assert gemini.stats.tokens_in == completion.tokens_in
    assert gemini.stats.tokens_out == completion.tokens_out
    assert completion.model == "gemini-2.5-flash"  # modelVersion
    assert completion.rate is None  # Gemini publishes no rate-limit headers
    assert completion.latency_ms > 0
    config = wire.last_generation_config
    assert config is not None
    assert config["responseMimeType"] == "application/json"
    assert config["maxOutputTokens"] == request.max_tokens  # flash: no thinking, no headroom


def test_key_travels_only_in_the_header(gemini: FakeUpstream, wire: GeminiWire) -> None:
    prov = provider(gemini.base_url)
    seen: list[httpx.Request] = []

    async def remember(req: httpx.Request) -> None:
        seen.append(req)

    prov._client.event_hooks["request"].append(remember)
    complete(prov, pack_request()[1])

    assert wire.last_key_source == "header"
    (sent,) = seen
    assert sent.headers["x-goog-api-key"] == KEY
    assert KEY not in str(sent.url) and "key=" not in str(sent.url)
    assert str(sent.url) == f"{gemini.base_url}/models/gemini-2.5-flash:generateContent"
    (record,) = gemini.stats.records
    assert record.had_authorization and record.status == 200
    assert KEY not in repr(record) and KEY not in repr(gemini)


def test_sections_are_sent_as_xml(gemini: FakeUpstream, wire: GeminiWire) -> None:
    task = TicketTask()
    request = sections_request(task)
    completion = complete(provider(gemini.base_url), request)

    system = wire.last_system_instruction or ""
    assert system.startswith("<role>\nYou triage customer support tickets.\n</role>")
    for tag in ("role", "instructions", "constraints", "output_format"):
        assert f"<{tag}>" in system and f"</{tag}>" in system
    user = wire.last_user_text or ""
    assert user.startswith("<context>\n[") and "</context>\n\n<task>\n" in user
    assert user.endswith("</task>")
    # the simulator found the pack inside <context> and answered every ticket
    assert not task.parse(completion.content, ["1", "2", "3"]).errors


def test_empty_sections_are_left_out() -> None:
    task = TicketTask()
    request = sections_request(task)
    assert request.sections is not None
    request.sections = PromptSections(
        role="r", instructions="", constraints="", context="[]", task="", output_format="o"
    )
    body = provider(DEFAULT_BASE_URL).body(request)
    assert body["systemInstruction"] == {
        "parts": [{"text": "<role>\nr\n</role>\n\n<output_format>\no\n</output_format>"}]
    }
    assert body["contents"] == [{"role": "user", "parts": [{"text": "<context>\n[]\n</context>"}]}]


def test_chat_messages_map_onto_system_instruction_and_roles() -> None:
    request = PackRequest(
        messages=[
            {"role": "system", "content": "be terse"},
            {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "hello"},
            {"role": "user", "content": "[]"},
        ],
        items=[],
        json_mode=False,
        temperature=0.3,
    )
    body = provider(DEFAULT_BASE_URL).body(request)
    assert body["systemInstruction"] == {"parts": [{"text": "be terse"}]}
    assert [c["role"] for c in body["contents"]] == ["user", "model", "user"]
    assert "responseMimeType" not in body["generationConfig"]
    assert body["generationConfig"]["temperature"] == 0.3


def test_gemini_3_keeps_temperature_one_and_thinks_low(
    gemini: FakeUpstream, wire: GeminiWire
) -> None:
    task, request = pack_request()
    request.temperature = 0.0
    completion = complete(provider(gemini.base_url, model="gemini-3-flash-preview"), request)

    config = wire.last_generation_config
    assert config is not None
    assert config["temperature"] == 1.0
    assert config["thinkingConfig"] == {"thinkingLevel": "low"}
    # thinking counts against maxOutputTokens, so a thinking model gets headroom above the answer
    assert config["maxOutputTokens"] > request.max_tokens
    assert not task.parse(completion.content, ["1", "2", "3"]).errors


def test_model_table() -> None:
    assert model_spec("gemini-3-pro-preview").temperature == 1.0
    assert model_spec("models/gemini-3.1-pro-preview").thinking == {"thinkingLevel": "low"}
    assert model_spec("gemini-2.5-flash-lite").thinking == {"thinkingBudget": 0}
    assert model_spec("gemini-2.5-flash").temperature is None
    pro = model_spec("gemini-2.5-pro")
    assert pro.thinking is not None and pro.thinking["thinkingBudget"] > 0  # cannot be 0
    assert model_spec("gemini-2.0-flash").thinking is None


def test_schema_is_passed_as_gemini_response_schema() -> None:
    _, request = pack_request()
    request.schema = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "results": {
                "type": "array",
                "items": {"type": "string", "enum": ["a", "b"], "$comment": "dropped"},
            }
        },
        "required": ["results"],
    }
    config = provider(DEFAULT_BASE_URL).body(request)["generationConfig"]
    # Gemini's Schema is an OpenAPI subset: enum type names, no keywords it does not know, and
    # the properties in the task's order (Gemini's own is alphabetical)
    assert config["responseSchema"] == {
        "type": "OBJECT",
        "properties": {
            "results": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}}
        },
        "propertyOrdering": ["results"],
        "required": ["results"],
    }
    assert config["responseMimeType"] == "application/json"


def test_the_ticket_task_sends_its_labels_as_an_enum() -> None:
    task = TicketTask(labels=("refund", "other"))
    request = task.build_request([PackItem("1", "money back please")])
    schema = provider(DEFAULT_BASE_URL).body(request)["generationConfig"]["responseSchema"]
    entry = schema["properties"]["results"]["items"]
    assert entry["properties"]["category"] == {"type": "STRING", "enum": ["refund", "other"]}


def test_thought_parts_are_not_the_answer(gemini: FakeUpstream) -> None:
    task, request = pack_request()
    gemini.script(Fault("reasoning"))
    completion = complete(provider(gemini.base_url), request)
    assert not task.parse(completion.content, ["1", "2", "3"]).errors
    # thoughts are billed as output: candidates + thoughts
    assert completion.tokens_out == gemini.stats.tokens_out
    assert completion.tokens_out > len(completion.content) // 4


# -- errors -------------------------------------------------------------------------------------


def test_wrong_key_is_an_auth_error_without_the_key(gemini: FakeUpstream) -> None:
    wrong = "AIzaSyWrongWrongWrong-9876543210zyxw"
    exc = failure(provider(gemini.base_url, key=wrong), pack_request()[1])
    assert isinstance(exc, AuthError) and not exc.retryable
    assert exc.status == 400  # Gemini's wrong key is INVALID_ARGUMENT, not 401
    assert KEY_ENV in str(exc) and "INVALID_ARGUMENT" in str(exc)
    assert exc.provider == "gemini"
    for text in (str(exc), repr(exc), *map(str, exc.args), exc.raw or ""):
        assert wrong not in text and wrong[:16] not in text
    assert_no_key(exc)


def test_missing_key_is_an_auth_error(gemini: FakeUpstream, wire: GeminiWire) -> None:
    exc = failure(provider(gemini.base_url, key=None), pack_request()[1])
    assert isinstance(exc, AuthError)
    assert exc.status == 403 and "PERMISSION_DENIED" in str(exc)
    assert wire.last_key_source is None


def test_rate_limit_delay_comes_from_retry_info(wire: GeminiWire) -> None:
    responses: list[httpx.Response] = []

    async def remember(response: httpx.Response) -> None:
        responses.append(response)

    with FakeUpstream(wire=wire, api_key=KEY, rpm_limit=1) as server:
        complete(provider(server.base_url), pack_request()[1])
        limited = provider(server.base_url)
        limited._client.event_hooks["response"].append(remember)
        exc = failure(limited, pack_request()[1])
    assert "retry-after" not in responses[-1].headers
    assert responses[-1].headers["server-timing"].startswith("gfet4t7; dur=")
    assert isinstance(exc, RateLimitError) and exc.retryable
    assert exc.status == 429 and "RESOURCE_EXHAUSTED" in str(exc)
    assert "GenerateRequestsPerMinutePerProjectPerModel-FreeTier" in str(exc)
    # no Retry-After header on Gemini's 429: the 60 s window's wait is in RetryInfo ("60s")
    assert exc.retry_after is not None and 55 <= exc.retry_after <= 60
    assert exc.raw and exc.raw.startswith('{"error"')


def test_scripted_rate_limit(gemini: FakeUpstream) -> None:
    gemini.script(Fault("429"))
    exc = failure(provider(gemini.base_url), pack_request()[1])
    assert isinstance(exc, RateLimitError)
    assert exc.retry_after == 1.0  # retryDelay "1s"


@pytest.mark.parametrize(
    ("fault", "status", "label"),
    [
        (Fault("503"), 503, "UNAVAILABLE"),
        (Fault("overloaded"), 503, "UNAVAILABLE"),
        (Fault("500"), 500, "INTERNAL"),
    ],
)
def test_server_errors_are_retryable(
    gemini: FakeUpstream, fault: Fault, status: int, label: str
) -> None:
    gemini.script(fault)
    exc = failure(provider(gemini.base_url), pack_request()[1])
    assert isinstance(exc, UpstreamError) and exc.retryable and exc.trips_breaker
    assert exc.status == status and label in str(exc)
    assert exc.retry_after is None


def test_503_with_retry_after_header(gemini: FakeUpstream) -> None:
    gemini.script(Fault("503", retry_after=4))
    exc = failure(provider(gemini.base_url), pack_request()[1])
    assert isinstance(exc, UpstreamError) and exc.retry_after == 4.0


def test_unknown_model_is_not_found(gemini: FakeUpstream) -> None:
    exc = failure(provider(gemini.base_url, model="gemini-9-ultra"), pack_request()[1])
    assert isinstance(exc, NotFoundError) and not exc.retryable
    assert exc.status == 404
    assert "gemini-9-ultra" in str(exc) and gemini.base_url in str(exc)
    assert "ListModels" in (exc.raw or "")


def test_timeout(gemini: FakeUpstream) -> None:
    gemini.script(Fault("timeout", delay=0.6))
    started = time.monotonic()
    exc = failure(provider(gemini.base_url, timeout=0.15), pack_request()[1])
    assert isinstance(exc, ProviderTimeoutError) and exc.retryable
    assert time.monotonic() - started < 0.6


def test_malformed_answer_is_an_invalid_response(gemini: FakeUpstream) -> None:
    task, request = pack_request()
    gemini.script(Fault("malformed"))
    completion = complete(provider(gemini.base_url), request)
    with pytest.raises(InvalidResponseError):
        task.parse(completion.content, ["1", "2", "3"])


def test_empty_answer_is_an_invalid_response(gemini: FakeUpstream) -> None:
    task, request = pack_request()
    gemini.script(Fault("empty"))
    completion = complete(provider(gemini.base_url), request)
    assert completion.content == ""
    with pytest.raises(InvalidResponseError):
        task.parse(completion.content, ["1", "2", "3"])


def test_reset_connection_is_an_upstream_error(gemini: FakeUpstream) -> None:
    gemini.script(Fault("reset"))
    exc = failure(provider(gemini.base_url), pack_request()[1])
    assert isinstance(exc, UpstreamError)


# -- odd bodies from small loopback servers -----------------------------------------------------


class RawServer(ThreadingHTTPServer):
    """Answers every POST with a fixed status, content type and body."""

    daemon_threads = True

    def __init__(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        super().__init__(("127.0.0.1", 0), RawHandler)
        self.status = status
        self.body = body
        self.content_type = content_type

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1beta"


class RawHandler(BaseHTTPRequestHandler):
    server: RawServer

    def log_message(self, *args: object) -> None:
        return None

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length") or 0))
        self.send_response(self.server.status)
        self.send_header("content-type", self.server.content_type)
        self.send_header("content-length", str(len(self.server.body)))
        self.end_headers()
        self.wfile.write(self.server.body)


@pytest.fixture
def raw_server() -> Iterator[Callable[..., RawServer]]:
    servers: list[RawServer] = []

    def start(status: int, body: Any, content_type: str = "application/json") -> RawServer:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        server = RawServer(status, data, content_type)
        threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        ).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def test_non_json_body_is_an_invalid_response(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(200, b"<html><body>Service Unavailable</body></html>", "text/html")
    exc = failure(provider(server.base_url), pack_request()[1])
    assert isinstance(exc, InvalidResponseError)
    assert exc.raw and "<html>" in exc.raw


def test_html_502_is_an_upstream_error(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(502, b"<html>502 Bad Gateway</html>", "text/html")
    exc = failure(provider(server.base_url), pack_request()[1])
    assert isinstance(exc, UpstreamError) and exc.status == 502


def test_blocked_prompt_names_the_block_reason(raw_server: Callable[..., RawServer]) -> None:
    server = raw_server(
        200,
        {
            "promptFeedback": {"blockReason": "PROHIBITED_CONTENT"},
            "usageMetadata": {"promptTokenCount": 12, "totalTokenCount": 12},
            "modelVersion": "gemini-2.5-flash",
        },
    )
    exc = failure(provider(server.base_url), pack_request()[1])
    assert isinstance(exc, InvalidResponseError) and "PROHIBITED_CONTENT" in str(exc)


def test_safety_stop_without_text_is_an_invalid_response(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(
        200,
        {"candidates": [{"finishReason": "SAFETY", "index": 0}], "modelVersion": "m"},
    )
    exc = failure(provider(server.base_url), pack_request()[1])
    assert isinstance(exc, InvalidResponseError) and "SAFETY" in str(exc)


def test_max_tokens_spent_thinking_is_an_invalid_response(
    raw_server: Callable[..., RawServer],
) -> None:
    server = raw_server(
        200,
        {
            "candidates": [
                {"content": {"role": "model"}, "finishReason": "MAX_TOKENS", "index": 0}
            ],
            "usageMetadata": {"promptTokenCount": 9, "thoughtsTokenCount": 200},
        },
    )
    exc = failure(provider(server.base_url), pack_request()[1])
    assert isinstance(exc, InvalidResponseError) and "MAX_TOKENS" in str(exc)


def test_daily_quota_stops_the_run(raw_server: Callable[..., RawServer]) -> None:
    quota = {
        "@type": "type.googleapis.com/google.rpc.QuotaFailure",
        "violations": [{"quotaId": "GenerateRequestsPerDayPerProjectPerModel-FreeTier"}],
    }
    retry = {"@type": "type.googleapis.com/google.rpc.RetryInfo", "retryDelay": "12s"}
    body = {
        "error": {
            "code": 429,
            "message": "You exceeded your current quota.",
            "status": "RESOURCE_EXHAUSTED",
            "details": [quota, retry],
        }
    }
    exc = failure(provider(raw_server(429, body).base_url), pack_request()[1])
    assert isinstance(exc, AuthError) and "daily quota" in str(exc)


def test_deadline_exceeded_is_a_timeout(raw_server: Callable[..., RawServer]) -> None:
    body = {"error": {"code": 504, "message": "Deadline expired.", "status": "DEADLINE_EXCEEDED"}}
    exc = failure(provider(raw_server(504, body).base_url), pack_request()[1])
    assert isinstance(exc, ProviderTimeoutError) and exc.status == 504


def test_other_client_errors_are_request_errors(raw_server: Callable[..., RawServer]) -> None:
    body = {
        "error": {
            "code": 400,
            "message": "Request contains an invalid argument.",
            "status": "INVALID_ARGUMENT",
        }
    }
    exc = failure(provider(raw_server(400, body).base_url), pack_request()[1])
    assert isinstance(exc, RequestError) and not isinstance(exc, AuthError)
    assert "invalid argument" in str(exc)


def test_provider_text_echoing_the_key_is_scrubbed(raw_server: Callable[..., RawServer]) -> None:
    body = {"error": {"code": 500, "message": f"boom near {KEY}", "status": "INTERNAL"}}
    exc = failure(provider(raw_server(500, body).base_url), pack_request()[1])
    assert isinstance(exc, UpstreamError)
    assert_no_key(exc)


# -- the wire on its own ------------------------------------------------------------------------


def test_wire_refuses_requests_without_contents() -> None:
    request = GeminiWire().parse({"generationConfig": {}}, "gemini-2.5-flash", {})
    assert request.error is not None
    status, body = request.error
    assert status == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
    assert "contents is not specified" in body["error"]["message"]


def test_wire_refuses_unknown_fields_and_roles() -> None:
    wire = GeminiWire()
    unknown = wire.parse({"messages": [], "contents": [{"parts": []}]}, "m", {}).error
    assert unknown is not None and 'Unknown name "messages"' in unknown[1]["error"]["message"]
    role = wire.parse({"contents": [{"role": "assistant", "parts": [{"text": "x"}]}]}, "m", {})
    assert role.error is not None and "valid role" in role.error[1]["error"]["message"]


def test_wire_reads_the_pack_out_of_context() -> None:
    body = {
        "systemInstruction": {"parts": [{"text": "<role>\nr\n</role>"}]},
        "contents": [
            {
                "role": "user",
                "parts": [{"text": '<context>\n[{"id": "1", "text": "x"}]\n</context>'}],
            }
        ],
        "generationConfig": {"maxOutputTokens": 77, "responseMimeType": "application/json"},
    }
    request = GeminiWire().parse(body, "gemini-2.5-flash", {})
    assert request.error is None and request.model == "gemini-2.5-flash"
    assert request.max_tokens == 77 and request.wants_json
    assert request.messages == [
        {"role": "system", "content": "<role>\nr\n</role>"},
        {"role": "user", "content": '[{"id": "1", "text": "x"}]'},
    ]


def test_wire_key_from_query_is_noted_but_not_kept() -> None:
    wire = GeminiWire()
    assert wire.presented_key({}, {"key": "k123"}) == "k123"
    assert wire.last_key_source == "query"
    assert "k123" not in repr(vars(wire))
