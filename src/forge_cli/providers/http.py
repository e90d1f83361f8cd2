"""HTTP plumbing every adapter shares: the client, one POST with transport errors mapped, key
scrubbing, the common rate-limit header dialects, and stepping down the output ladder.

Adapters differ in URLs, bodies and error shapes, not in how a timeout or a reset connection is
reported, nor in how a server's refusal of structured output is survived, so that lives here once.
Nothing in this module ever formats a request header into a message: keys travel in headers and
only in headers.
"""

from __future__ import annotations

import asyncio
import math
import re
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar, Self

import httpx
import orjson

from forge_cli.core.calls import Completion, PackRequest, RateInfo
from forge_cli.core.errors import (
    ProviderError,
    ProviderTimeoutError,
    UnreachableError,
    UpstreamError,
)
from forge_cli.core.text import parse_duration, snippet
from forge_cli.providers.config import ProviderConfig
from forge_cli.providers.exchange_log import log_exchange, log_failure
from forge_cli.providers.structured import Output, OutputLadder
from forge_cli.providers.transport import ShardedTransport
from forge_cli.providers.urls import with_version

__all__ = [
    "MAX_RESPONSE_BYTES",
    "HttpAdapter",
    "anthropic_rate_info",
    "make_client",
    "openai_rate_info",
    "parse_duration",
    "post_json",
    "scrub",
    "token_count",
]


#: the most of an answer's body read: a pack's answer is kilobytes (``max_tokens`` bounds it), so
#: anything near this size is a broken or hostile server, and a 100 MB answer must not cost 1.5 GB
MAX_RESPONSE_BYTES = 8 * 2**20


class HttpAdapter:
    """What every HTTP adapter holds: its name, model, base URL, prices, key, client and output ladder.

    Subclasses add their own URL and headers (the key goes into a header, never a URL) and the
    ``_call`` that speaks their wire format with the output mode it is given; ``complete`` picks the
    mode and steps down when the server refuses it (``providers/structured.py``).
    """

    cacheable = True
    #: the wire has a plain JSON mode besides a schema (Anthropic's Messages API has none)
    has_json_mode: ClassVar[bool] = True
    #: what the wire's servers say when they refuse an output mode: OpenAI-style ``response_format``
    #: errors, "json_schema" / "JSON schema" in vLLM's and llama.cpp's, a grammar that failed to build
    output_refusal: ClassVar[re.Pattern[str]] = re.compile(
        r"response[_ ]?format|json[_ ]?schema|\bschema\b|grammar", re.IGNORECASE
    )
    #: the API version a bare host gets (``providers/urls.py``); None: the URL is used as given
    api_version: ClassVar[str | None] = None

    def __init__(
        self,
        *,
        name: str,
        base_url: str,
        model: str,
        api_key: str | None,
        key_env: str | None,
        client: httpx.AsyncClient,
        price_in: float = 0.0,
        price_out: float = 0.0,
        json_mode: bool = True,
        json_schema: bool = True,
        pack: int | None = None,
    ) -> None:
        self.name = name
        #: the most records a request holds unless the user chose (``ProviderConfig.pack``)
        self.pack_size = pack or None
        self.model = model
        self.base_url = with_version(base_url, self.api_version)
        self.price_in = price_in
        self.price_out = price_out
        self._key = api_key
        self._key_env = key_env
        self._client = client
        self._headers: dict[str, str] = {"content-type": "application/json"}
        #: the output modes this instance may still use: what the config allows, less what the
        #: server has refused during the run
        self.output = OutputLadder(
            schema=json_schema, json=json_mode and self.has_json_mode, refusal=self.output_refusal
        )
        self._setup()

    @classmethod
    def from_config(cls, config: ProviderConfig, key: str | None) -> Self:
        """The adapter for one member of a chain, with its own client: its provider type's factory."""
        return cls(
            name=config.name,
            base_url=config.base_url,
            model=config.model,
            api_key=key,
            key_env=config.api_key_env,
            client=make_client(config.timeout, config.concurrency),
            **cls._options(config),
        )

    @classmethod
    def _options(cls, config: ProviderConfig) -> dict[str, Any]:
        """Constructor arguments taken from the config: the output modes it allows, and whatever
        more an adapter adds."""
        return {
            "json_mode": config.json_mode,
            "json_schema": config.json_schema,
            "pack": config.pack,
        }

    def _setup(self) -> None:
        """Add the adapter's own URL and headers (the base has set everything else)."""

    async def complete(self, request: PackRequest) -> Completion:
        """Answer ``request`` in the richest output mode the server has not refused.

        A refusal of that mode (a 400 about ``response_format``, a schema, a tool; see
        ``OutputLadder.refused``) sends the same request again one step down; the step holds for every later request of this instance, so a
        server without structured output costs one extra call per step and run, not one per pack.
        """
        output = self.output.choose(request)
        while True:
            try:
                return await self._call(request, output)
            except ProviderError as exc:
                lower = self.output.refused(output, exc)
                if lower is None:
                    raise
                output = lower

    async def _call(self, request: PackRequest, output: Output) -> Completion:
        """One HTTP call in the wire's format, binding the answer as ``output`` says."""
        raise NotImplementedError(f"{type(self).__name__} speaks no wire format")

    async def aclose(self) -> None:
        await self._client.aclose()


