"""A simulated LLM provider API on 127.0.0.1, speaking any ``Wire`` (OpenAI's by default).

forge's integration tests, its benchmarks and ``forge bench`` need an upstream that behaves like
the real thing on the wire (status codes, error bodies, rate-limit headers, keep-alive, true
concurrency) but is deterministic, free and scriptable. Mocking the HTTP client would hide exactly
the bugs that matter (connection reuse, Retry-After parsing, partial answers), so this is a real
HTTP/1.1 server in a background thread.

This module holds what every provider shares: latency, the sliding RPM/TPM windows, scripted
faults, stats, keep-alive and the command line. What a provider looks like on the wire (routes,
where the key travels, the exact bodies and headers of answers and errors) is a ``Wire`` (see
``sim/wire.py``): ``sim/openai_wire.py`` (the default, re-exported here as ``OpenAIWire``),
``sim/gemini_wire.py``, ``sim/anthropic_wire.py`` and ``sim/cohere_wire.py``.

Only loopback is ever bound: forge's standards forbid targeting anything else, and a fake upstream
reachable from the network would be an open relay for whatever a test feeds it.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import email.utils
import hashlib
import hmac
import json
import os
import random
import secrets
import signal
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Literal, get_args

from forge_cli.testing.sim.openai_wire import ORGANIZATION as ORGANIZATION
from forge_cli.testing.sim.openai_wire import (
    OpenAIWire,
    _content_text,
    go_duration,
    mask_key,
    model_list,
)

# the Wire protocol has no body for the handler's transport-level refusals (bad Content-Length,
# 413), so those keep OpenAI's error shape whatever the wire
from forge_cli.testing.sim.openai_wire import _error as _openai_error
from forge_cli.testing.sim.wire import Limited, WindowState, Wire, WireRequest

__all__ = [
    "DEFAULT_LABELS",
    "DEFAULT_MODELS",
    "DEFAULT_PRIORITIES",
    "FAULT_KINDS",
    "LOOPBACK",
    "FakeUpstream",
    "Fault",
    "FaultKind",
    "FaultRule",
    "OpenAIWire",
    "RequestRecord",
    "Responder",
    "UpstreamStats",
    "default_classification",
    "extract_pack",
    "go_duration",
    "mask_key",
]

LOOPBACK = "127.0.0.1"
DEFAULT_LABELS: tuple[str, ...] = (
    "hardware_issue",
    "software_issue",
    "model_quality",
    "billing",
    "other",
)
DEFAULT_PRIORITIES: tuple[str, ...] = ("low", "medium", "high", "urgent")
DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini")

#: OpenAI's RPM/TPM limits are per minute; the simulator uses a true sliding window of this length.
RATE_WINDOW = 60.0
#: a request body larger than this is refused with 413 rather than buffered
MAX_BODY_BYTES = 32 * 1024 * 1024
#: RPM quoted in a scripted 429's message when no rpm_limit is configured
_NOMINAL_RPM = 500

FaultKind = Literal[
    "429",
    "500",
    "503",
    "timeout",
    "malformed",
    "partial",
    "invalid_label",
    "think",
    "reasoning",
    "empty",
    "401",
    "reset",
    "overloaded",
]
FAULT_KINDS: frozenset[str] = frozenset(get_args(FaultKind))
#: faults that replace the answer with an error or no response at all
_ERROR_FAULTS: frozenset[str] = frozenset({"429", "500", "503", "401", "reset", "overloaded"})

Responder = Callable[[list[dict[str, Any]]], list[dict[str, Any]]]
FaultRule = Callable[[list[dict[str, Any]]], "Fault | None"]


@dataclass(frozen=True, slots=True)
class Fault:
    """One scripted misbehaviour for one upcoming request.

    Faults are how tests reproduce the failures forge must survive (429 storms, 5xx, hung calls,
    answers that are truncated, incomplete, mislabelled or wrapped in reasoning) without a real
    provider's randomness.
    """

    kind: FaultKind
    #: for "429"/"503": seconds or an HTTP-date string, sent as Retry-After (None: no header)
    retry_after: float | str | None = None
    #: for "timeout": seconds to sleep before answering normally
    delay: float = 0.0
    #: for "partial": how many items to leave out of the answer (the first ones)
    drop: int = 1

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(
                f"unknown fault kind {self.kind!r}; expected one of {sorted(FAULT_KINDS)}"
            )
        if self.delay < 0:
            raise ValueError("delay must be >= 0")
        if self.drop < 0:
            raise ValueError("drop must be >= 0")
        if isinstance(self.retry_after, int | float) and self.retry_after < 0:
            raise ValueError("retry_after must be >= 0")


@dataclass(frozen=True, slots=True)
class RequestRecord:
    """What one chat-completions request looked like and how it was answered.

    The Authorization header's value is deliberately never kept: forge promises keys never land in
    logs or files, and a test fixture that stored them would be the first place one leaked from.
    """

    #: wall-clock arrival time (time.time())
    timestamp: float
    #: pack ids (as strings) and texts; empty when the request was not a pack
    ids: tuple[str, ...]
    texts: tuple[str, ...]
    #: HTTP status sent; 0 when the connection was reset without a response
    status: int
    had_authorization: bool
    model: str | None
    #: fault kind applied ("failure_rate" for a random failure, "rpm"/"tpm" for a real limit hit)
    fault: str | None
    #: seconds from arrival until the response was ready to write (latency included)
    duration: float
    #: False when the client had gone before the response could be written (e.g. after "timeout")
    delivered: bool


class UpstreamStats:
    """Thread-safe counters of what the simulator saw.

    Every accessor returns a value or a copy taken under the lock, so a test or benchmark can read
    them while handler threads are still writing. Only /v1/chat/completions requests are counted,
    and each is counted before its response is written, so a client that has its answer can read
    its own request here. Records keep only the newest ``max_records`` (None: all), because a long
    benchmark would otherwise hold every ticket text it ever sent.
    """

    def __init__(self, max_records: int | None = 100_000) -> None:
        self._lock = threading.Lock()
        self._max_records = max_records
        self._in_flight = 0
        self._requests = 0
        self._by_status: dict[int, int] = {}
        self._items_answered = 0
        self._tokens_in = 0
        self._tokens_out = 0
        self._max_concurrent = 0
        self._records: deque[RequestRecord] = deque(maxlen=max_records)

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def by_status(self) -> dict[int, int]:
        with self._lock:
            return dict(self._by_status)

    @property
    def items_answered(self) -> int:
        with self._lock:
            return self._items_answered

    @property
    def tokens_in(self) -> int:
        with self._lock:
            return self._tokens_in

    @property
    def tokens_out(self) -> int:
        with self._lock:
            return self._tokens_out

    @property
    def max_concurrent(self) -> int:
        """Peak number of chat requests being handled at the same moment."""
        with self._lock:
            return self._max_concurrent

    @property
    def in_flight(self) -> int:
        with self._lock:
            return self._in_flight

    @property
    def records(self) -> list[RequestRecord]:
        with self._lock:
            return list(self._records)

    def snapshot(self) -> dict[str, Any]:
        """All counters at one instant, consistent with each other (records excluded)."""
        with self._lock:
            return {
                "requests": self._requests,
                "by_status": dict(self._by_status),
                "items_answered": self._items_answered,
                "tokens_in": self._tokens_in,
                "tokens_out": self._tokens_out,
                "max_concurrent": self._max_concurrent,
                "in_flight": self._in_flight,
            }

    def reset(self) -> None:
        """Zero the counters; requests still in flight keep counting towards the new peak."""
        with self._lock:
            self._requests = 0
            self._by_status = {}
            self._items_answered = 0
            self._tokens_in = 0
            self._tokens_out = 0
            self._max_concurrent = self._in_flight
            self._records = deque(maxlen=self._max_records)

    def _enter(self) -> None:
        with self._lock:
            self._in_flight += 1
            self._max_concurrent = max(self._max_concurrent, self._in_flight)

    def _leave(self) -> None:
        with self._lock:
            self._in_flight -= 1

    def _add(self, record: RequestRecord, items: int, tokens_in: int, tokens_out: int) -> None:
        with self._lock:
            self._requests += 1
            self._by_status[record.status] = self._by_status.get(record.status, 0) + 1
            self._items_answered += items
            self._tokens_in += tokens_in
            self._tokens_out += tokens_out
            self._records.append(record)

    def _undelivered(self, record: RequestRecord, items: int) -> None:
        """The client left before the answer: its items were not really answered."""
        with self._lock:
            self._items_answered -= items
            for index in range(len(self._records) - 1, -1, -1):
                if self._records[index] is record:
                    self._records[index] = dataclasses.replace(record, delivered=False)
                    break


# ---------------------------------------------------------------------------------------------
# pure helpers (public so tests and benchmarks can predict answers)
# ---------------------------------------------------------------------------------------------


def default_classification(
    text: str,
    labels: Sequence[str] = DEFAULT_LABELS,
    priorities: Sequence[str] = DEFAULT_PRIORITIES,
) -> dict[str, str]:
    """The default responder's verdict for one text, so callers can predict it exactly.

    Derived from sha256 of the text so the same ticket always gets the same answer across runs and
    processes, which is what cache and resume tests need.
    """
    h = int(hashlib.sha256(text.encode("utf-8")).hexdigest(), 16)
    return {
        "category": labels[h % len(labels)],
        "priority": priorities[h % len(priorities)],
        "summary": text[:60],
    }


def extract_pack(messages: Any) -> list[dict[str, Any]] | None:
    """The pack carried by the last user message, or None when it is not forge's pack shape."""
    if not isinstance(messages, list):
        return None
    text: str | None = None
    for message in reversed(messages):
        if isinstance(message, dict) and message.get("role") == "user":
            text = _content_text(message.get("content"))
            break
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if not isinstance(data, list):
        return None
    items: list[dict[str, Any]] = []
    for entry in data:
        if (
            not isinstance(entry, dict)
            or "id" not in entry
            or not isinstance(entry.get("text"), str)
        ):
            return None
        items.append(dict(entry))
    return items


