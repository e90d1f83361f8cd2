"""OpenAI's chat-completions dialect for the simulated upstream (``OpenAIWire``, the default).

Wire format follows OpenAI's public API as observed in the wild (and as Groq, Together, vLLM, ...
speak it):

* route ``POST /v1/chat/completions``; the key as ``Authorization: Bearer KEY``; ``GET /v1/models``
  lists the simulator's models (served by ``FakeUpstream`` with :func:`model_list`);
* success: a ``chat.completion`` object (``chatcmpl-`` id, ``created``, ``model``, ``choices`` with
  ``message{role, content, refusal, annotations}``, ``logprobs: null``, ``finish_reason``,
  ``usage`` with the ``*_tokens_details`` blocks, ``service_tier``, ``system_fingerprint``);
* errors: ``{"error": {"message", "type", "param", "code"}}`` with OpenAI's own messages for 401
  (missing key: code null; wrong key: ``invalid_api_key`` with a masked key), 429 (``type``
  "requests" or "tokens", ``code`` "rate_limit_exceeded", "Rate limit reached for M in
  organization O on requests per min (RPM): Limit L, Used U, Requested 1. Please try again in
  20s. ..."), 500 and 503 (``type`` "server_error", ``code`` null), 404 "Invalid URL (POST /v1/x)";
  the server's own refusals of an unreadable request (400 for a Content-Length that is not a
  number, 413 for a body over the limit) use this shape with the simulator's own messages;
* structured output: ``response_format`` ``json_object`` or ``json_schema`` ``{name, strict,
  schema}``; with ``strict`` true the schema is checked as OpenAI does (every object closed with
  ``additionalProperties: false``, every property in ``required``) and refused with its 400
  "Invalid schema for response_format 'NAME': In context=(...), ..."; a server told it lacks one
  answers "Invalid parameter: 'response_format' of type 'json_schema' is not supported with this
  model.", the text OpenAI gives for a model without it;
* token log probabilities: with ``logprobs: true`` the choice carries ``logprobs: {"content":
  [{token, logprob, bytes, top_logprobs: [{token, logprob, bytes}]}], "refusal": null}`` (up to
  ``top_logprobs`` alternatives), the answer cut into short deterministic tokens whose
  probabilities derive from the seed; a wire built with ``logprobs=False`` refuses the parameter
  with a 400 "Unsupported parameter: 'logprobs' is not supported with this model." (code
  ``unsupported_parameter``), the form OpenAI uses for a parameter a model lacks;
* headers: ``x-request-id``, ``openai-processing-ms``, ``openai-version`` and, when a limit is
  configured, ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` with resets in OpenAI's
  Go-duration style ("6m0s", "1.5s", "12ms"); ``retry-after`` on 429 (and on scripted 503s).
"""

from __future__ import annotations

import hashlib
import math
import re
import secrets
import string
import time
from collections.abc import Sequence
from typing import Any

from forge_cli.testing.sim.openai_format import error_body, read_response_format
from forge_cli.testing.sim.wire import Limited, WindowState, WireRequest, content_text

__all__ = ["ORGANIZATION", "OpenAIWire", "go_duration", "mask_key", "model_list", "token_logprobs"]

#: shown in rate-limit messages, as OpenAI names the organisation there
ORGANIZATION = "org-forgesim"

_KEYS_URL = "https://platform.openai.com/account/api-keys"
#: how the simulator cuts an answer into tokens: short runs of letters and digits, runs of
#: whitespace, and up to three other characters (so a label spans tokens, as with a real tokenizer)
_TOKEN = re.compile(r"[A-Za-z0-9]{1,5}|\s+|[^\sA-Za-z0-9]{1,3}")
_LIMITS_URL = "https://platform.openai.com/account/rate-limits"


