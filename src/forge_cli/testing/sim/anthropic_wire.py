"""Anthropic's Messages API as the simulated upstream speaks it (``AnthropicWire``).

Follows the public API as documented and as seen in real responses:

* route ``POST /v1/messages``; the key in ``x-api-key``; ``anthropic-version`` required (400
  ``anthropic-version: header is required`` without it); ``model``, ``max_tokens`` and
  ``messages`` required (400 ``max_tokens: Field required`` ...); the system prompt is a top-level
  ``system`` (a string or a list of text blocks), and a ``system`` role inside ``messages`` is
  refused with Anthropic's own message;
* success: a ``message`` object (``msg_`` id, ``type``, ``role``, ``model``, typed ``content``
  blocks with a ``thinking`` block before the text when the responder reasons, ``stop_reason``,
  ``stop_sequence``, ``usage`` with the ``cache_*`` counts and ``service_tier``);
* errors: ``{"type": "error", "error": {"type", "message"}, "request_id"}`` with the documented
  types: 400 ``invalid_request_error``, 401 ``authentication_error`` (``x-api-key header is
  required`` / ``invalid x-api-key``), 403 ``permission_error``, 404 ``not_found_error``, 413
  ``request_too_large``, 429 ``rate_limit_error`` ("This request would exceed the rate limit for
  your organization (...) of N requests per minute. ..."), 500 ``api_error`` ("Internal server
  error"), 529 ``overloaded_error`` ("Overloaded"); the server's own refusals of an unreadable
  request are in the same envelope: 413 ``request_too_large`` with its documented message, and 400
  ``invalid_request_error`` for a Content-Length that is not a number (the message is the
  simulator's own);
* headers: ``request-id`` and ``anthropic-organization-id`` on every answer; ``retry-after`` in
  whole seconds on 429; for each configured limit ``anthropic-ratelimit-{requests,tokens}-
  {limit,remaining,reset}`` with resets as RFC 3339 UTC timestamps and token counts rounded to
  the nearest thousand, as Anthropic documents.

The Messages API has no JSON mode, so ``wants_json`` is always False: structured output is a tool
the request forces (``sim/anthropic_tools.py``), answered with a ``tool_use`` block; without one
forge's adapter relies on the prompt, not on a prefilled ``{`` (which Claude 4.6+ rejects). A
server told it lacks tools refuses them as the API refuses any field it does not know ("tools:
Extra inputs are not permitted").
"""

from __future__ import annotations

import math
import secrets
import string
import time
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from forge_cli.testing.sim.anthropic_tools import read_tools, tool_use
from forge_cli.testing.sim.wire import Headers, Limited, WindowState, WireRequest

__all__ = ["ANTHROPIC_VERSION", "AnthropicWire"]

ANTHROPIC_VERSION = "2023-06-01"
_RATE_LIMITS_URL = "https://docs.claude.com/en/api/rate-limits"
_SALES_URL = "https://www.anthropic.com/contact-sales"
#: Anthropic organisation ids are UUIDs; a fixed one, so runs are comparable
_ORGANIZATION_ID = "f0a6e511-5a1d-4c1e-9b7d-000000000001"
_ID_ALPHABET = string.ascii_letters + string.digits
#: messages of the error types Anthropic documents, for statuses used as plain failures
_STATUS_ERRORS: dict[int, tuple[str, str]] = {
    400: ("invalid_request_error", "Invalid request."),
    401: ("authentication_error", "invalid x-api-key"),
    403: (
        "permission_error",
        "Your API key does not have permission to use the specified resource.",
    ),
    404: ("not_found_error", "Not Found"),
    413: ("request_too_large", "Request exceeds the maximum allowed number of bytes."),
    429: ("rate_limit_error", "Number of requests has exceeded your rate limit."),
    500: ("api_error", "Internal server error"),
    504: ("timeout_error", "Request timed out."),
    529: ("overloaded_error", "Overloaded"),
}


def error_body(type_: str, message: str, request_id: str | None = None) -> dict[str, Any]:
    """Anthropic's error envelope."""
    return {
        "type": "error",
        "error": {"type": type_, "message": message},
        "request_id": request_id or request_id_value(),
    }


def request_id_value() -> str:
    """An id shaped like Anthropic's (``req_011C...``, 24 base62 characters after ``req_``)."""
    return "req_011C" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(20))


def message_id() -> str:
    return "msg_01" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(22))


def rfc3339_in(seconds: float, *, now: float | None = None) -> str:
    """The UTC instant ``seconds`` from now as Anthropic writes resets ("2025-01-01T00:01:00Z").

    Rounded up to the whole second, so a client never sees a reset that has already passed.
    """
    epoch = math.ceil((time.time() if now is None else now) + max(0.0, seconds))
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _header(headers: Headers, name: str) -> str | None:
    """A header by name; ``Headers`` look up case-insensitively, a plain dict may not."""
    value = headers.get(name)
    if value is None:
        value = headers.get(name.title())
    return value