def make_client(timeout: float, concurrency: int) -> httpx.AsyncClient:
    """One client per provider: its own pool (sharded so a big pool stays fast), no redirects."""
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout, connect=min(10.0, timeout)),
        transport=ShardedTransport(max(1, concurrency)),
        follow_redirects=False,
    )


async def post_json(
    client: httpx.AsyncClient,
    url: str,
    body: Any,
    headers: Mapping[str, str],
    *,
    provider: str,
    timeout: float | None = None,
    limit: int = MAX_RESPONSE_BYTES,
) -> httpx.Response:
    """POST a JSON body and read the whole answer; a failure becomes the shared taxonomy's error.

    ``timeout`` (default: the client's read timeout, i.e. ``--timeout``) bounds the whole exchange,
    connection, request and every byte of the body: httpx's own timeouts apply to each read
    alone, so a server sending one byte a second, or a body shorter than its Content-Length on a
    connection left open, would otherwise hold the call forever. The body is read as it streams and
    given up past ``limit`` bytes, so a huge answer costs ``limit`` of memory, not its size.
    """
    deadline = client.timeout.read if timeout is None else timeout
    request = client.build_request("POST", url, content=orjson.dumps(body), headers=dict(headers))
    started = time.perf_counter()
    try:
        async with asyncio.timeout(deadline):
            response = await client.send(request, stream=True)
            try:
                content = await _read_capped(response, limit, provider)
            finally:
                await response.aclose()
    except (TimeoutError, httpx.TimeoutException):
        within = f"within {deadline:g} s" if deadline is not None else "in time"
        log_failure(request, "timeout", time.perf_counter() - started)
        raise ProviderTimeoutError(f"no complete answer {within}", provider=provider) from None
    except httpx.ConnectError as exc:
        log_failure(request, _reason(exc), time.perf_counter() - started)
        raise UnreachableError(
            f"cannot connect to {_origin(request.url)} ({_reason(exc)})",
            provider=provider,
        ) from None
    except httpx.TransportError as exc:
        log_failure(request, _reason(exc), time.perf_counter() - started)
        raise UpstreamError(f"connection failed: {_reason(exc)}", provider=provider) from None
    log_exchange(request, response, time.perf_counter() - started)
    return httpx.Response(
        response.status_code,
        # the body is already decoded: its encoding and length headers describe the wire, not it
        headers=[
            (name, value)
            for name, value in response.headers.multi_items()
            if name.lower() not in _WIRE_HEADERS
        ],
        content=content,
        request=request,
        extensions={k: v for k, v in response.extensions.items() if k != "network_stream"},
    )


