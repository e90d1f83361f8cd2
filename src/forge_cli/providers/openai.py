"""Any OpenAI-compatible ``/v1/chat/completions`` endpoint.

The answer is bound by ``response_format``: the task's schema as strict ``json_schema``
(``schemas.strict_schema``), which llama.cpp, vLLM and Ollama compile into a grammar the model
cannot leave, else ``json_object`` (with the schema beside it for servers that read that older
form), else nothing but the prompt. A server that refuses one answers 400 naming
``response_format`` (or the schema, or the grammar it could not build), and the adapter steps down
(``HttpAdapter.complete``).

Error mapping follows OpenAI's bodies ``{"error": {"message", "type", "param", "code"}}``: 401/403 and
``insufficient_quota`` stop the run (retrying cannot help), 429 and 503 honour ``Retry-After``, other
5xx and broken connections are upstream errors. Messages are built from the status and the provider's
own text with the key scrubbed out, so a key can never surface in a log, a failure row or a trace.
"""

from __future__ import annotations

import time
from typing import Any

import httpx
import orjson

from forge_cli.core.calls import Completion, PackRequest
from forge_cli.core.errors import AuthError, InvalidResponseError, ProviderError
from forge_cli.core.text import estimate_tokens, parse_retry_after, snippet
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.http import (
    HttpAdapter,
    openai_rate_info,
    post_json,
    scrub,
    token_count,
)
from forge_cli.providers.logprobs import ask, openai_logprobs
from forge_cli.providers.schemas import strict_schema
from forge_cli.providers.status import COMMON, ErrorReply, Rule, key_hint, signal, status
from forge_cli.providers.structured import ANSWER_NAME, Output

#: the common table, except that a 429 for ``insufficient_quota`` is an empty account, not a limit
#: to wait out, and only 408 is a timeout: a 504 (often from a proxy in front of the server) stays a
#: server error, retried with its Retry-After
OPENAI_ERRORS = COMMON.before(
    "rate_limit",
    Rule(
        "quota",
        AuthError,
        "quota exhausted ({detail})",
        when=status(429) & signal("insufficient_quota"),
        raw=False,
    ),
).changed("timeout", when=status(408))

#: alternatives asked for per token when confidence is wanted: OpenAI returns ``top_logprobs`` only
#: when asked and llama.cpp's server reads it as its ``n_probs``; forge keeps the chosen token alone
TOP_LOGPROBS = 1


