"""Anthropic's native Messages API (``POST {base_url}/messages``).

The wire differs from OpenAI's in ways that matter to a batch tool:

* the key travels in ``x-api-key`` and every request must name an API version in
  ``anthropic-version`` (``2023-06-01``, the only GA version); the system prompt is a top-level
  ``system`` field, not a message, and ``max_tokens`` is required;
* the answer is a list of typed content blocks (``text`` blocks, or the ``tool_use`` block of the
  tool the request forced; ``thinking`` blocks are not the answer); usage counts cached input
  separately (``cache_creation_input_tokens``, ``cache_read_input_tokens``), so the input a call
  really cost is the sum of the three;
* errors are ``{"type": "error", "error": {"type", "message"}, "request_id"}``; 529
  ``overloaded_error`` means Anthropic as a whole is short of capacity: it is not a limit on the
  account and the request itself is fine, so it is retried with backoff like any 5xx (honouring
  ``retry-after`` when one comes), while 429 ``rate_limit_error`` waits for ``retry-after``;
* rate-limit headers are ``anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}`` with
  resets as RFC 3339 timestamps (``anthropic_rate_info`` reads them).

Messages are built from the status, the error type and the provider's text with the key scrubbed
out; an authentication failure shows only the error type, so no key can surface anywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import httpx
import orjson

from forge_cli.core.calls import Completion, PackRequest, RateInfo
from forge_cli.core.errors import (
    AuthError,
    InvalidResponseError,
    ProviderError,
    RequestError,
    UpstreamError,
)
from forge_cli.core.text import estimate_tokens, parse_retry_after, snippet
from forge_cli.providers.http import HttpAdapter, anthropic_rate_info, post_json, scrub
from forge_cli.providers.status import (
    COMMON,
    ErrorReply,
    Rule,
    asked,
    key_hint,
    signal,
    status,
)
from forge_cli.providers.structured import ANSWER_NAME, Output

__all__ = ["ANTHROPIC_VERSION", "DEFAULT_BASE_URL", "AnthropicProvider"]

DEFAULT_BASE_URL = "https://api.anthropic.com/v1"
#: the Messages API's version header; 2023-06-01 is the current (and only GA) version
ANTHROPIC_VERSION = "2023-06-01"


def _asked_or_reset(reply: ErrorReply) -> float | None:
    """Retry-After, else the reset of whichever limit is exhausted, as Anthropic's SDKs do."""
    return reply.retry_after if reply.retry_after is not None else _wait_from_rate(reply.rate)


#: the common table with Anthropic's departures: no call succeeds until someone pays (402, a
#: ``billing_error`` or a "credit balance" message) or until next month (a 429 whose
#: ``details.error_code`` is the spend limit), so those stop the run instead of failing every
#: pack; a plain 429 without Retry-After waits for the exhausted limit's reset; 503 and Anthropic's
#: own 529 (or an ``overloaded_error``) mean Anthropic as a whole is short of capacity and are
#: retried like any 5xx; 413 says the request is too large
ANTHROPIC_ERRORS = (
    COMMON.before(
        "rate_limit",
        Rule(
            "billing",
            AuthError,
            "billing problem ({detail})",
            when=status(402) | signal("type:billing_error") | signal("credit_balance"),
            raw=False,
        ),
        Rule(
            "spend_limit",
            AuthError,
            "spend limit reached ({detail})",
            when=status(429) & signal("code:enforced_spend_limit_reached"),
            raw=False,
        ),
    )
    .changed("rate_limit", wait=_asked_or_reset)
    .before(
        "server",
        Rule(
            "overloaded",
            UpstreamError,
            "overloaded ({detail}{reference})",
            when=status(503, 529) | signal("type:overloaded_error"),
            wait=asked,
        ),
    )
    .before(
        "rejected",
        Rule("too_large", RequestError, "request too large ({detail})", when=status(413)),
    )
)