def _block_text(content: Any) -> str | None:
    """Text of a Messages API content: a string or a list of blocks (None: not valid content)."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(block.get("text") or "")
            for block in content
            if isinstance(block, dict) and block.get("type") == "text"
        )
    return None


class AnthropicWire:
    """The Messages API dialect for ``FakeUpstream(wire=AnthropicWire())``.

    ``models``: when given, a request for any other model gets Anthropic's 404 ``model: NAME``.
    ``organization_id``: sent as ``anthropic-organization-id`` and quoted in 429 messages.
    """

    name = "anthropic"
    base_path = "/v1"

    def __init__(
        self,
        *,
        models: Sequence[str] | None = None,
        organization_id: str | None = None,
    ) -> None:
        self.models: tuple[str, ...] | None = tuple(models) if models is not None else None
        self.organization_id = organization_id or _ORGANIZATION_ID

    def __repr__(self) -> str:
        return f"<AnthropicWire models={self.models!r}>"

    # -- requests ----------------------------------------------------------------------------

    def chat_route(self, method: str, path: str) -> str | None:
        path = path.split("?", 1)[0].rstrip("/")
        if method.upper() == "POST" and path == f"{self.base_path}/messages":
            return ""
        return None

    def presented_key(self, headers: Headers, query: Mapping[str, str]) -> str | None:
        value = _header(headers, "x-api-key")
        if value is None:
            return None
        return value.strip() or None

    def auth_failure(self, presented: str | None) -> tuple[int, Any]:
        if presented is None:
            return 401, error_body("authentication_error", "x-api-key header is required")
        # Anthropic does not echo any part of a wrong key
        return 401, error_body("authentication_error", "invalid x-api-key")

    def parse(self, body: Any, path_model: str | None, headers: Headers) -> WireRequest:
        if not (_header(headers, "anthropic-version") or "").strip():
            return _refused(400, "invalid_request_error", "anthropic-version: header is required")
        if not isinstance(body, dict):
            status, payload = self.bad_json()
            return WireRequest(model=None, error=(status, payload))
        model = body.get("model")
        if not isinstance(model, str) or not model:
            return _refused(400, "invalid_request_error", "model: Field required")
        if "max_tokens" not in body:
            return _refused(400, "invalid_request_error", "max_tokens: Field required", model)
        max_tokens = body["max_tokens"]
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int):
            return _refused(
                400, "invalid_request_error", "max_tokens: Input should be a valid integer", model
            )
        if max_tokens < 1:
            return _refused(
                400,
                "invalid_request_error",
                "max_tokens: Input should be greater than or equal to 1",
                model,
            )
        messages = body.get("messages")
        if messages is None:
            return _refused(400, "invalid_request_error", "messages: Field required", model)
        if not isinstance(messages, list):
            return _refused(
                400, "invalid_request_error", "messages: Input should be a valid list", model
            )
        if not messages:
            return _refused(
                400, "invalid_request_error", "messages: at least one message is required", model
            )
        temperature = body.get("temperature")
        if temperature is not None:
            if isinstance(temperature, bool) or not isinstance(temperature, int | float):
                problem = "Input should be a valid number"
            elif temperature < 0:
                problem = "Input should be greater than or equal to 0"
            elif temperature > 1:
                problem = "Input should be less than or equal to 1"
            else:
                problem = ""
            if problem:
                return _refused(400, "invalid_request_error", f"temperature: {problem}", model)

        converted: list[dict[str, Any]] = []
        system = body.get("system")
        if system is not None:
            system_text = _block_text(system)
            if system_text is None:
                return _refused(
                    400, "invalid_request_error", "system: Input should be a valid list", model
                )
            if system_text:
                converted.append({"role": "system", "content": system_text})
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                return _refused(
                    400,
                    "invalid_request_error",
                    f"messages.{index}: Input should be a valid dictionary",
                    model,
                )
            role = message.get("role")
            if role == "system":
                return _refused(
                    400,
                    "invalid_request_error",
                    'messages: Unexpected role "system". The Messages API accepts a top-level '
                    '`system` parameter, not "system" as an input message role.',
                    model,
                )
            if role not in ("user", "assistant"):
                return _refused(
                    400,
                    "invalid_request_error",
                    f"messages.{index}.role: Input should be 'user' or 'assistant'",
                    model,
                )
            text = _block_text(message.get("content"))
            if text is None:
                return _refused(
                    400,
                    "invalid_request_error",
                    f"messages.{index}.content: Field required",
                    model,
                )
            converted.append({"role": role, "content": text})

        tools = read_tools(body)
        if tools.problem is not None:
            return _refused(400, "invalid_request_error", tools.problem, model)
        if self.models is not None and model not in self.models:
            return _refused(404, "not_found_error", f"model: {model}", model)
        request = WireRequest(model=model, messages=converted, max_tokens=max_tokens)
        if tools.name is not None:
            request.output, request.schema, request.tool = "schema", tools.input_schema, tools.name
        return request

    def bad_json(self) -> tuple[int, Any]:
        return 400, error_body(
            "invalid_request_error",
            "There was an error parsing the body of your request. Please ensure the body is "
            "valid JSON.",
        )

    def not_found(self, method: str, path: str) -> tuple[int, Any]:
        return 404, error_body("not_found_error", "Not Found")

    def bad_content_length(self) -> tuple[int, Any]:
        return 400, error_body("invalid_request_error", "Invalid Content-Length header.")

    def too_large(self) -> tuple[int, Any]:
        return 413, error_body(*_STATUS_ERRORS[413])

    def output_refused(self, output: str, model: str) -> tuple[int, Any]:
        field = "tools" if output == "schema" else "response_format"
        return 400, error_body("invalid_request_error", f"{field}: Extra inputs are not permitted")

    # -- answers -----------------------------------------------------------------------------

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
        blocks: list[dict[str, Any]] = []
        stop_reason = "end_turn"
        if reasoning is not None:
            # extended thinking: a signed thinking block precedes the answer
            blocks.append(
                {"type": "thinking", "thinking": reasoning, "signature": secrets.token_urlsafe(48)}
            )
        if request.tool is not None:
            block, stop_reason = tool_use(request.tool, content)
            blocks.append(block)
        elif content:
            blocks.append({"type": "text", "text": content})
        return {
            "id": message_id(),
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": blocks,
            "stop_reason": stop_reason,
            "stop_sequence": None,
            "usage": {
                "input_tokens": prompt_tokens,
                "cache_creation_input_tokens": 0,
                "cache_read_input_tokens": 0,
                "cache_creation": {"ephemeral_5m_input_tokens": 0, "ephemeral_1h_input_tokens": 0},
                "output_tokens": completion_tokens + reasoning_tokens,
                "service_tier": "standard",
            },
        }

    def rate_limited(self, model: str, limited: Limited) -> tuple[int, Any, dict[str, str]]:
        if limited.dimension == "requests":
            what = f"{limited.limit:,} requests per minute"
        else:
            what = f"{limited.limit:,} input tokens per minute"
        message = (
            f"This request would exceed the rate limit for your organization "
            f"({self.organization_id}) of {what}. For details, refer to: {_RATE_LIMITS_URL}. "
            "You can see the response headers for current usage. Please reduce the prompt length "
            "or the maximum tokens requested, or try again later. You may also contact sales at "
            f"{_SALES_URL} to discuss your options for a rate limit increase."
        )
        # Anthropic's retry-after is whole seconds
        retry = str(max(1, math.ceil(limited.wait)))
        return 429, error_body("rate_limit_error", message), {"retry-after": retry}

    def server_error(self, status: int, request_id: str) -> Any:
        type_, message = _STATUS_ERRORS.get(status) or (
            ("api_error", "Internal server error")
            if status >= 500
            else ("invalid_request_error", f"Simulated failure with status {status}.")
        )
        return error_body(type_, message, request_id)

    def overloaded(self, request_id: str) -> tuple[int, Any]:
        return 529, error_body("overloaded_error", "Overloaded", request_id)

    def response_headers(self, request_id: str, elapsed_ms: int) -> dict[str, str]:
        return {"request-id": request_id, "anthropic-organization-id": self.organization_id}

    def ratelimit_headers(self, window: WindowState) -> dict[str, str]:
        headers: dict[str, str] = {}
        now = time.time()
        if window.rpm_limit is not None:
            remaining = (
                window.rpm_remaining if window.rpm_remaining is not None else window.rpm_limit
            )
            headers["anthropic-ratelimit-requests-limit"] = str(window.rpm_limit)
            headers["anthropic-ratelimit-requests-remaining"] = str(max(0, remaining))
            headers["anthropic-ratelimit-requests-reset"] = rfc3339_in(window.rpm_reset, now=now)
        if window.tpm_limit is not None:
            remaining = (
                window.tpm_remaining if window.tpm_remaining is not None else window.tpm_limit
            )
            headers["anthropic-ratelimit-tokens-limit"] = str(window.tpm_limit)
            # "rounded to the nearest thousand", as Anthropic documents
            headers["anthropic-ratelimit-tokens-remaining"] = str(max(0, int(round(remaining, -3))))
            headers["anthropic-ratelimit-tokens-reset"] = rfc3339_in(window.tpm_reset, now=now)
        return headers


def _refused(status: int, type_: str, message: str, model: str | None = None) -> WireRequest:
    """A WireRequest carrying the provider's own refusal."""
    return WireRequest(model=model, error=(status, error_body(type_, message)))
