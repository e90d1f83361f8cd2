"""How the simulated provider treats a chat request, apart from HTTP: the knobs and their state.

Latency that grows with the answer, jitter, the RPM/TPM window, random failures, an API key,
servers without structured output and scripted faults are what make real providers hard; ``Behaviour`` holds them (everything random
drawn from RNGs seeded by ``seed``) and answers the request handler's questions, which the handler
asks in the order ``FakeUpstream`` documents. It knows nothing of sockets, so it can be read and
changed without the server in mind.
"""

from __future__ import annotations

import hmac
import random
import threading
from collections.abc import Sequence
from typing import Any

from forge_cli.testing.sim.answers import (
    DEFAULT_LABELS,
    DEFAULT_PRIORITIES,
    Responder,
    compose,
)
from forge_cli.testing.sim.anthropic_batch import AnthropicBatchService
from forge_cli.testing.sim.faults import (
    Fault,
    FaultScript,
    retry_after_header,
    retry_after_seconds,
)
from forge_cli.testing.sim.gemini_batch import GeminiBatchService
from forge_cli.testing.sim.openai_batch import BatchService
from forge_cli.testing.sim.rate_window import RATE_WINDOW, RateWindow
from forge_cli.testing.sim.registry import DEFAULT_WIRE, make_wire
from forge_cli.testing.sim.stats import UpstreamStats
from forge_cli.testing.sim.wire import Limited, Wire, WireRequest

__all__ = ["DEFAULT_MODELS", "Behaviour"]

DEFAULT_MODELS: tuple[str, ...] = ("gpt-4o-mini", "gpt-4o", "gpt-4.1-mini")
#: RPM quoted in a scripted 429's message when no rpm_limit is configured
_NOMINAL_RPM = 500