class AnthropicProvider(HttpAdapter):
    """Claude models through ``/v1/messages``.

    The Messages API has no JSON mode. With the answer's schema, the request defines one tool whose
    ``input_schema`` is that schema and forces it (``tool_choice`` ``{"type": "tool"}``): the model
    answers with a ``tool_use`` block whose ``input`` is the answer, bound to the schema, and its
    JSON text is what the task parses. Without a schema (or after a server refused the tool), JSON
    comes from the prompt alone. The classic trick, prefilling the assistant turn with ``{`` so the
    model can only continue a JSON object, is deliberately not used: Claude 4.6 and later models
    reject a conversation that ends with an assistant turn (400 "This model does not support
    assistant message prefill"), so a prefill would break exactly the models people pick today, and
    a per-model allow-list would rot. Every forge task states the answer format in its system prompt
    and its parser tolerates prose or code fences around the JSON, which is what Claude reliably
    returns without prefill; an answer that is still not JSON (or is cut by ``max_tokens``) is
    re-asked by the engine like any other invalid answer.
    """

    cacheable = True
    has_json_mode = False
    api_version = "v1"
    #: a refused tool: "tools: Extra inputs are not permitted" from a server without tools, a
    #: ``tool_choice`` or ``input_schema`` it cannot take
    output_refusal: ClassVar[re.Pattern[str]] = re.compile(
        r"\btools?\b|tool_choice|input_schema|\bschema\b", re.IGNORECASE
    )

    def _setup(self) -> None:
        self._headers["anthropic-version"] = ANTHROPIC_VERSION
        if self._key:
            self._headers["x-api-key"] = self._key

    # -- the call ----------------------------------------------------------------------------

    async def _call(self, request: PackRequest, output: Output) -> Completion:
        started = time.perf_counter()
        response = await post_json(
            self._client,
            f"{self.base_url}/messages",
            self._body(request, output),
            self._headers,
            provider=self.name,
        )
        latency_ms = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            raise self._error(response)
        return self._completion(response, latency_ms)

    def _body(self, request: PackRequest, output: Output | None = None) -> dict[str, Any]:
        if request.sections is not None:
            system = request.sections.system_text()
        else:
            system = "\n\n".join(
                text
                for m in request.messages
                if m.get("role") in ("system", "developer") and (text := _text(m.get("content")))
            )
        body: dict[str, Any] = {
            "model": self.model,
            "max_tokens": max(1, int(request.max_tokens)),
            "messages": _turns(request.messages),
            # Anthropic's range is 0..1 (OpenAI's is 0..2); out of range is a 400
            "temperature": min(1.0, max(0.0, float(request.temperature))),
        }
        if system:
            body["system"] = system
        output = self.output.choose(request) if output is None else output
        schema = request.schema
        # a tool's input is an object: a schema of anything else cannot be one
        if output is Output.SCHEMA and schema is not None and schema.get("type") == "object":
            body["tools"] = [
                {
                    "name": ANSWER_NAME,
                    "description": "Record the answer for every item of the pack, in the shape "
                    "the instructions give.",
                    "input_schema": schema,
                }
            ]
            body["tool_choice"] = {
                "type": "tool",
                "name": ANSWER_NAME,
                "disable_parallel_tool_use": True,
            }
        return body

    def _completion(self, response: httpx.Response, latency_ms: float) -> Completion:
        try:
            data = orjson.loads(response.content)
            blocks = data["content"]
            if not isinstance(blocks, list):
                raise TypeError("content is not a list")
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            raise InvalidResponseError(
                "response is not a Messages API message",
                provider=self.name,
                status=response.status_code,
                raw=snippet(response.text),
                rate=anthropic_rate_info(response.headers),
            ) from None
        content = _answer(blocks)
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        # cached prompt tokens are reported apart from input_tokens; the prompt is all three
        tokens_in = sum(
            _count(usage.get(key))
            for key in ("input_tokens", "cache_creation_input_tokens", "cache_read_input_tokens")
        )
        tokens_out = usage.get("output_tokens")
        return Completion(
            content=content,
            tokens_in=tokens_in,
            tokens_out=_count(tokens_out) if tokens_out is not None else estimate_tokens(content),
            model=str(data.get("model") or self.model),
            latency_ms=latency_ms,
            rate=anthropic_rate_info(response.headers),
        )

    # -- errors ------------------------------------------------------------------------------

    def _error(self, response: httpx.Response) -> ProviderError:
        message, err_type, code, request_id = self._error_text(response)
        signals = {f"type:{err_type}", f"code:{code}"}
        if "credit balance" in message.lower():
            signals.add("credit_balance")
        return ANTHROPIC_ERRORS.error(
            ErrorReply(
                provider=self.name,
                status=response.status_code,
                detail=f"{err_type}: {message}" if err_type else message,
                # the provider's text is not shown: only the error type, which cannot carry a key
                auth_detail=err_type or "no detail",
                key_hint=key_hint(self._key_env),
                base_url=self.base_url,
                model=self.model,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                rate=anthropic_rate_info(response.headers),
                raw=scrub(response.text, self._key) or None,
                reference=f"; request {request_id}" if request_id else "",
                signals=frozenset(signals),
            )
        )

    def _error_text(
        self, response: httpx.Response
    ) -> tuple[str, str | None, str | None, str | None]:
        """(scrubbed message, error type, details.error_code, request id) of an error response."""
        text = response.text
        err_type: str | None = None
        code: str | None = None
        request_id = response.headers.get("request-id")
        try:
            data = orjson.loads(text)
        except orjson.JSONDecodeError:
            data = None
        if isinstance(data, dict):
            err = data.get("error")
            if isinstance(err, dict):
                text = str(err.get("message") or text)
                err_type = _str_or_none(err.get("type"))
                details = err.get("details")
                if isinstance(details, dict):
                    code = _str_or_none(details.get("error_code"))
            elif isinstance(err, str):
                text = err
            request_id = request_id or _str_or_none(data.get("request_id"))
        message = scrub(text, self._key) or response.reason_phrase or f"HTTP {response.status_code}"
        return message, err_type, code, request_id


