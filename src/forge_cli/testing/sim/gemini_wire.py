"""Gemini's ``generateContent`` dialect for the simulated upstream (``FakeUpstream(wire=GeminiWire())``).

Modelled on the Gemini Developer API (``generativelanguage.googleapis.com/v1beta``) as it answers
in the wild:

* route: ``POST /v1beta/models/{model}:generateContent``; the key in ``x-goog-api-key`` (or the
  legacy ``?key=`` query parameter, which the API still accepts);
* success: ``candidates[0]`` with ``content {parts: [{text}], role: "model"}``, ``finishReason``
  "STOP" and ``index`` 0; ``usageMetadata {promptTokenCount, candidatesTokenCount,
  totalTokenCount, promptTokensDetails, thoughtsTokenCount}`` (thoughts are counted apart from
  candidates and included in the total); ``modelVersion``; ``responseId``. Reasoning, when the
  simulator produces some, comes back as a ``"thought": true`` part, as with ``includeThoughts``.
  With ``responseLogprobs`` the candidate carries ``logprobsResult {chosenCandidates: [{token,
  tokenId, logProbability}], topCandidates?, logProbabilitySum}``; a wire built with
  ``logprobs=False`` refuses them as gemini-2.5 models do (400 "Logprobs is not enabled ...");
* errors: ``{"error": {"code", "message", "status", "details"?}}`` with Google's own texts: a
  missing key is 403 PERMISSION_DENIED "Method doesn't allow unregistered callers ...", a wrong
  one 400 INVALID_ARGUMENT "API key not valid. Please pass a valid API key." with an ``ErrorInfo``
  (reason API_KEY_INVALID) and a ``LocalizedMessage``; a rate limit is 429 RESOURCE_EXHAUSTED
  with ``Help``, ``QuotaFailure`` and ``RetryInfo {retryDelay: "30s"}`` details and *no*
  Retry-After header (Gemini sends none); 500 INTERNAL, 503 UNAVAILABLE "The model is
  overloaded. Please try again later.", 504 DEADLINE_EXCEEDED; an unknown model is 404
  NOT_FOUND "models/x is not found for API version v1beta, or is not supported for
  generateContent. ..."; unknown request fields are refused as the real API does ("Invalid JSON
  payload received. Unknown name ..."). The bodies are built in ``gemini_errors.py``. Of the
  server's own refusals of an unreadable request, a Content-Length that is not a number gets
  Gemini's 400 INVALID_ARGUMENT shape (with the simulator's own message); an oversized body keeps
  the simulator's OpenAI-shaped 413, since nothing here shows what Google answers to one;
* headers: Google's front end adds ``server-timing: gfet4t7; dur=N`` and a few fixed security
  headers; there are no rate-limit headers.

The answer's schema is read from ``responseSchema`` (or ``responseJsonSchema``); a server told it
lacks structured output refuses the field as an API version without it would ("Unknown name
\"responseSchema\" at 'generation_config'").

For tests, the wire remembers the last request's ``generationConfig``, system instruction, user
text and *where* the key was presented ("header" or "query"), never the key itself.
"""

from __future__ import annotations

import copy
import re
import secrets
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from forge_cli.testing.sim import gemini_errors as errors
from forge_cli.testing.sim.openai_wire import token_logprobs
from forge_cli.testing.sim.wire import Limited, WindowState, WireRequest

__all__ = ["GeminiWire"]

_CHAT_PATH = re.compile(r"/v1beta/models/(?P<model>[^/:?]+):generateContent")
_CONTEXT = re.compile(r"<context>\s*(?P<body>.*?)\s*</context>", re.DOTALL)

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


#: where GenerationConfig carries the answer's schema: the OpenAPI subset or plain JSON Schema
_SCHEMA_FIELDS = ("responseSchema", "response_schema", "responseJsonSchema", "response_json_schema")


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


_CONFIG_SNAKE = frozenset(_snake(name) for name in _CONFIG_FIELDS)


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