def _request_id() -> str:
    return "req_" + secrets.token_hex(16)


def _retry_after_header(value: float | str) -> str:
    if isinstance(value, str):
        return value
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def _retry_after_seconds(value: float | str | None) -> float | None:
    """Seconds a Retry-After value asks for, to quote the same wait in the error message."""
    if value is None:
        return None
    if not isinstance(value, str):
        return float(value)
    try:
        return float(value)
    except ValueError:
        parsed = email.utils.parsedate_tz(value)
        return None if parsed is None else max(0.0, email.utils.mktime_tz(parsed) - time.time())


def _misleading_label(truth: str, labels: Sequence[str]) -> str:
    """A real label that is not the answer, so parsers that grep reasoning for labels go wrong."""
    others = [label for label in labels if label != truth]
    return others[0] if others else truth


def _invalid_label(labels: Sequence[str]) -> str:
    for candidate in ("General Inquiry", "hardware-issue", "unknown", "invalid_label_x"):
        if candidate not in labels:
            return candidate
    return "invalid_" + secrets.token_hex(4)


# ---------------------------------------------------------------------------------------------
# the server
# ---------------------------------------------------------------------------------------------


_Limited = Limited


class FakeUpstream:
    """A real HTTP server on 127.0.0.1 speaking ``wire`` (OpenAI's by default), scriptable for
    tests and benchmarks.

    Behaviour knobs mirror what makes real providers hard: latency that grows with the answer,
    jitter, a sliding-window RPM (and optional TPM) limit, random failures, an API key, and one-shot
    or rule-based faults. Everything random is drawn from RNGs seeded by ``seed``.

    Order of decisions for a chat request: 401 (api_key) -> 400 (no model/messages) -> 429 from the
    real RPM/TPM window -> scripted fault -> ``fault_when`` rules -> ``failure_rate`` -> answer.
    Only admitted requests enter the window; TPM counts prompt tokens plus ``max_tokens`` as OpenAI
    estimates it. x-ratelimit-* headers are sent only for the limits that are configured, so a
    client never paces itself on made-up numbers. Error responses are immediate; latency applies to
    200 answers (``latency + per_token_latency * completion tokens``, times ``1 ± jitter``).
    """

    def __init__(
        self,
        *,
        latency: float = 0.0,
        per_token_latency: float = 0.0,
        jitter: float = 0.0,
        rpm_limit: int | None = None,
        tpm_limit: int | None = None,
        failure_rate: float = 0.0,
        failure_status: int = 503,
        api_key: str | None = None,
        labels: Sequence[str] = DEFAULT_LABELS,
        priorities: Sequence[str] = DEFAULT_PRIORITIES,
        responder: Responder | None = None,
        seed: int = 0,
        port: int = 0,
        host: str = LOOPBACK,
        models: Sequence[str] = DEFAULT_MODELS,
        max_records: int | None = 100_000,
        wire: Wire | None = None,
        rate_window: float = RATE_WINDOW,
    ) -> None:
        if host not in (LOOPBACK, "localhost"):
            raise ValueError(f"FakeUpstream binds only to {LOOPBACK}, not {host!r}")
        if latency < 0 or per_token_latency < 0:
            raise ValueError("latency and per_token_latency must be >= 0")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter is a fraction in [0, 1]")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate is a fraction in [0, 1]")
        if not 400 <= failure_status <= 599:
            raise ValueError("failure_status must be an HTTP error status (400-599)")
        if rpm_limit is not None and rpm_limit < 1:
            raise ValueError("rpm_limit must be >= 1 or None")
        if tpm_limit is not None and tpm_limit < 1:
            raise ValueError("tpm_limit must be >= 1 or None")
        if not labels or not priorities:
            raise ValueError("labels and priorities must not be empty")
        if not 0 <= port <= 65535:
            raise ValueError("port must be in 0..65535")
        if max_records is not None and max_records < 0:
            raise ValueError("max_records must be >= 0 or None")

        self.latency = latency
        self.per_token_latency = per_token_latency
        self.jitter = jitter
        if rate_window <= 0:
            raise ValueError("rate_window must be > 0 seconds")
        self.rpm_limit = rpm_limit
        self.tpm_limit = tpm_limit
        #: seconds of the sliding window; limits are still quoted per minute, and enforced as
        #: limit x window / 60 within it, so a test can run "at 600 RPM" for a few seconds
        self.rate_window = rate_window
        self._scale = rate_window / RATE_WINDOW
        self.failure_rate = failure_rate
        self.failure_status = failure_status
        self.labels: tuple[str, ...] = tuple(labels)
        self.priorities: tuple[str, ...] = tuple(priorities)
        self.responder = responder
        self.models: tuple[str, ...] = tuple(models)
        self.seed = seed
        self._api_key = api_key
        self._port = port
        self._fingerprint = "fp_" + hashlib.sha256(str(seed).encode()).hexdigest()[:10]
        #: the provider dialect spoken on the wire (OpenAI's unless told otherwise)
        self.wire: Wire = wire if wire is not None else OpenAIWire(self._fingerprint)

        self.stats = UpstreamStats(max_records)
        self._lock = threading.Lock()
        self._faults: deque[Fault] = deque()
        self._rules: list[FaultRule] = []
        self._fail_rng = random.Random(f"{seed}:failure")
        self._jitter_rng = random.Random(f"{seed}:jitter")
        self._req_window: deque[float] = deque()
        self._tok_window: deque[tuple[float, int]] = deque()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        # the key is never shown, only whether one is required
        state = "running" if self._server else "stopped"
        return f"<FakeUpstream {state} port={self._port} auth={self._api_key is not None}>"

    # -- lifecycle ---------------------------------------------------------------------------

    @property
    def port(self) -> int:
        if self._server is None and self._port == 0:
            raise RuntimeError("FakeUpstream has no port until start()")
        return self._port

    @property
    def base_url(self) -> str:
        """What a client puts as its base URL: ``http://127.0.0.1:PORT/v1`` for OpenAI's wire."""
        return f"http://{LOOPBACK}:{self.port}{self.wire.base_path}"

    @property
    def running(self) -> bool:
        return self._server is not None

    def start(self) -> FakeUpstream:
        """Bind and serve in a daemon thread; returns self so ``FakeUpstream().start()`` chains."""
        if self._server is not None:
            raise RuntimeError("FakeUpstream is already running")
        server = _Server((LOOPBACK, self._port), self)
        self._port = server.server_address[1]
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"forge-sim-upstream:{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, drop open keep-alive connections and free the port. Idempotent.

        Handler threads still sleeping on latency are not waited for (they are daemons and their
        write simply fails), so stop() returns promptly even mid-benchmark.
        """
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        server.close_connections()
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FakeUpstream:
        return self if self._server is not None else self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- scripting ---------------------------------------------------------------------------

    def script(self, *faults: Fault) -> None:
        """Queue one-shot faults; each applies to the next admitted chat request, in arrival order.

        "Admitted" means past the API-key check and the RPM/TPM window: a request refused with 401
        or a real 429 does not consume a scripted fault, so scripts stay predictable under limits.
        """
        for fault in faults:
            if not isinstance(fault, Fault):
                raise TypeError(f"script() takes Fault objects, not {type(fault).__name__}")
        with self._lock:
            self._faults.extend(faults)

    def fault_when(self, predicate: FaultRule) -> None:
        """Add a per-request rule on the pack items (e.g. a poison ticket that always fails).

        Rules run in the order added after any scripted fault; the first non-None Fault wins. A
        non-pack request passes an empty list.
        """
        with self._lock:
            self._rules.append(predicate)

    def clear_faults(self) -> None:
        """Forget queued faults and rules."""
        with self._lock:
            self._faults.clear()
            self._rules.clear()

    @property
    def pending_faults(self) -> int:
        with self._lock:
            return len(self._faults)

    def reset_stats(self) -> None:
        self.stats.reset()

    # -- decisions (called from handler threads) ---------------------------------------------

    def _check_key(
        self, headers: Any, query: dict[str, str] | None = None
    ) -> tuple[int, Any] | None:
        """None when the request may proceed, else the wire's (status, body) for a bad key."""
        if self._api_key is None:
            return None
        presented = self.wire.presented_key(headers, query or {})
        if not presented:
            return self.wire.auth_failure(None)
        if hmac.compare_digest(presented.encode(), self._api_key.encode()):
            return None
        return self.wire.auth_failure(presented)

    def _admit(self, tokens: int) -> tuple[_Limited | None, dict[str, str]]:
        """Apply the sliding RPM/TPM windows; returns (refusal or None, x-ratelimit headers)."""
        now = time.monotonic()
        horizon = now - self.rate_window
        with self._lock:
            while self._req_window and self._req_window[0] <= horizon:
                self._req_window.popleft()
            while self._tok_window and self._tok_window[0][0] <= horizon:
                self._tok_window.popleft()
            used_tokens = sum(n for _, n in self._tok_window)
            limited: _Limited | None = None
            rpm_cap, tpm_cap = self._window_caps()
            if rpm_cap is not None and len(self._req_window) >= rpm_cap:
                wait = self._req_window[0] + self.rate_window - now
                limited = _Limited("requests", self.rpm_limit or 0, len(self._req_window), 1, wait)
            elif tpm_cap is not None and used_tokens + tokens > tpm_cap:
                wait = self._tokens_free_in(tokens, now)
                limited = _Limited("tokens", self.tpm_limit or 0, used_tokens, tokens, wait)
            else:
                self._req_window.append(now)
                self._tok_window.append((now, tokens))
                used_tokens += tokens
            headers = self._ratelimit_headers(now, used_tokens)
        return limited, headers

    def _window_caps(self) -> tuple[int | None, int | None]:
        """The RPM / TPM limits as counts within the (possibly shortened) window."""
        rpm = None if self.rpm_limit is None else max(1, round(self.rpm_limit * self._scale))
        tpm = None if self.tpm_limit is None else max(1, round(self.tpm_limit * self._scale))
        return rpm, tpm

    def _tokens_free_in(self, tokens: int, now: float) -> float:
        """Seconds until enough tokens leave the window for this request (caller holds the lock)."""
        cap = self._window_caps()[1]
        assert cap is not None
        if tokens > cap:
            return self.rate_window
        excess = sum(n for _, n in self._tok_window) + tokens - cap
        for stamp, n in self._tok_window:
            excess -= n
            if excess <= 0:
                return stamp + self.rate_window - now
        return self.rate_window

    def _ratelimit_headers(self, now: float, used_tokens: int) -> dict[str, str]:
        """The wire's rate-limit headers for the configured limits (caller holds the lock).

        Reset is "time until the limit is back to its initial state", i.e. until the newest
        request in the window expires. Dimensions without a configured limit are left out rather
        than faked, so a client never paces itself on made-up numbers.
        """
        window = WindowState()
        if self.rpm_limit is not None:
            window.rpm_limit = self.rpm_limit
            used = len(self._req_window) / self._scale
            window.rpm_remaining = max(0, int(self.rpm_limit - used))
            window.rpm_reset = (
                self._req_window[-1] + self.rate_window - now if self._req_window else 0.0
            )
        if self.tpm_limit is not None:
            window.tpm_limit = self.tpm_limit
            window.tpm_remaining = max(0, int(self.tpm_limit - used_tokens / self._scale))
            window.tpm_reset = (
                self._tok_window[-1][0] + self.rate_window - now if self._tok_window else 0.0
            )
        return self.wire.ratelimit_headers(window)

    def _next_fault(self, items: list[dict[str, Any]]) -> Fault | None:
        with self._lock:
            if self._faults:
                return self._faults.popleft()
            rules = list(self._rules)
        for rule in rules:
            fault = rule(items)
            if fault is not None:
                return fault
        return None

    def _roll_failure(self) -> bool:
        if self.failure_rate <= 0:
            return False
        with self._lock:
            return self._fail_rng.random() < self.failure_rate

    def _delay_for(self, completion_tokens: int) -> float:
        delay = self.latency + self.per_token_latency * completion_tokens
        if self.jitter and delay > 0:
            with self._lock:
                factor = 1.0 + self._jitter_rng.uniform(-self.jitter, self.jitter)
            delay *= factor
        return max(0.0, delay)

    def _results(self, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if self.responder is not None:
            return [dict(result) for result in self.responder(items)]
        return [
            {"id": item["id"], **default_classification(item["text"], self.labels, self.priorities)}
            for item in items
        ]

    def _answer(
        self, items: list[dict[str, Any]] | None, fault: Fault | None, request: WireRequest
    ) -> tuple[str, str | None, int]:
        """(content, reasoning_content, items answered) for a 200, content faults applied."""
        kind = fault.kind if fault is not None else None
        answered = 0
        first_id: Any = "1"
        truth = self.labels[0]
        if items is not None:
            results = self._results(items)
            if kind == "partial" and fault is not None:
                results = results[fault.drop :]
            if kind == "invalid_label" and results:
                results[0]["category"] = _invalid_label(self.labels)
            if results:
                first_id = results[0].get("id", first_id)
                truth = str(results[0].get("category", truth))
            answered = len(results)
            payload = json.dumps({"results": results}, ensure_ascii=False)
        else:
            text = ""
            for message in reversed(request.messages):
                if isinstance(message, dict) and message.get("role") == "user":
                    text = _content_text(message.get("content"))
                    break
            reply = f"Simulated reply to: {text[:60]}".rstrip()
            payload = json.dumps({"reply": reply}) if request.wants_json else reply

        wrong = _misleading_label(truth, self.labels)
        musing = (
            f"Ticket {first_id} could be {wrong}; a first draft was "
            f'{{"id": "{first_id}", "category": "{wrong}"}} but on reflection that is wrong.'
        )
        if kind == "malformed":
            cut = payload[: max(12, len(payload) // 2)]
            return f"Sure! Here are the results: {cut}", None, 0
        if kind == "empty":
            return "", None, 0
        if kind == "think":
            return f"<think>\n{musing}\n</think>\n{payload}", None, answered
        if kind == "reasoning":
            return payload, musing, answered
        return payload, None, answered


class _Server(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its connections so stop() can close idle keep-alives."""

    daemon_threads = True
    # server_close() must not wait for clients that keep idle keep-alive connections open
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], upstream: FakeUpstream) -> None:
        self.upstream = upstream
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_connections(self) -> None:
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # clients that vanish (timeouts, resets) are normal here; anything else is a simulator bug
        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, Content-Length on every response."""

    protocol_version = "HTTP/1.1"
    server_version = "forge-sim/1"
    sys_version = ""
    # two writes (headers, body) per response would otherwise meet Nagle + delayed ACK (~40 ms)
    disable_nagle_algorithm = True
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silent: tests and benchmarks read stats, not a request log on stderr."""

    # -- plumbing ----------------------------------------------------------------------------

    def _send_json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> bool:
        """Write one JSON response; False when the client had already gone."""
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True
            return False
        return True

    def _read_body(self) -> bytes | None:
        """The request body, or None after an error response has been sent."""
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            size = 0
            while True:
                line = self.rfile.readline(65537)
                length = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if length == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                size += length
                if size > MAX_BODY_BYTES:
                    self._too_large()
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._send_json(
                400, _openai_error("Invalid Content-Length header.", "invalid_request_error")
            )
            self.close_connection = True
            return None
        if length > MAX_BODY_BYTES:
            self._too_large()
            return None
        return self.rfile.read(length) if length else b""

    def _too_large(self) -> None:
        self._send_json(413, _openai_error("Request body too large.", "invalid_request_error"))
        self.close_connection = True

    def _reset(self) -> None:
        """Abort the connection with a TCP RST and no response, as a dying upstream does."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            # the makefile() reader holds a reference; drop it so close() really closes (RST)
            self.rfile.close()
            self.connection.close()

    def _invalid_url(self) -> None:
        path = self.path.split("?", 1)[0]
        wire = self.server.upstream.wire
        status, body = wire.not_found(self.command, path)
        self._send_json(status, body, wire.response_headers(_request_id(), 0))

    def _query(self) -> dict[str, str]:
        _, _, query = self.path.partition("?")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}

    # -- routes ------------------------------------------------------------------------------

    def do_GET(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        up = self.server.upstream
        # only OpenAI's wire has a models listing the simulator serves
        if path != "/v1/models" or up.wire.name != "openai":
            self._invalid_url()
            return
        denied = up._check_key(self.headers, self._query())
        if denied is not None:
            self._send_json(denied[0], denied[1], {"x-request-id": _request_id()})
            return
        self._send_json(200, model_list(up.models), {"x-request-id": _request_id()})

    def do_PUT(self) -> None:
        if self._read_body() is not None:
            self._invalid_url()

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def do_POST(self) -> None:
        path = self.path.split("?", 1)[0].rstrip("/")
        up = self.server.upstream
        path_model = up.wire.chat_route("POST", path)
        if path_model is None:
            if self._read_body() is not None:
                self._invalid_url()
            return
        stats = up.stats
        stats._enter()
        try:
            self._chat(path_model or None)
        except Exception:
            # a bug here (or in a user responder/rule) must be loud, and the client still answered
            traceback.print_exc()
            self._send_json(500, up.wire.server_error(500, _request_id()))
        finally:
            stats._leave()

    def _chat(self, path_model: str | None) -> None:
        up = self.server.upstream
        wire = up.wire
        arrived = time.time()
        started = time.monotonic()
        request_id = _request_id()
        had_auth = wire.presented_key(self.headers, self._query()) is not None
        items: list[dict[str, Any]] | None = None
        model: str | None = path_model

        def finish(
            status: int,
            payload: Any,
            headers: dict[str, str] | None = None,
            *,
            fault: str | None = None,
            answered: int = 0,
            usage: tuple[int, int] = (0, 0),
        ) -> None:
            elapsed_ms = int((time.monotonic() - started) * 1000)
            all_headers = {**wire.response_headers(request_id, elapsed_ms), **(headers or {})}
            # recorded before the write so a client that reads stats right after its response
            # sees this request; a failed write then downgrades the record
            record = RequestRecord(
                timestamp=arrived,
                ids=tuple(str(item["id"]) for item in items or ()),
                texts=tuple(str(item["text"]) for item in items or ()),
                status=status,
                had_authorization=had_auth,
                model=model,
                fault=fault,
                duration=time.monotonic() - started,
                delivered=status != 0,
            )
            up.stats._add(record, answered, *usage)
            if status == 0:
                self._reset()
            elif not self._send_json(status, payload, all_headers):
                up.stats._undelivered(record, answered)

        raw = self._read_body()
        if raw is None:
            return
        try:
            body = json.loads(raw)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            finish(*wire.bad_json())
            return
        request = wire.parse(body, path_model, self.headers)
        model = request.model
        items = extract_pack(request.messages)

        denied = up._check_key(self.headers, self._query())
        if denied is not None:
            finish(*denied)
            return
        if request.error is not None:
            finish(*request.error)
            return
        assert model is not None

        chars = sum(len(_content_text(m.get("content"))) for m in request.messages)
        prompt_tokens = max(1, chars // 4)
        requested = prompt_tokens + request.max_tokens

        limited, rl_headers = up._admit(requested)
        if limited is not None:
            status, payload, extra = wire.rate_limited(model, limited)
            finish(
                status,
                payload,
                {**rl_headers, **extra},
                fault="rpm" if limited.dimension == "requests" else "tpm",
            )
            return

        fault = up._next_fault(items if items is not None else [])
        if fault is not None and fault.kind in _ERROR_FAULTS:
            self._error_fault(fault, model, request_id, rl_headers, finish)
            return
        if fault is None and up._roll_failure():
            status = up.failure_status
            finish(status, wire.server_error(status, request_id), rl_headers, fault="failure_rate")
            return

        content, reasoning, answered = up._answer(items, fault, request)
        completion_tokens = len(content) // 4
        reasoning_tokens = len(reasoning) // 4 if reasoning else 0
        delay = up._delay_for(completion_tokens + reasoning_tokens)
        if fault is not None and fault.kind == "timeout":
            delay += fault.delay
        # latency counts from arrival, as a client sees it: the simulator's own work is part of it
        remaining = delay - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)

        body = wire.success(
            model=model,
            content=content,
            reasoning=reasoning,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            reasoning_tokens=reasoning_tokens,
        )
        finish(
            200,
            body,
            rl_headers,
            fault=fault.kind if fault is not None else None,
            answered=answered,
            usage=(prompt_tokens, completion_tokens + reasoning_tokens),
        )

    def _error_fault(
        self,
        fault: Fault,
        model: str,
        request_id: str,
        rl_headers: dict[str, str],
        finish: Callable[..., None],
    ) -> None:
        up = self.server.upstream
        wire = up.wire
        headers = dict(rl_headers)
        if fault.kind == "429":
            wait = _retry_after_seconds(fault.retry_after)
            limit = up.rpm_limit or _NOMINAL_RPM
            limited = Limited("requests", limit, limit, 1, 1.0 if wait is None else wait)
            status, body, extra = wire.rate_limited(model, limited)
            extra.pop("retry-after", None)
            headers.update(extra)
            if fault.retry_after is not None:
                headers["retry-after"] = _retry_after_header(fault.retry_after)
            finish(status, body, headers, fault="429")
        elif fault.kind == "401":
            presented = wire.presented_key(self.headers, self._query())
            status, body = wire.auth_failure(presented)
            finish(status, body, fault="401")
        elif fault.kind == "reset":
            finish(0, None, fault="reset")
        elif fault.kind == "overloaded":
            status, body = wire.overloaded(request_id)
            if fault.retry_after is not None:
                headers["retry-after"] = _retry_after_header(fault.retry_after)
            finish(status, body, headers, fault="overloaded")
        else:
            status = int(fault.kind)
            if fault.retry_after is not None and fault.kind == "503":
                headers["retry-after"] = _retry_after_header(fault.retry_after)
            finish(status, wire.server_error(status, request_id), headers, fault=fault.kind)


# ---------------------------------------------------------------------------------------------
# standalone entry point
# ---------------------------------------------------------------------------------------------


def _parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m forge_cli.testing.sim.upstream",
        description="Serve a simulated provider API (OpenAI-compatible by default) on 127.0.0.1.",
    )
    parser.add_argument("--host", default=LOOPBACK, help="only 127.0.0.1 is accepted")
    parser.add_argument("--port", type=int, default=8011)
    parser.add_argument("--latency", type=float, default=0.0, help="seconds per call")
    parser.add_argument("--per-token-latency", type=float, default=0.0, help="seconds per token")
    parser.add_argument("--jitter", type=float, default=0.0, help="± fraction of the latency")
    parser.add_argument("--rpm", type=int, default=None, help="requests per minute limit")
    parser.add_argument("--tpm", type=int, default=None, help="tokens per minute limit")
    parser.add_argument("--failure-rate", type=float, default=0.0)
    parser.add_argument("--failure-status", type=int, default=503)
    parser.add_argument(
        "--api-key-env",
        default=None,
        metavar="VAR",
        help="require the key held in this environment variable (keeps it out of ps output)",
    )
    parser.add_argument("--labels", default=",".join(DEFAULT_LABELS), help="comma-separated")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--wire",
        choices=("openai", "gemini", "anthropic", "cohere"),
        default="openai",
        help="which provider's API to speak (paths, bodies, errors, headers)",
    )
    parser.add_argument(
        "--rate-window",
        type=float,
        default=RATE_WINDOW,
        help="seconds of the sliding RPM/TPM window (limits stay per minute, scaled to it)",
    )
    return parser.parse_args(argv)


def _wire(name: str) -> Wire | None:
    if name == "gemini":
        from forge_cli.testing.sim.gemini_wire import GeminiWire

        return GeminiWire()
    if name == "anthropic":
        from forge_cli.testing.sim.anthropic_wire import AnthropicWire

        return AnthropicWire()
    if name == "cohere":
        from forge_cli.testing.sim.cohere_wire import CohereWire

        return CohereWire()
    return None


def _raise_interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None) -> int:
    """Run until Ctrl-C; exits 2 on a bad command line, like forge itself."""
    args = _parse_args(argv)
    api_key: str | None = None
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env)
        if not api_key:
            print(f"error: environment variable {args.api_key_env} is empty", file=sys.stderr)
            return 2
    labels = [label.strip() for label in args.labels.split(",") if label.strip()]
    try:
        upstream = FakeUpstream(
            latency=args.latency,
            per_token_latency=args.per_token_latency,
            jitter=args.jitter,
            rpm_limit=args.rpm,
            tpm_limit=args.tpm,
            failure_rate=args.failure_rate,
            failure_status=args.failure_status,
            api_key=api_key,
            labels=labels,
            seed=args.seed,
            port=args.port,
            host=args.host,
            wire=_wire(args.wire),
            rate_window=args.rate_window,
        )
        upstream.start()
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # a shell starts background jobs with SIGINT ignored, and supervisors stop with SIGTERM;
    # both should end the run cleanly and print the stats
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    print(upstream.base_url, flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        upstream.stop()
        print(json.dumps(upstream.stats.snapshot()), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
