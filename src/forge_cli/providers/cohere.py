"""Cohere's native v2 chat API: ``POST {base_url}/chat`` with ``Authorization: Bearer KEY``.

The request is ``{model, messages, temperature, max_tokens, stream: false}`` plus
``response_format {"type": "json_object"[, "json_schema"]}`` in JSON mode, the task's schema as
``json_schema`` (the field name of Cohere's v2 API definition and SDKs; v1 called it ``schema``,
and some v2 guide pages still show that spelling); v2 takes the same
``system`` / ``user`` / ``assistant`` messages as OpenAI, so the pack goes as it is. The answer is
``{id, finish_reason, message {role, content [{type: "text", text} | {type: "thinking", ...}]},
usage {billed_units, tokens}}``: only ``text`` parts are the answer, and tokens come from
``usage.tokens`` (what the model processed), falling back to ``usage.billed_units``.

Errors are a flat ``{"id", "message"}`` with no code, so the status decides: 401/403 stop the run
(the message is shown only when it is one of Cohere's fixed, key-free strings), 402 (billing
limit) and a 429 for a trial key's *monthly* calls stop it too, other 429s are rate limits
(Cohere's 429s usually carry no Retry-After; it is honoured when present), 404 names the model
and base URL, 408/504 are timeouts, 500/502/503 (and 499, a cancelled request) are retried,
and 498 (Cohere's "blocked input/output" for a deny-listed token, not a bad key) and other 4xx
are request errors. A 200 whose ``finish_reason`` is ``ERROR`` or ``TIMEOUT`` failed upstream.

Cohere's only rate-limit headers are a trial key's per-minute call budget
(``x-trial-endpoint-call-limit`` / ``x-trial-endpoint-call-remaining``, a rolling minute with
no reset header); they become ``RateInfo(rpm_limit, rpm_remaining)``. Production keys send none.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any

import httpx
import orjson

from forge_cli.core.calls import Completion, PackRequest, RateInfo
from forge_cli.core.errors import (
    AuthError,
    InvalidResponseError,
    ProviderError,
    ProviderTimeoutError,
    RequestError,
    UpstreamError,
)
from forge_cli.core.text import estimate_tokens, parse_retry_after
from forge_cli.providers.http import HttpAdapter, post_json, scrub
from forge_cli.providers.status import (
    COMMON,
    ErrorReply,
    Rule,
    key_hint,
    signal,
    status,
    status_from,
)
from forge_cli.providers.structured import Output

__all__ = ["DEFAULT_BASE_URL", "CohereProvider", "cohere_rate_info"]

DEFAULT_BASE_URL = "https://api.cohere.com/v2"

#: Cohere's documented 401 messages, which never contain the key: only these are ever shown
_AUTH_DETAILS = {
    "no api key supplied": "no key was sent",
    "invalid api token": "the key was refused",
    "expired": "the key has expired",
}

#: the common table with Cohere's departures: 402 (billing limit) and a trial key's *monthly* 429
#: stop the run; 499 (a cancelled request) is retried like a 5xx, but 501 is not (the server will
#: never implement the call); 498 is Cohere's "blocked input/output", a deny-listed token
COHERE_ERRORS = (
    COMMON.before(
        "rate_limit",
        Rule("billing", AuthError, "billing limit reached ({detail})", when=status(402)),
        Rule(
            "monthly_limit",
            AuthError,
            "monthly call limit reached ({detail})",
            when=status(429) & signal("monthly_limit"),
        ),
    )
    .changed("server", when=status(499) | (status_from(500) & ~status(501)))
    .before(
        "rejected",
        Rule("blocked", RequestError, "request blocked by Cohere ({detail})", when=status(498)),
    )
)


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except (ValueError, OverflowError):  # "abc", "inf", "nan"
        return None


def cohere_rate_info(headers: Mapping[str, str]) -> RateInfo | None:
    """A trial key's per-minute call budget, the only limit Cohere states in headers."""
    info = RateInfo(
        rpm_limit=_int(headers.get("x-trial-endpoint-call-limit")),
        rpm_remaining=_int(headers.get("x-trial-endpoint-call-remaining")),
    )
    return info or None


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first_count(*values: Any) -> int | None:
    """The first usable token count (Cohere's schema types them as numbers, maybe floats)."""
    for value in values:
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            return max(0, round(value))
    return None


