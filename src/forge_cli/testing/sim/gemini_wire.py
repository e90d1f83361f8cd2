"""Gemini's ``generateContent`` dialect for the simulated upstream (``FakeUpstream(wire=GeminiWire())``).

Modelled on the Gemini Developer API (``generativelanguage.googleapis.com/v1beta``) as it answers
in the wild:

* route: ``POST /v1beta/models/{model}:generateContent``; the key in ``x-goog-api-key`` (or the
  legacy ``?key=`` query parameter, which the API still accepts);
* success: ``candidates[0]`` with ``content {parts: [{text}], role: "model"}``, ``finishReason``
  "STOP" and ``index`` 0; ``usageMetadata {promptTokenCount, candidatesTokenCount,
  totalTokenCount, promptTokensDetails, thoughtsTokenCount}`` (thoughts are counted apart from
  candidates and included in the total); ``modelVersion``; ``responseId``. Reasoning, when the
  simulator produces some, comes back as a ``"thought": true`` part, as with ``includeThoughts``;
* errors: ``{"error": {"code", "message", "status", "details"?}}`` with Google's own texts: a
  missing key is 403 PERMISSION_DENIED "Method doesn't allow unregistered callers ...", a wrong
  one 400 INVALID_ARGUMENT "API key not valid. Please pass a valid API key." with an ``ErrorInfo``
  (reason API_KEY_INVALID) and a ``LocalizedMessage``; a rate limit is 429 RESOURCE_EXHAUSTED
  with ``Help``, ``QuotaFailure`` and ``RetryInfo {retryDelay: "30s"}`` details and *no*
  Retry-After header (Gemini sends none); 500 INTERNAL, 503 UNAVAILABLE "The model is
  overloaded. Please try again later.", 504 DEADLINE_EXCEEDED; an unknown model is 404
  NOT_FOUND "models/x is not found for API version v1beta, or is not supported for
  generateContent. ..."; unknown request fields are refused as the real API does ("Invalid JSON
  payload received. Unknown name ...");
* headers: Google's front end adds ``server-timing: gfet4t7; dur=N`` and a few fixed security
  headers; there are no rate-limit headers.

For tests, the wire remembers the last request's ``generationConfig``, system instruction, user
text and *where* the key was presented ("header" or "query"), never the key itself.
"""

from __future__ import annotations

import copy
import math
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from forge_cli.testing.sim.wire import Limited, WindowState, WireRequest

__all__ = ["GeminiWire", "google_error"]

_CHAT_PATH = re.compile(r"/v1beta/models/(?P<model>[^/:?]+):generateContent")
_CONTEXT = re.compile(r"<context>\s*(?P<body>.*?)\s*</context>", re.DOTALL)

_RATE_LIMITS_URL = "https://ai.google.dev/gemini-api/docs/rate-limits"
_SERVICE = "generativelanguage.googleapis.com"

#: fields of GenerateContentRequest (proto JSON accepts camelCase and snake_case)
_REQUEST_FIELDS = frozenset(
    {
        "model",
        "contents",
        "tools",
        "toolConfig",
        "tool_config",
        "safetySettings",
        "safety_settings",
        "systemInstruction",
        "system_instruction",
        "generationConfig",
        "generation_config",
        "cachedContent",
        "cached_content",
    }
)
#: fields of GenerationConfig
_CONFIG_FIELDS = frozenset(
    {
        "stopSequences",
        "responseMimeType",
        "responseSchema",
        "responseJsonSchema",
        "responseModalities",
        "candidateCount",
        "maxOutputTokens",
        "temperature",
        "topP",
        "topK",
        "seed",
        "presencePenalty",
        "frequencyPenalty",
        "responseLogprobs",
        "logprobs",
        "enableEnhancedCivicAnswers",
        "speechConfig",
        "thinkingConfig",
        "imageConfig",
        "mediaResolution",
    }
)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_CONFIG_SNAKE = frozenset(_snake(name) for name in _CONFIG_FIELDS)

_STATUS_TEXT: dict[int, tuple[str, str]] = {
    400: ("INVALID_ARGUMENT", "Request contains an invalid argument."),
    401: (
        "UNAUTHENTICATED",
        "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
        "cookie or other valid authentication credential. See "
        "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    ),
    403: ("PERMISSION_DENIED", "The caller does not have permission"),
    404: ("NOT_FOUND", "Requested entity was not found."),
    429: ("RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota)."),
    500: (
        "INTERNAL",
        "An internal error has occurred. Please retry or report in "
        "https://developers.generativeai.google/guide/troubleshooting",
    ),
    503: ("UNAVAILABLE", "The model is overloaded. Please try again later."),
    504: ("DEADLINE_EXCEEDED", "Deadline expired before operation could complete."),
}


def google_error(
    code: int, status: str, message: str, details: list[dict[str, Any]] | None = None
) -> dict[str, Any]:
    """Google's JSON error envelope (``details`` left out when there are none, as Google does)."""
    error: dict[str, Any] = {"code": code, "message": message, "status": status}
    if details:
        error["details"] = details
    return {"error": error}


def _unknown_field(name: str, where: str | None = None) -> tuple[int, Any]:
    at = f" at '{where}'" if where else ""
    return 400, google_error(
        400,
        "INVALID_ARGUMENT",
        f'Invalid JSON payload received. Unknown name "{name}"{at}: Cannot find field.',
        [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {
                        "field": where or "",
                        "description": f'Invalid JSON payload received. Unknown name "{name}"'
                        f"{at}: Cannot find field.",
                    }
                ],
            }
        ],
    )


