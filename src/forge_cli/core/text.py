"""Small text helpers every layer needs: snippets for failures, JSON values in words, token
estimates, header durations.

They live at the bottom so that providers, tasks and the engine can share them without importing one
another.
"""

from __future__ import annotations

import email.utils
import math
import re
import time
from datetime import UTC
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from forge_cli.core.tokens import estimate_tokens

__all__ = [
    "describe",
    "estimate_tokens",
    "mask_url",
    "parse_duration",
    "parse_retry_after",
    "snippet",
]

SNIPPET_CHARS = 300


def mask_url(url: str) -> str:
    """The URL as forge may print it: a ``user:password@`` in it shows as ``user:***@``.

    A proxy's password in ``--base-url`` is as secret as an API key, and URLs end up in messages,
    failure records and ``providers list``; only the request itself needs the real one.
    """
    if "@" not in url:
        return url
    try:
        parts = urlsplit(url)
        if parts.password is None and parts.username is None:
            return url
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        port = f":{parts.port}" if parts.port is not None else ""
    except ValueError:
        # unparseable (a bad port, say): still never show what sits before the '@'
        return "***@" + url.rpartition("@")[2]
    user = parts.username or ""
    shown = f"{user}:***@" if parts.password is not None else f"{user}@"
    return urlunsplit(parts._replace(netloc=shown + host + port))


def snippet(text: str) -> str:
    """A short, single-line piece of a raw answer for the failures file."""
    flat = " ".join(text.split())
    return flat if len(flat) <= SNIPPET_CHARS else flat[: SNIPPET_CHARS - 1] + "…"


def describe(value: Any) -> str:
    """A parsed JSON value in words, for a message that says what was found instead: "an
    array", "3 (a number)", "true (a boolean)", "null" (never Python's names: "a int")."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"{value!r} (a number)"
    if isinstance(value, str):
        return "a string"
    return "an object" if isinstance(value, dict) else "an array"


_SECONDS = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)")


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header value, or None when it says nothing usable.

    Accepts delay-seconds (``"3"``, and ``"1.5"`` which some providers send although RFC 9110 asks
    for an integer) and an HTTP-date, compared with ``now`` (epoch seconds; the wall clock by
    default, since HTTP-dates are wall-clock times). A date in the past or a negative number means
    "now" (0.0). Anything else, including NaN and infinity, is None so the caller falls back to its
    own back-off instead of trusting a broken header.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if _SECONDS.fullmatch(text):
        seconds = float(text)
        return max(seconds, 0.0) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None:  # older Pythons returned None rather than raising
        return None
    if when.tzinfo is None:  # "-0000" dates come back naive; HTTP-dates are always GMT
        when = when.replace(tzinfo=UTC)
    reference = time.time() if now is None else now
    return max(when.timestamp() - reference, 0.0)


_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(ms|h|m|s)")


def parse_duration(value: str | None) -> float | None:
    """Seconds in a Go-style duration ("6m0s", "1.5s", "12ms") or plain seconds ("20")."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    total, end = 0.0, 0
    for match in _DURATION_PART.finditer(value):
        if match.start() != end:
            return None
        number, unit = float(match.group(1)), match.group(2)
        total += number * {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}[unit]
        end = match.end()
    return total if end == len(value) and end else None