class CohereProvider(HttpAdapter):
    api_version = "v2"

    def _setup(self) -> None:
        self._headers["accept"] = "application/json"
        if self._key:
            self._headers["authorization"] = f"Bearer {self._key}"

    def body(self, request: PackRequest, output: Output | None = None) -> dict[str, Any]:
        """The v2 chat body for ``request`` (public so tests and dry runs can show it)."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
            "stream": False,
        }
        output = self.output.choose(request) if output is None else output
        if output is not Output.TEXT:
            response_format: dict[str, Any] = {"type": "json_object"}
            if output is Output.SCHEMA and request.schema is not None:
                response_format["json_schema"] = request.schema
            body["response_format"] = response_format
        return body

    async def _call(self, request: PackRequest, output: Output) -> Completion:
        started = time.perf_counter()
        response = await post_json(
            self._client,
            f"{self.base_url}/chat",
            self.body(request, output),
            self._headers,
            provider=self.name,
        )
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            raise self._error(response)
        return self._completion(response, latency_ms)

    def _completion(self, response: httpx.Response, latency_ms: float) -> Completion:
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        message = data.get("message") if isinstance(data, dict) else None
        parts = message.get("content") if isinstance(message, dict) else None
        if isinstance(parts, list):
            content = "".join(
                str(p.get("text") or "")
                for p in parts
                if isinstance(p, dict) and p.get("type") == "text"
            )
        elif isinstance(parts, str):  # not what v2 sends, but unambiguous
            content = parts
        else:
            raise InvalidResponseError(
                "response is not a Cohere chat response",
                provider=self.name,
                status=response.status_code,
                raw=scrub(response.text, self._key),
            )
        assert isinstance(data, dict)
        rate = cohere_rate_info(response.headers)
        finish = data.get("finish_reason")
        if finish == "ERROR":
            raise UpstreamError(
                "generation failed upstream (finish_reason ERROR)",
                provider=self.name,
                status=response.status_code,
                rate=rate,
            )
        if finish == "TIMEOUT":
            raise ProviderTimeoutError(
                "generation exceeded Cohere's time limit (finish_reason TIMEOUT)",
                provider=self.name,
                status=response.status_code,
                rate=rate,
            )
        usage = _dict(data.get("usage"))
        tokens, billed = _dict(usage.get("tokens")), _dict(usage.get("billed_units"))
        tokens_in = _first_count(tokens.get("input_tokens"), billed.get("input_tokens"))
        tokens_out = _first_count(tokens.get("output_tokens"), billed.get("output_tokens"))
        return Completion(
            content=content,
            tokens_in=tokens_in or 0,
            tokens_out=tokens_out if tokens_out is not None else estimate_tokens(content),
            model=self.model,
            latency_ms=latency_ms,
            rate=rate,
        )

    def _error(self, response: httpx.Response) -> ProviderError:
        message = self._error_text(response)
        # only Cohere's fixed, key-free 401 strings are shown; any other text stays out
        lowered = message.lower()
        auth_detail = next((v for k, v in _AUTH_DETAILS.items() if k in lowered), "no detail")
        monthly = "/ month" in message or "per month" in message
        return COHERE_ERRORS.error(
            ErrorReply(
                provider=self.name,
                status=response.status_code,
                detail=message,
                auth_detail=auth_detail,
                key_hint=key_hint(self._key_env),
                base_url=self.base_url,
                model=self.model,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                rate=cohere_rate_info(response.headers),
                raw=message,
                signals=frozenset({"monthly_limit"}) if monthly else frozenset(),
            )
        )

    def _error_text(self, response: httpx.Response) -> str:
        """Cohere's ``message`` (or the raw body), short, single-line and with the key scrubbed."""
        text = response.text
        try:
            data = orjson.loads(response.content)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict) and isinstance(data.get("message"), str):
            text = data["message"]
        return scrub(text, self._key) or response.reason_phrase or f"HTTP {response.status_code}"