class Behaviour:
    """The simulated provider's behaviour knobs and state, safe to use from many handler threads.

    ``wire`` is a ``Wire``, a registered wire's name (``sim/registry.py``) or None for OpenAI's.
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
        models: Sequence[str] = DEFAULT_MODELS,
        max_records: int | None = 100_000,
        wire: Wire | str | None = None,
        rate_window: float = RATE_WINDOW,
        json_schema: bool = True,
        json_mode: bool = True,
    ) -> None:
        if latency < 0 or per_token_latency < 0:
            raise ValueError("latency and per_token_latency must be >= 0")
        if not 0.0 <= jitter <= 1.0:
            raise ValueError("jitter is a fraction in [0, 1]")
        if not 0.0 <= failure_rate <= 1.0:
            raise ValueError("failure_rate is a fraction in [0, 1]")
        if not 400 <= failure_status <= 599:
            raise ValueError("failure_status must be an HTTP error status (400-599)")
        if not labels or not priorities:
            raise ValueError("labels and priorities must not be empty")
        if max_records is not None and max_records < 0:
            raise ValueError("max_records must be >= 0 or None")

        self.latency = latency
        self.per_token_latency = per_token_latency
        self.jitter = jitter
        self.window = RateWindow(rpm_limit, tpm_limit, rate_window)
        self.failure_rate = failure_rate
        self.failure_status = failure_status
        self.labels: tuple[str, ...] = tuple(labels)
        self.priorities: tuple[str, ...] = tuple(priorities)
        self.responder = responder
        self.models: tuple[str, ...] = tuple(models)
        self.seed = seed
        #: the server takes the answer's schema as structured output / has a JSON mode; False
        #: refuses a request asking for it with the wire's own 400, as a server without it does
        self.json_schema = json_schema
        self.json_mode = json_mode
        #: schema keywords the server's grammar compiler lacks: a schema using one is refused as
        #: the wire refuses structured output (a set a test assigns, e.g. ``{"prefixItems"}``)
        self.unsupported_keywords: frozenset[str] = frozenset()
        if wire is None or isinstance(wire, str):
            wire = make_wire(wire or DEFAULT_WIRE, seed)
        #: the provider dialect spoken on the wire
        self.wire: Wire = wire
        self.stats = UpstreamStats(max_records)
        self.faults = FaultScript()
        #: the wire's batch API: OpenAI's files and batches (``sim/openai_batch.py``), Anthropic's
        #: message batches (``sim/anthropic_batch.py``), Gemini's Batch Mode
        #: (``sim/gemini_batch.py``); None on the other wires
        self.batches: BatchService | AnthropicBatchService | GeminiBatchService | None = None
        if wire.name == "openai":
            self.batches = BatchService(self)
        elif wire.name == "anthropic":
            self.batches = AnthropicBatchService(self)
        elif wire.name == "gemini":
            self.batches = GeminiBatchService(self)
        self._api_key = api_key
        self._lock = threading.Lock()
        self._fail_rng = random.Random(f"{seed}:failure")
        self._jitter_rng = random.Random(f"{seed}:jitter")

    @property
    def requires_key(self) -> bool:
        return self._api_key is not None

    def check_key(self, presented: str | None) -> tuple[int, Any] | None:
        """None when the request may proceed, else the wire's (status, body) for a bad key."""
        if self._api_key is None:
            return None
        if not presented:
            return self.wire.auth_failure(None)
        if hmac.compare_digest(presented.encode(), self._api_key.encode()):
            return None
        return self.wire.auth_failure(presented)

    def refuse_output(self, request: WireRequest) -> tuple[int, Any] | None:
        """The wire's 400 when the request asks for an output this server does not support."""
        supported = {"schema": self.json_schema, "json": self.json_mode}.get(request.output, True)
        if supported and not (
            request.schema is not None and self.unsupported_keywords & _keywords(request.schema)
        ):
            return None
        return self.wire.output_refused(request.output, request.model or "")

    def admit(self, tokens: int) -> tuple[Limited | None, dict[str, str]]:
        """Apply the RPM/TPM window; (refusal or None, the wire's rate-limit headers)."""
        limited, state = self.window.admit(tokens)
        return limited, self.wire.ratelimit_headers(state)

    def next_fault(self, items: list[dict[str, Any]]) -> Fault | None:
        return self.faults.next(items)

    def roll_failure(self) -> bool:
        """Whether this request fails at random (``failure_rate``), from the seeded RNG."""
        if self.failure_rate <= 0:
            return False
        with self._lock:
            return self._fail_rng.random() < self.failure_rate

    def delay_for(self, completion_tokens: int) -> float:
        """Seconds a 200 takes: ``latency + per_token_latency * tokens``, times ``1 ± jitter``."""
        delay = self.latency + self.per_token_latency * completion_tokens
        if self.jitter and delay > 0:
            with self._lock:
                factor = 1.0 + self._jitter_rng.uniform(-self.jitter, self.jitter)
            delay *= factor
        return max(0.0, delay)

    def answer(
        self, items: list[dict[str, Any]] | None, fault: Fault | None, request: WireRequest
    ) -> tuple[str, str | None, int]:
        """(content, reasoning_content, items answered) for a 200, content faults applied."""
        return compose(
            items,
            fault,
            request,
            labels=self.labels,
            priorities=self.priorities,
            responder=self.responder,
        )

    def error_fault(
        self,
        fault: Fault,
        *,
        model: str,
        request_id: str,
        presented: str | None,
        headers: dict[str, str],
    ) -> tuple[int, Any, dict[str, str]]:
        """Status (0: reset the connection), body and headers for one of ``ERROR_FAULTS``.

        ``headers`` are the rate-limit headers the request earned; a scripted Retry-After replaces
        whatever the wire would have sent, so a test controls exactly what the client sees.
        """
        wire = self.wire
        headers = dict(headers)
        if fault.kind == "429":
            wait = retry_after_seconds(fault.retry_after)
            limit = self.window.rpm_limit or _NOMINAL_RPM
            limited = Limited("requests", limit, limit, 1, 1.0 if wait is None else wait)
            status, body, extra = wire.rate_limited(model, limited)
            extra.pop("retry-after", None)
            headers.update(extra)
            if fault.retry_after is not None:
                headers["retry-after"] = retry_after_header(fault.retry_after)
            return status, body, headers
        if fault.kind == "401":
            status, body = wire.auth_failure(presented)
            return status, body, {}
        if fault.kind == "reset":
            return 0, None, {}
        if fault.kind == "overloaded":
            status, body = wire.overloaded(request_id)
        else:
            status = int(fault.kind)
            body = wire.server_error(status, request_id)
        if fault.retry_after is not None and fault.kind in ("503", "overloaded"):
            headers["retry-after"] = retry_after_header(fault.retry_after)
        return status, body, headers


def _keywords(schema: Any) -> frozenset[str]:
    """Every key used anywhere in a schema (keywords and property names alike: enough to tell
    whether a keyword appears)."""
    found: set[str] = set()
    stack = [schema]
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return frozenset(found)