def _parts_text(parts: Any, *, thoughts: bool = False) -> str:
    if not isinstance(parts, list):
        return ""
    return "".join(
        part["text"]
        for part in parts
        if isinstance(part, dict)
        and isinstance(part.get("text"), str)
        and (thoughts or not part.get("thought"))
    )


def _response_id() -> str:
    return secrets.token_urlsafe(18)[:23]


class GeminiWire:
    """The Gemini API's dialect; see the module docstring for what is modelled."""

    name = "gemini"
    base_path = "/v1beta"

    def __init__(self, *, models: Sequence[str] | None = None) -> None:
        #: when set, any other model in the path gets Google's 404 NOT_FOUND
        self.models: tuple[str, ...] | None = tuple(models) if models is not None else None
        self._lock = threading.Lock()
        self._last_generation_config: dict[str, Any] | None = None
        self._last_system_instruction: str | None = None
        self._last_user_text: str | None = None
        self._last_key_source: str | None = None

    # -- what the last request looked like (for tests; never the key) --------------------------

    @property
    def last_generation_config(self) -> dict[str, Any] | None:
        with self._lock:
            return copy.deepcopy(self._last_generation_config)

    @property
    def last_system_instruction(self) -> str | None:
        with self._lock:
            return self._last_system_instruction

    @property
    def last_user_text(self) -> str | None:
        """The raw text of the last user content (before ``<context>`` extraction)."""
        with self._lock:
            return self._last_user_text

    @property
    def last_key_source(self) -> str | None:
        """Where the last request carried its key: "header", "query" or None."""
        with self._lock:
            return self._last_key_source

    # -- Wire protocol ---------------------------------------------------------------------------

    def chat_route(self, method: str, path: str) -> str | None:
        match = _CHAT_PATH.fullmatch(path.split("?", 1)[0])
        if method != "POST" or match is None:
            return None
        model = match.group("model")
        if self.models is not None and model not in self.models:
            return None  # answered by not_found() with Google's unknown-model body
        return model

    def presented_key(self, headers: Any, query: Mapping[str, str]) -> str | None:
        key = headers.get("x-goog-api-key")
        source = "header" if key else None
        if not key:
            key = query.get("key")
            source = "query" if key else None
        with self._lock:
            self._last_key_source = source
        return key or None

    def auth_failure(self, presented: str | None) -> tuple[int, Any]:
        if presented is None:
            return 403, google_error(
                403,
                "PERMISSION_DENIED",
                "Method doesn't allow unregistered callers (callers without established "
                "identity). Please use API Key or other form of API consumer identity to call "
                "this API.",
            )
        message = "API key not valid. Please pass a valid API key."
        return 400, google_error(
            400,
            "INVALID_ARGUMENT",
            message,
            [
                {
                    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                    "reason": "API_KEY_INVALID",
                    "domain": "googleapis.com",
                    "metadata": {"service": _SERVICE},
                },
                {
                    "@type": "type.googleapis.com/google.rpc.LocalizedMessage",
                    "locale": "en-US",
                    "message": message,
                },
            ],
        )

    def parse(self, body: Any, path_model: str | None, headers: Any) -> WireRequest:
        request = WireRequest(model=path_model)
        if not isinstance(body, dict):
            request.error = (
                400,
                google_error(
                    400,
                    "INVALID_ARGUMENT",
                    'Invalid JSON payload received. Unknown name "": Root element must be a '
                    "message.",
                ),
            )
            return request
        for name in body:
            if name not in _REQUEST_FIELDS:
                request.error = _unknown_field(name)
                return request

        config = body.get("generationConfig", body.get("generation_config"))
        config = config if isinstance(config, dict) else {}
        for name in config:
            if name not in _CONFIG_FIELDS and name not in _CONFIG_SNAKE:
                request.error = _unknown_field(name, "generation_config")
                return request
        max_tokens = config.get("maxOutputTokens", config.get("max_output_tokens"))
        request.max_tokens = max_tokens if isinstance(max_tokens, int) else 0
        mime = config.get("responseMimeType", config.get("response_mime_type"))
        request.wants_json = mime == "application/json"

        instruction = body.get("systemInstruction", body.get("system_instruction"))
        system = _parts_text(instruction.get("parts")) if isinstance(instruction, dict) else ""
        if system:
            request.messages.append({"role": "system", "content": system})

        contents = body.get("contents")
        user_text: str | None = None
        if isinstance(contents, list):
            for content in contents:
                if not isinstance(content, dict):
                    continue
                role = content.get("role") or "user"
                if role not in ("user", "model"):
                    request.error = (
                        400,
                        google_error(
                            400, "INVALID_ARGUMENT", "Please use a valid role: user, model."
                        ),
                    )
                    return request
                text = _parts_text(content.get("parts"))
                if role == "user":
                    user_text = text
                    match = _CONTEXT.search(text)
                    # the pack travels inside <context>; the simulator reasons about it alone
                    text = match.group("body") if match else text
                request.messages.append(
                    {"role": "user" if role == "user" else "assistant", "content": text}
                )
        if not isinstance(contents, list) or not contents:
            request.error = (
                400,
                google_error(
                    400,
                    "INVALID_ARGUMENT",
                    "* GenerateContentRequest.contents: contents is not specified\n",
                ),
            )

        with self._lock:
            self._last_generation_config = copy.deepcopy(config)
            self._last_system_instruction = system or None
            self._last_user_text = user_text
        return request

    def bad_json(self) -> tuple[int, Any]:
        return 400, google_error(
            400, "INVALID_ARGUMENT", "Invalid JSON payload received. Unexpected token."
        )

    def not_found(self, method: str, path: str) -> tuple[int, Any]:
        match = _CHAT_PATH.fullmatch(path.split("?", 1)[0])
        if match is not None:
            return 404, google_error(
                404,
                "NOT_FOUND",
                f"models/{match.group('model')} is not found for API version v1beta, or is not "
                "supported for generateContent. Call ListModels to see the list of available "
                "models and their supported methods.",
            )
        return 404, google_error(404, "NOT_FOUND", "Requested entity was not found.")

    def success(
        self,
        *,
        model: str,
        content: str,
        reasoning: str | None,
        prompt_tokens: int,
        completion_tokens: int,
        reasoning_tokens: int,
    ) -> Any:
        parts: list[dict[str, Any]] = []
        if reasoning:
            parts.append({"text": reasoning, "thought": True})
        if content:
            parts.append({"text": content})
        # an empty answer comes back as a content without parts, as Gemini sends it
        message: dict[str, Any] = {"parts": parts, "role": "model"} if parts else {"role": "model"}
        usage: dict[str, Any] = {"promptTokenCount": prompt_tokens}
        if completion_tokens:
            usage["candidatesTokenCount"] = completion_tokens
        usage["totalTokenCount"] = prompt_tokens + completion_tokens + reasoning_tokens
        usage["promptTokensDetails"] = [{"modality": "TEXT", "tokenCount": prompt_tokens}]
        if reasoning_tokens:
            usage["thoughtsTokenCount"] = reasoning_tokens
        return {
            "candidates": [{"content": message, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": _response_id(),
        }

    def rate_limited(self, model: str, limited: Limited) -> tuple[int, Any, dict[str, str]]:
        if limited.dimension == "requests":
            metric = f"{_SERVICE}/generate_content_free_tier_requests"
            quota_id = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"
        else:
            metric = f"{_SERVICE}/generate_content_free_tier_input_token_count"
            quota_id = "GenerateContentInputTokensPerModelPerMinute-FreeTier"
        wait = max(0.0, limited.wait)
        message = (
            "You exceeded your current quota, please check your plan and billing details. For "
            f"more information on this error, head to: {_RATE_LIMITS_URL}. To monitor your "
            "current usage, head to: https://ai.dev/rate-limit. \n"
            f"* Quota exceeded for metric: {metric}, limit: {limited.limit}, model: {model}\n"
            f"Please retry in {wait:.9f}s."
        )
        details: list[dict[str, Any]] = [
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {"description": "Learn more about Gemini API quotas", "url": _RATE_LIMITS_URL}
                ],
            },
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {
                        "quotaMetric": metric,
                        "quotaId": quota_id,
                        "quotaDimensions": {"location": "global", "model": model},
                        "quotaValue": str(limited.limit),
                    }
                ],
            },
            # whole seconds, rounded up, so a client that honours it is never early
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{math.ceil(wait)}s",
            },
        ]
        return 429, google_error(429, "RESOURCE_EXHAUSTED", message, details), {}

    def server_error(self, status: int, request_id: str) -> Any:
        rpc_status, message = _STATUS_TEXT.get(
            status,
            (
                "UNKNOWN" if status >= 500 else "FAILED_PRECONDITION",
                f"Simulated failure with status {status}.",
            ),
        )
        return google_error(status, rpc_status, message)

    def overloaded(self, request_id: str) -> tuple[int, Any]:
        return 503, google_error(
            503,
            "UNAVAILABLE",
            "This model is currently experiencing high demand. Spikes in demand are usually "
            "temporary. Please try again later.",
        )

    def response_headers(self, request_id: str, elapsed_ms: int) -> dict[str, str]:
        # what Google's front end sends besides Content-Type/Server (the simulator writes those)
        return {
            "vary": "Origin, X-Origin, Referer",
            "x-xss-protection": "0",
            "x-frame-options": "SAMEORIGIN",
            "x-content-type-options": "nosniff",
            "server-timing": f"gfet4t7; dur={elapsed_ms}",
        }

    def ratelimit_headers(self, window: WindowState) -> dict[str, str]:
        return {}  # Gemini publishes no rate-limit headers