#: headers about how the body travelled, which no longer apply to the body as read
_WIRE_HEADERS = frozenset(("content-encoding", "content-length", "transfer-encoding"))


async def _read_capped(response: httpx.Response, limit: int, provider: str) -> bytes:
    """The decoded body, or an ``UpstreamError`` as soon as it passes ``limit`` bytes."""
    too_large = UpstreamError(
        f"answer larger than {_size(limit)}: stopped reading it", provider=provider
    )
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit and "content-encoding" not in response.headers:
        raise too_large
    chunks: list[bytes] = []
    size = 0
    async for chunk in response.aiter_bytes():
        size += len(chunk)
        if size > limit:
            raise too_large
        chunks.append(chunk)
    return b"".join(chunks)


def _size(count: int) -> str:
    return f"{count / 2**20:g} MB" if count >= 2**20 else f"{count:,} bytes"


def _origin(url: httpx.URL) -> str:
    """scheme://host:port: enough to say where, never a user name or password in the URL."""
    port = f":{url.port}" if url.port is not None else ""
    return f"{url.scheme}://{url.host}{port}"


def _reason(exc: httpx.TransportError) -> str:
    """What went wrong on the wire, short: httpx's own text when it has one, else its class."""
    text = " ".join(str(exc).split())
    return text[:120] if text else type(exc).__name__


def scrub(text: str, *secrets: str | None, limit: int = 200) -> str:
    """A short, single-line piece of ``text`` with every secret replaced by ``***``."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return snippet(text)[:limit]


def json_body(response: httpx.Response) -> Any:
    """The parsed body, or None when it is not JSON."""
    try:
        return orjson.loads(response.content)
    except orjson.JSONDecodeError:
        return None


def token_count(value: Any) -> int | None:
    """A token count from an answer's usage block, or None when the server sent no usable one.

    Numbers (and digit strings, which some proxies send) are taken; anything else (a word, a list,
    a boolean, a negative count) is ignored, so bad bookkeeping never costs an answer.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    if isinstance(value, int) and value >= 0:
        return value
    if isinstance(value, float) and math.isfinite(value) and value >= 0:
        return round(value)
    return None


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(float(value.strip()))
    except ValueError:
        return None


def openai_rate_info(headers: Mapping[str, str]) -> RateInfo | None:
    """OpenAI's (and Groq's, Together's, ...) ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}``."""
    info = RateInfo(
        rpm_limit=_int(headers.get("x-ratelimit-limit-requests")),
        rpm_remaining=_int(headers.get("x-ratelimit-remaining-requests")),
        rpm_reset=parse_duration(headers.get("x-ratelimit-reset-requests")),
        tpm_limit=_int(headers.get("x-ratelimit-limit-tokens")),
        tpm_remaining=_int(headers.get("x-ratelimit-remaining-tokens")),
        tpm_reset=parse_duration(headers.get("x-ratelimit-reset-tokens")),
    )
    return info or None


def _until(stamp: str | None) -> float | None:
    """Seconds from now until an RFC 3339 timestamp (Anthropic's reset headers)."""
    if not stamp:
        return None
    try:
        when = datetime.fromisoformat(stamp.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def anthropic_rate_info(headers: Mapping[str, str]) -> RateInfo | None:
    """Anthropic's ``anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}``."""
    info = RateInfo(
        rpm_limit=_int(headers.get("anthropic-ratelimit-requests-limit")),
        rpm_remaining=_int(headers.get("anthropic-ratelimit-requests-remaining")),
        rpm_reset=_until(headers.get("anthropic-ratelimit-requests-reset")),
        tpm_limit=_int(headers.get("anthropic-ratelimit-tokens-limit")),
        tpm_remaining=_int(headers.get("anthropic-ratelimit-tokens-remaining")),
        tpm_reset=_until(headers.get("anthropic-ratelimit-tokens-reset")),
    )
    return info or None
