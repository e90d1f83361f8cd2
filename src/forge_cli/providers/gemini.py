"""Google's Gemini API, natively: ``POST {base}/models/{model}:generateContent``.

Wire format (Gemini Developer API, v1beta):

* request: ``systemInstruction {parts: [{text}]}``, ``contents [{role: user|model, parts}]`` and
  ``generationConfig {maxOutputTokens, temperature, responseMimeType, responseSchema,
  thinkingConfig, responseLogprobs}`` (log probabilities when confidence is wanted; read from
  ``candidates[0].logprobsResult.chosenCandidates``), the task's schema as ``responseSchema`` in Gemini's OpenAPI subset
  (``schemas.openapi_schema``); the key travels in the ``x-goog-api-key`` header and never in the
  URL (the ``?key=`` form would put it in every log line and exception that shows a URL);
* answer: ``candidates[0].content.parts[].text`` (parts with ``"thought": true`` are thought
  summaries, not the answer), ``finishReason`` (STOP, MAX_TOKENS, SAFETY, RECITATION, ...),
  ``promptFeedback.blockReason`` when the prompt itself was refused, ``usageMetadata
  {promptTokenCount, candidatesTokenCount, thoughtsTokenCount, totalTokenCount}`` where thoughts
  are billed as output but counted apart from candidates, and ``modelVersion``;
* errors: Google's ``{"error": {"code", "message", "status", "details": [...]}}``. A wrong key is a
  400 INVALID_ARGUMENT with an ``ErrorInfo`` whose reason is API_KEY_INVALID, a missing one a 403
  PERMISSION_DENIED; a 429 RESOURCE_EXHAUSTED carries no Retry-After header, only a
  ``RetryInfo.retryDelay`` ("30s") and a ``QuotaFailure`` naming the quota; 503 UNAVAILABLE is
  "The model is overloaded", 504 DEADLINE_EXCEEDED a server-side timeout.

Gemini sends no rate-limit headers, so completions carry ``rate=None``. Messages are built from
status codes and Google's text with the key scrubbed out; an authentication failure never quotes
the provider at all.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx

from forge_cli.core.calls import Completion, PackRequest, PromptSections
from forge_cli.core.errors import AuthError, InvalidResponseError, ProviderError
from forge_cli.core.text import estimate_tokens, parse_duration, parse_retry_after
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.http import HttpAdapter, json_body, post_json, scrub
from forge_cli.providers.logprobs import ask, gemini_logprobs
from forge_cli.providers.schemas import openapi_schema
from forge_cli.providers.status import COMMON, ErrorReply, Rule, key_hint, signal, status
from forge_cli.providers.structured import Output

__all__ = ["DEFAULT_BASE_URL", "MODEL_SPECS", "GeminiProvider", "ModelSpec", "model_spec"]

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com/v1beta"

_RETRY_INFO = "type.googleapis.com/google.rpc.RetryInfo"
_ERROR_INFO = "type.googleapis.com/google.rpc.ErrorInfo"
_QUOTA_FAILURE = "type.googleapis.com/google.rpc.QuotaFailure"
#: ErrorInfo reasons that mean the key itself is wrong (a 400, not the 401 other APIs send)
_KEY_REASONS = frozenset({"API_KEY_INVALID", "API_KEY_EXPIRED", "API_KEY_SERVICE_BLOCKED"})
#: finish reasons under which an answer without text was withheld by Google, not left unwritten
_WITHHELD = frozenset(
    {"SAFETY", "RECITATION", "BLOCKLIST", "PROHIBITED_CONTENT", "SPII", "IMAGE_SAFETY"}
)

#: the common table with Google's departures: a wrong key may come as a 400 (``bad_key``); a 429
#: whose every violated quota is per day cannot be retried before tomorrow; a rate limit names the
#: quotas and the RetryInfo wait; a 404 is about the model; DEADLINE_EXCEEDED is a timeout whatever
#: its status
GEMINI_ERRORS = (
    COMMON.changed("auth", when=status(401, 403) | signal("bad_key"))
    .before(
        "rate_limit",
        Rule(
            "daily_quota",
            AuthError,
            "daily quota exhausted ({detail})",
            when=status(429) & signal("daily_quota"),
        ),
    )
    .changed("rate_limit", message="rate limited ({label}: {quotas}{after})")
    .changed(
        "not_found",
        message="model {model} not found at {base_url}: check --model and --base-url ({detail})",
    )
    .changed(
        "timeout",
        message="deadline exceeded ({detail})",
        when=status(408, 504) | signal("status:DEADLINE_EXCEEDED"),
    )
)


@dataclass(frozen=True, slots=True)
class ModelSpec:
    """How forge drives one Gemini model family (matched on the longest model-name prefix).

    ``temperature`` None sends the request's own temperature. ``thinking`` is sent as
    ``generationConfig.thinkingConfig`` (None: the model's default). ``thinking_headroom`` is
    added to ``maxOutputTokens``, because Gemini counts thinking tokens against that cap: a
    thinking model given only the answer's budget can spend it all thinking and finish with
    MAX_TOKENS and no text. The cap costs nothing unless used.
    """

    prefix: str
    temperature: float | None = None
    thinking: dict[str, Any] | None = None
    thinking_headroom: int = 0


#: Facts from Google's documentation (ai.google.dev/gemini-api/docs/thinking, .../gemini-3):
#:
#: * Gemini 3 (gemini-3-pro-preview, gemini-3-flash-preview, gemini-3.1-*): keep temperature at its
#:   default 1.0 ("setting it below 1.0 may lead to unexpected behavior, looping, or degraded
#:   performance"); thinking cannot be switched off, ``thinkingLevel`` "low" (supported by every
#:   Gemini 3 model) minimises latency and cost. thinkingLevel and thinkingBudget are mutually
#:   exclusive (400).
#: * Gemini 2.5 Flash / Flash-Lite: ``thinkingBudget`` 0 disables thinking.
#: * Gemini 2.5 Pro: thinking cannot be disabled (budget 128..32768); 128 is the cheapest.
#: * older models (2.0, 1.5) do not think and take no thinkingConfig.
MODEL_SPECS: tuple[ModelSpec, ...] = (
    ModelSpec(
        "gemini-3", temperature=1.0, thinking={"thinkingLevel": "low"}, thinking_headroom=2048
    ),
    ModelSpec("gemini-2.5-pro", thinking={"thinkingBudget": 128}, thinking_headroom=1024),
    ModelSpec("gemini-2.5-flash", thinking={"thinkingBudget": 0}),
    ModelSpec("gemini-2.5-flash-lite", thinking={"thinkingBudget": 0}),
)
_DEFAULT_SPEC = ModelSpec("")


def model_spec(model: str, specs: Sequence[ModelSpec] = MODEL_SPECS) -> ModelSpec:
    """The spec whose prefix is the longest match for ``model`` ("models/" prefix ignored)."""
    name = model.removeprefix("models/").lower()
    best = _DEFAULT_SPEC
    for spec in specs:
        if name.startswith(spec.prefix) and len(spec.prefix) > len(best.prefix):
            best = spec
    return best


def xml_prompt(sections: PromptSections) -> tuple[str, str]:
    """(system instruction, user text) as XML-tagged sections, the layout Google recommends."""
    system = "\n\n".join(
        f"<{tag}>\n{text}\n</{tag}>"
        for tag, text in (
            ("role", sections.role),
            ("instructions", sections.instructions),
            ("constraints", sections.constraints),
            ("output_format", sections.output_format),
        )
        if text
    )
    user = f"<context>\n{sections.context}\n</context>"
    if sections.task:
        user += f"\n\n<task>\n{sections.task}\n</task>"
    return system, user


class GeminiProvider(HttpAdapter):
    api_version = "v1beta"
    #: a refused ``responseSchema`` ("Unknown name \"responseSchema\"", "...response_schema...")
    #: or JSON mode ("Json mode is not enabled for models/...")
    output_refusal: ClassVar[re.Pattern[str]] = re.compile(
        r"response_?schema|\bschema\b|response_?mime_?type|json mode", re.IGNORECASE
    )

    def __init__(self, *, logprobs: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        #: the model refused ``responseLogprobs`` once (gemini-2.5 models do), or the settings
        #: turn them off: later requests go without, and confidence stays null
        self.logprobs_refused = not logprobs

    @classmethod
    def _options(cls, config: ProviderConfig) -> dict[str, Any]:
        return {**super()._options(config), "logprobs": config.logprobs}

    def _setup(self) -> None:
        self.base_url = self.base_url or DEFAULT_BASE_URL
        self.spec = model_spec(self.model)
        model = self.model.removeprefix("models/")
        self._url = f"{self.base_url}/models/{model}:generateContent"
        if self._key:
            self._headers["x-goog-api-key"] = self._key

    async def _call(self, request: PackRequest, output: Output) -> Completion:
        """One call; a server that refuses log probabilities is asked again without, once per
        run (``providers/logprobs.py``): confidence is a bonus, never a reason to lose an answer."""
        return await ask(
            self,
            request,
            lambda logprobs: self._post(self.body(request, output, logprobs=logprobs)),
        )

    async def _post(self, body: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        response = await post_json(self._client, self._url, body, self._headers, provider=self.name)
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            raise self._error(response)
        return self._completion(response, latency_ms)

    # -- request -------------------------------------------------------------------------------

    def body(
        self, request: PackRequest, output: Output | None = None, *, logprobs: bool | None = None
    ) -> dict[str, Any]:
        """The generateContent body for ``request`` (public so tests and dry runs can show it).

        ``logprobs`` defaults to what the request wants, unless the model has refused them."""
        if request.sections is not None:
            system, user = xml_prompt(request.sections)
            contents = [{"role": "user", "parts": [{"text": user}]}]
        else:
            system, contents = _from_messages(request.messages)
        config: dict[str, Any] = {
            "maxOutputTokens": request.max_tokens + self.spec.thinking_headroom,
            "temperature": (
                self.spec.temperature if self.spec.temperature is not None else request.temperature
            ),
        }
        if self.spec.thinking is not None:
            config["thinkingConfig"] = dict(self.spec.thinking)
        if logprobs is None:
            logprobs = request.confidence and not self.logprobs_refused
        if logprobs:
            config["responseLogprobs"] = True  # the chosen tokens' alone: no ``logprobs`` count
        output = self.output.choose(request) if output is None else output
        if output is not Output.TEXT:
            config["responseMimeType"] = "application/json"
        if output is Output.SCHEMA and request.schema is not None:
            config["responseSchema"] = openapi_schema(request.schema)
        body: dict[str, Any] = {"contents": contents, "generationConfig": config}
        if system:
            body["systemInstruction"] = {"parts": [{"text": system}]}
        return body

    # -- response ------------------------------------------------------------------------------

    def _completion(self, response: httpx.Response, latency_ms: float) -> Completion:
        data = json_body(response)
        if not isinstance(data, dict):
            raise InvalidResponseError(
                "response is not a generateContent JSON object",
                provider=self.name,
                raw=scrub(response.text, self._key),
            )
        candidates = data.get("candidates")
        if not isinstance(candidates, list) or not candidates:
            feedback = data.get("promptFeedback")
            reason = feedback.get("blockReason") if isinstance(feedback, dict) else None
            message = (
                f"prompt blocked by Gemini (blockReason {reason})"
                if reason
                else "response has no candidates"
            )
            raise InvalidResponseError(
                message,
                provider=self.name,
                raw=scrub(response.text, self._key),
            )
        candidate = candidates[0] if isinstance(candidates[0], dict) else {}
        content = candidate.get("content")
        parts = content.get("parts") if isinstance(content, dict) else None
        text = "".join(
            part["text"]
            for part in parts or ()
            if isinstance(part, dict)
            and isinstance(part.get("text"), str)
            and not part.get("thought")
        )
        finish = candidate.get("finishReason")
        if not text and finish in _WITHHELD:
            raise InvalidResponseError(
                f"answer withheld by Gemini (finishReason {finish})",
                provider=self.name,
            )
        if not text and finish == "MAX_TOKENS":
            raise InvalidResponseError(
                "answer cut off at maxOutputTokens before any text (finishReason MAX_TOKENS)",
                provider=self.name,
            )
        usage = data.get("usageMetadata")
        usage = usage if isinstance(usage, dict) else {}
        candidates_tokens = _count(usage.get("candidatesTokenCount"))
        thoughts = _count(usage.get("thoughtsTokenCount")) or 0
        return Completion(
            content=text,
            tokens_in=_count(usage.get("promptTokenCount")) or 0,
            tokens_out=(
                candidates_tokens if candidates_tokens is not None else estimate_tokens(text)
            )
            + thoughts,
            model=str(data.get("modelVersion") or self.model),
            latency_ms=latency_ms,
            rate=None,
            logprobs=gemini_logprobs(candidate),
        )

    # -- errors --------------------------------------------------------------------------------

    def _error(self, response: httpx.Response) -> ProviderError:
        http_status = response.status_code
        err = _google_error(json_body(response))
        message = str(err.get("message") or "")
        rpc_status = err.get("status") if isinstance(err.get("status"), str) else None
        details = [d for d in err.get("details") or () if isinstance(d, dict)]
        reasons = {str(d.get("reason")) for d in details if d.get("@type") == _ERROR_INFO}
        label = rpc_status or response.reason_phrase or f"HTTP {http_status}"
        signals = {f"status:{rpc_status}"} if rpc_status else set()
        if reasons & _KEY_REASONS or (http_status == 400 and "api key" in message.lower()):
            signals.add("bad_key")
        if _daily_quota_only(details):
            signals.add("daily_quota")
        text = scrub(message, self._key)
        # "RESOURCE_EXHAUSTED: You exceeded ...", or the bare reason phrase of a non-Google body
        text = f"{label}: {text}" if text and rpc_status else text or label
        header_wait = parse_retry_after(response.headers.get("retry-after"))
        wait = header_wait if header_wait is not None else _retry_delay(details)
        return GEMINI_ERRORS.error(
            ErrorReply(
                provider=self.name,
                status=http_status,
                detail=text,
                # Google's text is left out entirely: it is about the key, and may one day quote it
                auth_detail=label,
                key_hint=key_hint(self._key_env) or ": pass a valid key",
                base_url=self.base_url,
                model=self.model,
                retry_after=wait,
                raw=scrub(response.text, self._key) or None,
                signals=frozenset(signals),
                extra={
                    "label": label,
                    # the quota names say more than Google's boilerplate, which runs past any snippet
                    "quotas": ", ".join(dict.fromkeys(_quota_ids(details))) or text,
                    "after": f"; retry in {wait:g}s" if wait is not None else "",
                },
            )
        )


def _from_messages(messages: Sequence[dict[str, str]]) -> tuple[str, list[dict[str, Any]]]:
    """Chat messages as (system instruction, contents): system -> systemInstruction,
    user -> "user", assistant -> "model"."""
    system: list[str] = []
    contents: list[dict[str, Any]] = []
    for message in messages:
        role = message.get("role")
        text = message.get("content") or ""
        if role == "system":
            if text:
                system.append(text)
            continue
        contents.append(
            {"role": "model" if role == "assistant" else "user", "parts": [{"text": text}]}
        )
    return "\n\n".join(system), contents


def _count(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0, int(value))


def _google_error(data: Any) -> dict[str, Any]:
    """The ``error`` object of a Google error body (some proxies wrap it in a one-item list)."""
    if isinstance(data, list) and data:
        data = data[0]
    err = data.get("error") if isinstance(data, dict) else None
    return err if isinstance(err, dict) else {}


def _retry_delay(details: Sequence[dict[str, Any]]) -> float | None:
    """Seconds from a ``google.rpc.RetryInfo`` detail ("30s", "38.804097346s")."""
    for detail in details:
        if detail.get("@type") == _RETRY_INFO:
            delay = detail.get("retryDelay")
            if isinstance(delay, str):
                return parse_duration(delay)
            if isinstance(delay, dict):  # the proto-JSON object form {"seconds": 30, "nanos": 0}
                seconds = _count(delay.get("seconds")) or 0
                return seconds + (_count(delay.get("nanos")) or 0) / 1e9
    return None


def _quota_ids(details: Sequence[dict[str, Any]]) -> list[str]:
    """The ``quotaId`` of every violation in ``google.rpc.QuotaFailure`` details."""
    return [
        str(violation["quotaId"])
        for detail in details
        if detail.get("@type") == _QUOTA_FAILURE
        for violation in detail.get("violations") or ()
        if isinstance(violation, dict) and violation.get("quotaId")
    ]


def _daily_quota_only(details: Sequence[dict[str, Any]]) -> bool:
    """True when every violated quota is a per-day one: retrying before tomorrow is futile."""
    ids = _quota_ids(details)
    return bool(ids) and all("PerDay" in quota for quota in ids)