def _logprobs_result(content: str, top: int) -> dict[str, Any]:
    """``candidates[0].logprobsResult``: ``chosenCandidates`` (one per decoding step: token,
    tokenId, logProbability) and ``topCandidates`` (up to ``top`` per step), over the same
    deterministic tokens and probabilities as the OpenAI wire's."""
    steps = token_logprobs(content, "gemini", max(1, top))
    chosen = [
        {"token": s["token"], "tokenId": n, "logProbability": s["logprob"]}
        for n, s in enumerate(steps)
    ]
    result: dict[str, Any] = {"chosenCandidates": chosen}
    if top:
        result["topCandidates"] = [
            {
                "candidates": [
                    {"token": a["token"], "tokenId": n, "logProbability": a["logprob"]}
                    for a in s["top_logprobs"][:top]
                ]
            }
            for n, s in enumerate(steps)
        ]
    result["logProbabilitySum"] = round(sum(c["logProbability"] for c in chosen), 6)
    return result


def _response_id() -> str:
    return secrets.token_urlsafe(18)[:23]


class GeminiWire:
    """The Gemini API's dialect; see the module docstring for what is modelled."""

    name = "gemini"
    base_path = "/v1beta"

    def __init__(self, *, models: Sequence[str] | None = None, logprobs: bool = True) -> None:
        #: when set, any other model in the path gets Google's 404 NOT_FOUND
        self.models: tuple[str, ...] | None = tuple(models) if models is not None else None
        #: the model returns token log probabilities (``responseLogprobs``); without, it refuses
        #: them with Google's 400 "Logprobs is not enabled for models/..."
        self.logprobs = logprobs
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
        return errors.missing_key() if presented is None else errors.wrong_key()

    def parse(self, body: Any, path_model: str | None, headers: Any) -> WireRequest:
        request = WireRequest(model=path_model)
        if not isinstance(body, dict):
            request.error = errors.not_a_message()
            return request
        for name in body:
            if name not in _REQUEST_FIELDS:
                request.error = errors.unknown_field(name)
                return request

        config = body.get("generationConfig", body.get("generation_config"))
        config = config if isinstance(config, dict) else {}
        for name in config:
            if name not in _CONFIG_FIELDS and name not in _CONFIG_SNAKE:
                request.error = errors.unknown_field(name, "generation_config")
                return request
        max_tokens = config.get("maxOutputTokens", config.get("max_output_tokens"))
        request.max_tokens = max_tokens if isinstance(max_tokens, int) else 0
        request.logprobs = config.get("responseLogprobs", config.get("response_logprobs")) is True
        top = config.get("logprobs")
        request.top_logprobs = top if isinstance(top, int) and not isinstance(top, bool) else 0
        mime = config.get("responseMimeType", config.get("response_mime_type"))
        request.wants_json = mime == "application/json"
        schema = next(
            (config[name] for name in _SCHEMA_FIELDS if isinstance(config.get(name), dict)), None
        )
        if schema is not None:
            request.output, request.schema = "schema", schema
        elif request.wants_json:
            request.output = "json"

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
                    request.error = errors.bad_role()
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
            request.error = errors.missing_contents()
        elif request.logprobs and not self.logprobs:
            request.error = errors.logprobs_disabled(path_model or "")

        with self._lock:
            self._last_generation_config = copy.deepcopy(config)
            self._last_system_instruction = system or None
            self._last_user_text = user_text
        return request

    def bad_json(self) -> tuple[int, Any]:
        return errors.bad_json()

    def not_found(self, method: str, path: str) -> tuple[int, Any]:
        match = _CHAT_PATH.fullmatch(path.split("?", 1)[0])
        return errors.unknown_model(match.group("model")) if match else errors.not_found()

    def bad_content_length(self) -> tuple[int, Any]:
        return errors.bad_content_length()

    def too_large(self) -> tuple[int, Any]:
        return errors.too_large()

    def output_refused(self, output: str, model: str) -> tuple[int, Any]:
        if output == "schema":  # a version of the API without the field
            return errors.unknown_field("responseSchema", "generation_config")
        return errors.json_mode_disabled(model)

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
        candidate: dict[str, Any] = {"content": message, "finishReason": "STOP", "index": 0}
        if request.logprobs:
            candidate["logprobsResult"] = _logprobs_result(content, request.top_logprobs)
        return {
            "candidates": [candidate],
            "usageMetadata": usage,
            "modelVersion": model,
            "responseId": _response_id(),
        }

    def rate_limited(self, model: str, limited: Limited) -> tuple[int, Any, dict[str, str]]:
        return 429, errors.quota_exceeded(model, limited), {}  # Gemini sends no Retry-After

    def server_error(self, status: int, request_id: str) -> Any:
        return errors.server_error(status)

    def overloaded(self, request_id: str) -> tuple[int, Any]:
        return errors.overloaded()

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
