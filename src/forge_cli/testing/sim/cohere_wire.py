"""Cohere's native v2 chat dialect for the simulated upstream (``POST /v2/chat``).

What is emulated, and how sure it is:

* Verified from Cohere's docs, generated SDKs and real responses quoted in public code:

  - request ``{model, messages [{role, content}], temperature, max_tokens, stream,
    response_format {"type": "json_object", "json_schema"?}}``; ``content`` is a string or a
    list of ``{"type": "text", "text"}`` parts; the key travels as ``Authorization: Bearer KEY``;
  - success ``{id (UUID), message {role: "assistant", content [{type: "thinking", thinking}?,
    {type: "text", text}]}, finish_reason: "COMPLETE", usage {billed_units {input_tokens,
    output_tokens}, tokens {input_tokens, output_tokens}}}`` (no model field);
  - every error body is a flat ``{"id", "message"}`` with no code; documented messages used
    here: 401 "no api key supplied" / "invalid api token", 400 "a model parameter is required
    for this endpoint.", "invalid request: temperature must be between 0 and 1.0 inclusive.",
    "schema must be an object", 404 "model 'x' not found, make sure the correct model ID was
    used and that you have access to the model." and "404 page not found", 429 "You are using a
    Trial key, which is limited to N API calls / minute. ..." and "trial token rate limit
    exceeded, limit is N tokens per minute", 429 "Please wait and try again later", 500
    "internal server error, this has been reported to our developers";
  - headers seen on real responses: ``x-debug-trace-id`` (32 hex), ``x-envoy-upstream-service-
    time`` (ms), ``access-control-expose-headers: X-Debug-Trace-ID``, the no-cache set; with a
    trial key also ``x-endpoint-monthly-call-limit: 1000``, ``x-trial-endpoint-call-limit`` and
    ``x-trial-endpoint-call-remaining`` (a rolling per-minute call budget counting down; no reset
    header). A measured 429 carried no Retry-After and no rate-limit headers, so none are added
    here (``Fault("429", retry_after=...)`` still adds its own Retry-After).

* Plausible guesses, where nothing public shows the real text: the 400 of a server told it
  lacks ``json_schema`` or JSON mode (``output_refused``), the 503 "overloaded" body
  (Cohere's OpenAPI lists 503 "too many users trying to access the service at the same time"
  without an example message), the 502/504 messages, the 400 for empty ``messages``, the tail of
  the invalid-JSON message (its "invalid json syntax:" prefix is documented), and the messages of
  the server's own refusals of an unreadable request (400 for a Content-Length that is not a
  number, 413 for a body over the limit; their flat shape is the documented one).

The trial headers are sent only when the simulator has an ``rpm_limit`` (a trial key in effect),
so a client never paces itself on made-up numbers; Cohere states no token limit in headers.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from forge_cli.testing.sim.wire import Headers, Limited, WindowState, WireRequest

__all__ = ["MONTHLY_CALL_LIMIT", "CohereWire"]

#: what ``x-endpoint-monthly-call-limit`` says for a trial key (Cohere's documented 1,000 calls)
MONTHLY_CALL_LIMIT = 1000
_DASHBOARD = "https://dashboard.cohere.com/api-keys"
_DISCORD = "https://discord.gg/XW44jPfYJu"
_UNAVAILABLE = (
    "service unavailable: too many users are trying to access the service, try again later"
)


def _body(message: str) -> dict[str, str]:
    return {"id": str(uuid.uuid4()), "message": message}


def _text(content: Any) -> str:
    """The text of a v2 message content: a string, one text part, or a list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        content = [content]
    if isinstance(content, list):
        return "".join(
            part["text"]
            for part in content
            if isinstance(part, dict)
            and part.get("type") == "text"
            and isinstance(part.get("text"), str)
        )
    return ""


def _bearer(value: str | None) -> str | None:
    if not value:
        return None
    scheme, _, token = value.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