class OpenAICompatibleProvider(HttpAdapter):
    def __init__(
        self,
        *,
        auth_header: str = "bearer",
        schema_in_json_mode: bool = False,
        logprobs: bool = True,
        pack_schema: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        #: JSON mode carries the schema too (``Preset.schema_in_json_mode``: llama.cpp's older form)
        self.schema_in_json_mode = schema_in_json_mode
        #: send each pack's own schema (``PackRequest.pack_schema``): a server compiling a grammar
        #: per request
        self.pack_schema = pack_schema
        if self._key and auth_header.lower() in ("bearer", "authorization"):
            self._headers["authorization"] = f"Bearer {self._key}"
        elif self._key:  # e.g. Sarvam's api-subscription-key
            self._headers[auth_header.lower()] = self._key
        #: the server refused ``logprobs`` once (or the settings turn them off): later requests go
        #: without, and confidence stays null
        self.logprobs_refused = not logprobs

    @classmethod
    def _options(cls, config: ProviderConfig) -> dict[str, Any]:
        return {
            **super()._options(config),
            "auth_header": config.auth_header,
            "schema_in_json_mode": config.schema_in_json_mode,
            "logprobs": config.logprobs,
            "pack_schema": config.pack_schema,
        }

    def body(
        self, request: PackRequest, output: Output | None = None, *, logprobs: bool | None = None
    ) -> dict[str, Any]:
        """The chat-completions body for ``request`` (public so tests and dry runs can show it).

        ``logprobs`` defaults to what the request wants, unless the server has refused it."""
        body: dict[str, Any] = {
            "model": self.model,
            "messages": request.messages,
            "temperature": request.temperature,
            "max_tokens": request.max_tokens,
        }
        if logprobs is None:
            logprobs = request.confidence and not self.logprobs_refused
        if logprobs:
            body["logprobs"] = True
            body["top_logprobs"] = TOP_LOGPROBS
        output = self.output.choose(request) if output is None else output
        schema = request.schema
        if self.pack_schema and schema is not None and request.pack_schema is not None:
            schema = request.pack_schema() or schema
        if output is Output.SCHEMA and schema is not None:
            body["response_format"] = {"type": "json_schema", "json_schema": _json_schema(schema)}
        elif output is not Output.TEXT:
            body["response_format"] = {"type": "json_object"}
            if self.schema_in_json_mode and schema is not None:
                body["response_format"]["schema"] = schema
        return body

    async def _call(self, request: PackRequest, output: Output) -> Completion:
        """One call; a server that refuses log probabilities is asked again without, once per
        run (``providers/logprobs.py``): confidence is a bonus, never a reason to lose an answer.

        A refusal of a pack's own schema is asked again with the run's shared one: answered, the
        server's grammar lacks what binding needs (``prefixItems``, ``const``) and later packs go
        with the shared schema; refused again, it is the output mode that is refused, and the
        caller steps down (binding stays on for the mode below)."""
        bound = self.pack_schema and request.pack_schema is not None and output is not Output.TEXT
        try:
            return await self._ask(request, output)
        except ProviderError as exc:
            if not bound or not self.output.is_refusal(exc):
                raise
        self.pack_schema = False
        try:
            return await self._ask(request, output)
        except ProviderError:
            self.pack_schema = True
            raise

    async def _ask(self, request: PackRequest, output: Output) -> Completion:
        return await ask(
            self,
            request,
            lambda logprobs: self._post(self.body(request, output, logprobs=logprobs)),
        )

    async def _post(self, body: dict[str, Any]) -> Completion:
        started = time.perf_counter()
        response = await post_json(
            self._client,
            f"{self.base_url}/chat/completions",
            body,
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
            choice = data["choices"][0]
            message = choice["message"]
        except (orjson.JSONDecodeError, KeyError, IndexError, TypeError):
            raise InvalidResponseError(
                "response is not a chat completion",
                provider=self.name,
                raw=snippet(response.text),
            ) from None
        content = message.get("content") or ""
        if isinstance(content, list):  # content parts
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        # token counts are bookkeeping, not the answer: a server that garbles them ("abc", a
        # list, a negative number) costs its count (estimated instead), never the answer
        usage = data.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        tokens_out = token_count(usage.get("completion_tokens"))
        return Completion(
            content=content,
            tokens_in=token_count(usage.get("prompt_tokens")) or 0,
            tokens_out=tokens_out if tokens_out is not None else estimate_tokens(content),
            model=str(data.get("model") or self.model),
            latency_ms=latency_ms,
            rate=openai_rate_info(response.headers),
            logprobs=openai_logprobs(choice.get("logprobs")),
        )

    def _error(self, response: httpx.Response) -> ProviderError:
        message, code = self._error_text(response)
        return OPENAI_ERRORS.error(
            ErrorReply(
                provider=self.name,
                status=response.status_code,
                detail=message,
                # the provider's text may echo a masked piece of the key ("sk-ab***yz"): an auth
                # failure shows the error code only
                auth_detail=f"{code or 'no detail'}",
                key_hint=key_hint(self._key_env),
                base_url=self.base_url,
                model=self.model,
                retry_after=parse_retry_after(response.headers.get("retry-after")),
                rate=openai_rate_info(response.headers),
                signals=frozenset({code}) if isinstance(code, str) else frozenset(),
            )
        )

    def _error_text(self, response: httpx.Response) -> tuple[str, str | None]:
        text = response.text
        code = None
        try:
            err = orjson.loads(text).get("error")
            if isinstance(err, dict):
                text = str(err.get("message") or text)
                code = err.get("code") or err.get("type")
            elif isinstance(err, str):
                text = err
        except (orjson.JSONDecodeError, AttributeError):
            pass
        return scrub(text, self._key) or response.reason_phrase, code


def _json_schema(schema: dict[str, object]) -> dict[str, Any]:
    """``response_format.json_schema``: the strict form when the schema has one.

    A schema with no strict form (it leaves an object open) goes as it is with ``strict`` false,
    which OpenAI treats as best effort and grammar-based servers still enforce.
    """
    strict = strict_schema(schema)
    return {
        "name": ANSWER_NAME,
        "strict": strict is not None,
        "schema": strict if strict is not None else schema,
    }
