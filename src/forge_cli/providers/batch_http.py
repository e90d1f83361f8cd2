"""The HTTP calls of batch adapters: synchronous, tried again after a 429, a 5xx or a drop.

A batch run makes a handful of calls (upload, create, a poll every few seconds, a download), so a
plain synchronous client is enough, and a transient failure of one of them must not end a run that
has hours of provider work behind it: each call is tried ``ATTEMPTS`` times, honouring
Retry-After. Any other error status becomes forge's error through the wire's own mapping (the
synchronous adapter's ``_error``, which scrubs the key).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx
import orjson

from forge_cli.core.errors import (
    InvalidResponseError,
    ProviderError,
    UnreachableError,
    UpstreamError,
)
from forge_cli.core.text import parse_retry_after, snippet

__all__ = ["ATTEMPTS", "json_object", "send"]

#: attempts per HTTP call
ATTEMPTS = 4


def send(
    client: httpx.Client,
    method: str,
    url: str,
    provider: str,
    error_of: Callable[[httpx.Response], ProviderError],
    **kw: Any,
) -> httpx.Response:
    """One call, tried again after a 429, a 5xx or a dropped connection."""
    for attempt in range(ATTEMPTS):
        last = attempt == ATTEMPTS - 1
        try:
            response = client.request(method, url, **kw)
        except httpx.ConnectError as exc:
            if last:
                raise UnreachableError(
                    f"cannot connect to {httpx.URL(url).host} ({type(exc).__name__})",
                    provider=provider,
                ) from None
            time.sleep(0.5 * 2**attempt)
            continue
        except httpx.TransportError as exc:
            if last:
                raise UpstreamError(
                    f"connection failed: {type(exc).__name__}", provider=provider
                ) from None
            time.sleep(0.5 * 2**attempt)
            continue
        if response.status_code < 400:
            return response
        retryable = response.status_code == 429 or response.status_code >= 500
        if last or not retryable:
            raise error_of(response)
        wait = parse_retry_after(response.headers.get("retry-after"))
        time.sleep(min(30.0, wait if wait is not None else 0.5 * 2**attempt))
    raise AssertionError("unreachable")


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The answer's JSON object; InvalidResponseError for anything else."""
    try:
        data = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        raise InvalidResponseError("answer is not JSON", raw=snippet(response.text)) from None
    if not isinstance(data, dict):
        raise InvalidResponseError("answer is not a JSON object", raw=snippet(response.text))
    return data


def batch_client(headers: dict[str, str], timeout: float) -> httpx.Client:
    """The synchronous client of a batch adapter: the member's own headers (its key), a
    minute at least per call (uploads and result files are large), no redirects."""
    return httpx.Client(
        timeout=httpx.Timeout(max(timeout, 60.0), connect=10.0),
        headers=headers,
        follow_redirects=False,
    )