class CohereWire:
    """Cohere's v2 chat API as seen by a client: route, key, bodies and headers.

    ``models``: when given, other model names get Cohere's 404 (after the key check, as the real
    API answers a bad key first); None accepts any model name.
    """

    name = "cohere"
    base_path = "/v2"

    def __init__(self, models: Collection[str] | None = None) -> None:
        self.models: frozenset[str] | None = None if models is None else frozenset(models)

    def chat_route(self, method: str, path: str) -> str | None:
        return "" if method == "POST" and path == "/v2/chat" else None

    def presented_key(self, headers: Headers, query: Mapping[str, str]) -> str | None:
        return _bearer(headers.get("Authorization"))

    def auth_failure(self, presented: str | None) -> tuple[int, Any]:
        # Cohere never echoes the key, not even masked
        return 401, _body("invalid api token" if presented else "no api key supplied")

    def parse(self, body: Any, path_model: str | None, headers: Headers) -> WireRequest:
        if not isinstance(body, dict):
            return WireRequest(model=None, error=self.bad_json())
        model = body.get("model") if isinstance(body.get("model"), str) else None
        request = WireRequest(model=model or None)
        messages = body.get("messages")
        if isinstance(messages, list):
            request.messages = [
                {"role": m.get("role"), "content": _text(m.get("content"))}
                for m in messages
                if isinstance(m, dict)
            ]
        max_tokens = body.get("max_tokens")
        if isinstance(max_tokens, int) and not isinstance(max_tokens, bool):
            request.max_tokens = max(0, max_tokens)
        response_format = body.get("response_format")
        response_format = response_format if isinstance(response_format, dict) else {}
        request.wants_json = response_format.get("type") == "json_object"
        if request.wants_json:
            schema = response_format.get("json_schema")
            request.output = "schema" if isinstance(schema, dict) else "json"
            request.schema = schema if isinstance(schema, dict) else None
        temperature = body.get("temperature")

        if request.model is None:
            request.error = (400, _body("a model parameter is required for this endpoint."))
        elif not isinstance(messages, list) or not messages:
            request.error = (400, _body("invalid request: messages must not be empty."))
        elif isinstance(temperature, int | float) and not 0 <= temperature <= 1:
            request.error = (
                400,
                _body("invalid request: temperature must be between 0 and 1.0 inclusive."),
            )
        elif "json_schema" in response_format and not isinstance(
            response_format["json_schema"], dict
        ):
            request.error = (400, _body("schema must be an object"))
        elif self.models is not None and request.model not in self.models:
            request.error = (
                404,
                _body(
                    f"model '{request.model}' not found, make sure the correct model ID was "
                    "used and that you have access to the model."
                ),
            )
        return request

    def bad_json(self) -> tuple[int, Any]:
        return 400, _body("invalid json syntax: invalid character looking for beginning of value")

    def not_found(self, method: str, path: str) -> tuple[int, Any]:
        # the router's plain answer; it names neither the method nor the path
        return 404, {"message": "404 page not found"}

    def bad_content_length(self) -> tuple[int, Any]:
        return 400, _body("invalid request: invalid Content-Length header.")

    def too_large(self) -> tuple[int, Any]:
        return 413, _body("request body too large")

    def output_refused(self, output: str, model: str) -> tuple[int, Any]:
        # the simulator's wording: nothing public shows Cohere refusing a response_format
        what = "json_schema" if output == "schema" else "json_object"
        return 400, _body(
            f"invalid request: response_format {what} is not supported for model '{model}'."
        )

    def success(
        self,
        *,
        model: str,
        content: str,
        reasoning: str | None,
        prompt_tokens: int,
        completion_tokens: int,
        reasoning_tokens: int,
        request: WireRequest,
    ) -> Any:
        parts: list[dict[str, str]] = []
        if reasoning is not None:
            parts.append({"type": "thinking", "thinking": reasoning})
        parts.append({"type": "text", "text": content})
        # billed output includes the thinking (as Cohere's reasoning responses show)
        out = completion_tokens + reasoning_tokens
        return {
            "id": str(uuid.uuid4()),
            "message": {"role": "assistant", "content": parts},
            "finish_reason": "COMPLETE",
            "usage": {
                "billed_units": {"input_tokens": prompt_tokens, "output_tokens": out},
                "tokens": {"input_tokens": prompt_tokens, "output_tokens": out},
            },
        }

    def rate_limited(self, model: str, limited: Limited) -> tuple[int, Any, dict[str, str]]:
        if limited.dimension == "tokens":
            message = f"trial token rate limit exceeded, limit is {limited.limit} tokens per minute"
        else:
            message = (
                f"You are using a Trial key, which is limited to {limited.limit} API calls / "
                "minute. You can continue to use the Trial key for free or upgrade to a "
                f"Production key with higher rate limits at '{_DASHBOARD}'. Contact us on "
                f"'{_DISCORD}' or email us at support@cohere.com with any questions"
            )
        return 429, _body(message), {}

    def server_error(self, status: int, request_id: str) -> Any:
        if status == 429:
            return _body("Please wait and try again later")
        if status == 502:
            return _body("bad gateway")
        if status == 503:
            return _body(_UNAVAILABLE)
        if status == 504:
            return _body("gateway timeout: the request took too long to process")
        if status >= 500:
            return _body("internal server error, this has been reported to our developers")
        return _body(f"invalid request: simulated failure with status {status}")

    def overloaded(self, request_id: str) -> tuple[int, Any]:
        return 503, _body(_UNAVAILABLE)

    def response_headers(self, request_id: str, elapsed_ms: int) -> dict[str, str]:
        return {
            "access-control-expose-headers": "X-Debug-Trace-ID",
            "cache-control": "no-cache, no-store, no-transform, must-revalidate, private, max-age=0",
            "expires": "Thu, 01 Jan 1970 00:00:00 GMT",
            "pragma": "no-cache",
            "vary": "Origin",
            "x-accel-expires": "0",
            "x-debug-trace-id": hashlib.sha256(request_id.encode()).hexdigest()[:32],
            "x-envoy-upstream-service-time": str(max(0, elapsed_ms)),
        }

    def ratelimit_headers(self, window: WindowState) -> dict[str, str]:
        if window.rpm_limit is None:
            return {}
        remaining = window.rpm_remaining if window.rpm_remaining is not None else window.rpm_limit
        return {
            "x-endpoint-monthly-call-limit": str(MONTHLY_CALL_LIMIT),
            "x-trial-endpoint-call-limit": str(window.rpm_limit),
            "x-trial-endpoint-call-remaining": str(max(0, remaining)),
        }


if TYPE_CHECKING:
    from forge_cli.testing.sim.wire import Wire

    _check: Wire = CohereWire()
