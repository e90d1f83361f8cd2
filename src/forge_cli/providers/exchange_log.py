"""``-v``: one line per HTTP exchange on the ``forge.http`` logger, with every secret masked.

When a provider misbehaves, the user needs to see what forge sent where and what came back:
method, URL, status, latency and headers. Keys travel in headers (``Authorization``,
``x-api-key``, ``api-key``, ``x-goog-api-key``) and sometimes in a URL (a proxy's password, a
``?key=``), so every such value is masked here, before anything is formatted; bodies are never
logged (they hold the user's texts). Nothing is formatted unless the logger is enabled, so the
hot path pays one level check per call.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import httpx

from forge_cli.core.text import mask_url

__all__ = ["LOGGER_NAME", "log_exchange", "log_failure", "masked_headers", "masked_url"]

LOGGER_NAME = "forge.http"
_log = logging.getLogger(LOGGER_NAME)

MASK = "***"
#: header names whose values are credentials, whatever their spelling
_SECRET_HEADERS = frozenset(
    (
        "authorization",
        "proxy-authorization",
        "x-api-key",
        "api-key",
        "x-goog-api-key",
        "cookie",
        "set-cookie",
    )
)
#: a header or query parameter named like one of these is treated as a credential too
_SECRET_WORDS = ("key", "token", "secret", "password", "auth", "signature")


def _secret_name(name: str) -> bool:
    lowered = name.lower()
    return lowered in _SECRET_HEADERS or any(word in lowered for word in _SECRET_WORDS)


def masked_url(url: str) -> str:
    """The URL with a password and any credential-like query parameter masked."""
    shown = mask_url(url)
    parts = urlsplit(shown)
    if not parts.query:
        return shown
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = urlencode([(k, MASK if _secret_name(k) else v) for k, v in pairs], safe="*")
    return urlunsplit(parts._replace(query=query))


def masked_headers(headers: Iterable[tuple[str, str]]) -> str:
    """``name: value`` pairs joined by ``; ``, credentials shown as ``***``."""
    return "; ".join(f"{k}: {MASK if _secret_name(k) else v}" for k, v in headers)


def log_exchange(request: httpx.Request, response: httpx.Response, elapsed: float) -> None:
    """One exchange that got an answer: the request line, status, latency, both sides' headers."""
    if not _log.isEnabledFor(logging.DEBUG):
        return
    _log.debug(
        "%s %s -> %d in %.0f ms | sent %s | got %s",
        request.method,
        masked_url(str(request.url)),
        response.status_code,
        elapsed * 1000,
        masked_headers(request.headers.multi_items()),
        masked_headers(response.headers.multi_items()),
    )


def log_failure(request: httpx.Request, reason: str, elapsed: float) -> None:
    """One exchange that got no answer (timeout, refused connection, reset)."""
    if not _log.isEnabledFor(logging.DEBUG):
        return
    _log.debug(
        "%s %s -> no answer (%s) after %.0f ms | sent %s",
        request.method,
        masked_url(str(request.url)),
        reason,
        elapsed * 1000,
        masked_headers(request.headers.multi_items()),
    )