def go_duration(seconds: float) -> str:
    """Format a delay the way OpenAI's x-ratelimit-reset-* headers do ("6m0s", "1.5s", "12ms")."""
    if seconds <= 0:
        return "0s"
    if seconds < 1:
        return f"{max(1, round(seconds * 1000))}ms"
    total_ms = round(seconds * 1000)
    hours, rest = divmod(total_ms, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    secs = f"{rest / 1000:.3f}".rstrip("0").rstrip(".")
    out = ""
    if hours:
        out += f"{hours}h"
    if hours or minutes:
        out += f"{minutes}m"
    return f"{out}{secs}s"


def mask_key(key: str) -> str:
    """Mask a presented key like OpenAI's 401 message does, showing too little to be reusable."""
    if len(key) < 12:
        return "***"
    return f"{key[:5]}***{key[-2:]}"


def model_list(models: Sequence[str]) -> dict[str, Any]:
    """The body of ``GET /v1/models`` for these model ids."""
    created = 1_700_000_000
    data = [
        {"id": model, "object": "model", "created": created, "owned_by": "system"}
        for model in models
    ]
    return {"object": "list", "data": data}


def token_logprobs(content: str, salt: str, top: int = 0) -> list[dict[str, Any]]:
    """``choices[0].logprobs.content`` for ``content``: its tokens, each with a probability in
    [0.4, 1) drawn from a hash of ``salt`` (the seeded fingerprint), its place and its text, so the
    same answer gets the same numbers in every run with that seed. ``top`` alternatives follow the
    chosen token, sharing what probability it leaves."""
    out: list[dict[str, Any]] = []
    for place, match in enumerate(_TOKEN.finditer(content)):
        token = match.group()
        digest = hashlib.sha256(f"{salt}|{place}|{token}".encode()).digest()
        chance = 0.4 + 0.6 * int.from_bytes(digest[:4], "big") / 2**32
        logprob = round(math.log(chance), 6)
        entry = {"token": token, "logprob": logprob, "bytes": list(token.encode())}
        alternatives = [entry]
        for rank in range(1, top):
            other = f"{token}{rank}"
            rest = round(math.log(max(1e-9, (1 - chance) / 2**rank)), 6)
            alternatives.append({"token": other, "logprob": rest, "bytes": list(other.encode())})
        out.append({**entry, "top_logprobs": alternatives[:top]})
    return out


def _completion_id() -> str:
    alphabet = string.ascii_letters + string.digits
    return "chatcmpl-" + "".join(secrets.choice(alphabet) for _ in range(29))


def _server_error_body(status: int, request_id: str) -> dict:
    """OpenAI's body for a 5xx (or any status used as failure_status)."""
    if status == 503:
        return error_body(
            "That model is currently overloaded with other requests. You can retry your request, "
            "or contact us through our help center at help.openai.com if the error persists. "
            f"(Please include the request ID {request_id} in your message.)",
            "server_error",
        )
    if status == 429:
        return error_body(
            "The engine is currently overloaded, please try again later.",
            "requests",
            code="rate_limit_exceeded",
        )
    if status == 502:
        return error_body("Bad gateway.", "server_error", code="bad_gateway")
    if status >= 500:
        return error_body(
            "The server had an error while processing your request. Sorry about that! You can "
            "retry your request, or contact us through our help center at help.openai.com if the "
            f"error persists. (Please include the request ID {request_id} in your message.)",
            "server_error",
        )
    return error_body(f"Simulated failure with status {status}.", "invalid_request_error")


def _bearer(authorization: str | None) -> str | None:
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None


def _missing_key_body() -> dict:
    return error_body(
        "You didn't provide an API key. You need to provide your API key in an Authorization "
        "header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field "
        "(with blank username) if you're accessing the API from your browser and are prompted for "
        f"a username and password. You can obtain an API key from {_KEYS_URL}.",
        "invalid_request_error",
    )


def _wrong_key_body(presented: str | None) -> dict:
    shown = mask_key(presented) if presented else "***"
    return error_body(
        f"Incorrect API key provided: {shown}. You can find your API key at {_KEYS_URL}.",
        "invalid_request_error",
        code="invalid_api_key",
    )


def _rate_limit_body(model: str, limited: Limited) -> dict:
    unit = "requests per min (RPM)" if limited.dimension == "requests" else "tokens per min (TPM)"
    return error_body(
        f"Rate limit reached for {model} in organization {ORGANIZATION} on {unit}: "
        f"Limit {limited.limit}, Used {limited.used}, Requested {limited.requested}. "
        f"Please try again in {go_duration(limited.wait)}. Visit {_LIMITS_URL} to learn more.",
        limited.dimension,
        code="rate_limit_exceeded",
    )


class OpenAIWire:
    """OpenAI's chat-completions dialect (also what Groq, Together, vLLM, ... speak)."""

    name = "openai"
    base_path = "/v1"

    def __init__(self, fingerprint: str = "fp_forgesim", *, logprobs: bool = True) -> None:
        self.fingerprint = fingerprint
        #: the server returns token log probabilities; without, it refuses ``logprobs`` with a 400
        self.logprobs = logprobs

    @classmethod
    def seeded(cls, seed: int) -> OpenAIWire:
        """The wire with a ``system_fingerprint`` derived from the simulator's seed, so two runs
        with the same seed answer alike and runs with different seeds can be told apart."""
        return cls("fp_" + hashlib.sha256(str(seed).encode()).hexdigest()[:10])

    def chat_route(self, method: str, path: str) -> str | None:
        return "" if method == "POST" and path == "/v1/chat/completions" else None

    def presented_key(self, headers: Any, query: Any) -> str | None:
        return _bearer(headers.get("Authorization"))

    def auth_failure(self, presented: str | None) -> tuple[int, Any]:
        return 401, (_wrong_key_body(presented) if presented else _missing_key_body())

    def parse(self, body: Any, path_model: str | None, headers: Any) -> WireRequest:
        model = body.get("model") if isinstance(body.get("model"), str) else None
        messages = body.get("messages")
        request = WireRequest(model=model)
        if isinstance(messages, list):
            request.messages = [
                {"role": m.get("role"), "content": content_text(m.get("content"))}
                for m in messages
                if isinstance(m, dict)
            ]
        max_tokens = body.get("max_completion_tokens") or body.get("max_tokens") or 0
        request.max_tokens = max_tokens if isinstance(max_tokens, int) else 0
        read_response_format(body, request)
        request.logprobs = body.get("logprobs") is True
        top = body.get("top_logprobs")
        request.top_logprobs = top if isinstance(top, int) and not isinstance(top, bool) else 0
        if model is None:
            request.error = (
                400,
                error_body("you must provide a model parameter", "invalid_request_error"),
            )
        elif not isinstance(messages, list) or not messages:
            request.error = (
                400,
                error_body(
                    "Missing required parameter: 'messages'.",
                    "invalid_request_error",
                    param="messages",
                    code="missing_required_parameter",
                ),
            )
        elif request.logprobs and not self.logprobs:
            request.error = (
                400,
                error_body(
                    "Unsupported parameter: 'logprobs' is not supported with this model.",
                    "invalid_request_error",
                    param="logprobs",
                    code="unsupported_parameter",
                ),
            )
        return request

    def bad_json(self) -> tuple[int, Any]:
        return 400, error_body(
            "We could not parse the JSON body of your request. (HINT: This likely means "
            "you aren't using your HTTP library correctly. The OpenAI API expects a JSON "
            "payload, but what was sent was not valid JSON.)",
            "invalid_request_error",
        )

    def not_found(self, method: str, path: str) -> tuple[int, Any]:
        return 404, error_body(f"Invalid URL ({method} {path})", "invalid_request_error")

    # the simulator's own texts: what OpenAI's front end says to these is not modelled
    def bad_content_length(self) -> tuple[int, Any]:
        return 400, error_body("Invalid Content-Length header.", "invalid_request_error")

    def too_large(self) -> tuple[int, Any]:
        return 413, error_body("Request body too large.", "invalid_request_error")

    def output_refused(self, output: str, model: str) -> tuple[int, Any]:
        kind = "json_schema" if output == "schema" else "json_object"
        return 400, error_body(
            f"Invalid parameter: 'response_format' of type '{kind}' is not supported with this "
            "model.",
            "invalid_request_error",
            param="response_format",
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
        message: dict[str, Any] = {
            "role": "assistant",
            "content": content,
            "refusal": None,
            "annotations": [],
        }
        if reasoning is not None:
            message["reasoning_content"] = reasoning
        total_out = completion_tokens + reasoning_tokens
        logprobs = None
        if request.logprobs:
            logprobs = {
                "content": token_logprobs(content, self.fingerprint, request.top_logprobs),
                "refusal": None,
            }
        return {
            "id": _completion_id(),
            "object": "chat.completion",
            "created": int(time.time()),
            "model": model,
            "choices": [
                {"index": 0, "message": message, "logprobs": logprobs, "finish_reason": "stop"}
            ],
            "usage": {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": total_out,
                "total_tokens": prompt_tokens + total_out,
                "prompt_tokens_details": {"cached_tokens": 0, "audio_tokens": 0},
                "completion_tokens_details": {
                    "reasoning_tokens": reasoning_tokens,
                    "audio_tokens": 0,
                    "accepted_prediction_tokens": 0,
                    "rejected_prediction_tokens": 0,
                },
            },
            "service_tier": "default",
            "system_fingerprint": self.fingerprint,
        }

    def rate_limited(self, model: str, limited: Limited) -> tuple[int, Any, dict[str, str]]:
        retry = str(max(1, math.ceil(limited.wait)))
        return 429, _rate_limit_body(model, limited), {"retry-after": retry}

    def server_error(self, status: int, request_id: str) -> Any:
        return _server_error_body(status, request_id)

    def overloaded(self, request_id: str) -> tuple[int, Any]:
        return 503, _server_error_body(503, request_id)

    def response_headers(self, request_id: str, elapsed_ms: int) -> dict[str, str]:
        return {
            "x-request-id": request_id,
            "openai-version": "2020-10-01",
            "openai-processing-ms": str(elapsed_ms),
        }

    def ratelimit_headers(self, window: WindowState) -> dict[str, str]:
        headers: dict[str, str] = {}
        if window.rpm_limit is not None:
            headers["x-ratelimit-limit-requests"] = str(window.rpm_limit)
            headers["x-ratelimit-remaining-requests"] = str(window.rpm_remaining)
            headers["x-ratelimit-reset-requests"] = go_duration(window.rpm_reset)
        if window.tpm_limit is not None:
            headers["x-ratelimit-limit-tokens"] = str(window.tpm_limit)
            headers["x-ratelimit-remaining-tokens"] = str(window.tpm_remaining)
            headers["x-ratelimit-reset-tokens"] = go_duration(window.tpm_reset)
        return headers