def _answer(blocks: Sequence[Any]) -> str:
    """The answer's text: the forced tool's input as JSON, else the text blocks.

    An empty input is no answer (a call cut off by ``max_tokens`` ends with one) and reads as an
    empty text, which the engine re-asks. thinking/redacted_thinking blocks are the model's notes,
    never the answer.
    """
    for block in blocks:
        if isinstance(block, dict) and (block.get("type"), block.get("name")) == (
            "tool_use",
            ANSWER_NAME,
        ):
            answer = block.get("input")
            if answer:
                return answer if isinstance(answer, str) else orjson.dumps(answer).decode()
    return "".join(
        str(block.get("text") or "")
        for block in blocks
        if isinstance(block, dict) and block.get("type") == "text"
    )


def _text(content: Any) -> str:
    """A message's text: a string, or the text parts of an OpenAI-style list of parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            str(part.get("text") or "")
            for part in content
            if isinstance(part, dict) and part.get("type") in ("text", None)
        )
    return "" if content is None else str(content)


def _turns(messages: Sequence[Mapping[str, Any]]) -> list[dict[str, str]]:
    """The conversation without system messages, as alternating user/assistant turns.

    The Messages API takes only ``user`` and ``assistant`` roles; any other non-system role is sent
    as the user's, and consecutive turns of one role are joined so no model version can object to
    two user turns in a row.
    """
    turns: list[dict[str, str]] = []
    for message in messages:
        role = message.get("role")
        if role in ("system", "developer"):
            continue
        role = "assistant" if role == "assistant" else "user"
        text = _text(message.get("content"))
        if turns and turns[-1]["role"] == role:
            turns[-1]["content"] += "\n\n" + text
        else:
            turns.append({"role": role, "content": text})
    return turns


def _count(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


def _str_or_none(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _wait_from_rate(rate: RateInfo | None) -> float | None:
    """Without retry-after: the reset of whichever limit is exhausted, as Anthropic's SDKs do."""
    if rate is None:
        return None
    waits = [
        reset
        for remaining, reset in (
            (rate.rpm_remaining, rate.rpm_reset),
            (rate.tpm_remaining, rate.tpm_reset),
        )
        if remaining == 0 and reset is not None
    ]
    return max(waits) if waits else None
