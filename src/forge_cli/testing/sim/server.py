"""``FakeUpstream``: the simulated provider as a server a test or benchmark starts and stops.

forge's integration tests, its benchmarks and ``forge bench`` need an upstream that behaves like
the real thing on the wire (status codes, error bodies, rate-limit headers, keep-alive, true
concurrency) but is deterministic, free and scriptable; this runs one in a background thread.
What it answers is ``sim/behaviour.py``; how it speaks HTTP is ``sim/handler.py``; which
provider's dialect it speaks is a ``Wire`` (``sim/wire.py``, registered in ``sim/registry.py``).

Only loopback is ever bound: forge's standards forbid targeting anything else, and a fake upstream
reachable from the network would be an open relay for whatever a test feeds it.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from types import TracebackType
from typing import Any

from forge_cli.testing.sim.answers import DEFAULT_LABELS, DEFAULT_PRIORITIES, Responder
from forge_cli.testing.sim.behaviour import DEFAULT_MODELS, Behaviour
from forge_cli.testing.sim.faults import Fault, FaultRule
from forge_cli.testing.sim.handler import SimServer
from forge_cli.testing.sim.rate_window import RATE_WINDOW
from forge_cli.testing.sim.stats import UpstreamStats
from forge_cli.testing.sim.wire import Wire

__all__ = ["LOOPBACK", "FakeUpstream"]

LOOPBACK = "127.0.0.1"


class FakeUpstream:
    """A real HTTP server on 127.0.0.1 speaking ``wire`` (OpenAI's by default, or a registered
    wire's name), scriptable for tests and benchmarks.

    Behaviour knobs mirror what makes real providers hard: latency that grows with the answer,
    jitter, a sliding-window RPM (and optional TPM) limit, random failures, an API key, a server
    without structured output (``json_schema=False``) or without a JSON mode (``json_mode=False``),
    and one-shot or rule-based faults. Everything random is drawn from RNGs seeded by ``seed``.
    Every request's output mode and answer schema are recorded (``stats.records``), and the
    simulator's own answers obey the schema sent (``sim/structured.py``).

    Order of decisions for a chat request: 401 (api_key) -> 400 (no model/messages, then an output
    the server does not support) -> 429 from the real RPM/TPM window -> scripted fault ->
    ``fault_when`` rules -> ``failure_rate`` -> answer. Only admitted requests enter the window; TPM counts prompt tokens plus ``max_tokens`` as OpenAI
    estimates it. x-ratelimit-* headers are sent only for the limits that are configured, so a
    client never paces itself on made-up numbers. Error responses are immediate; latency applies to
    200 answers (``latency + per_token_latency * completion tokens``, times ``1 ± jitter``). The
    delivery faults (``sim/delivery.py``: hang, trickle, short_body, huge, garbage) change how that
    200 is sent, and "bad_usage" garbles its token counts.
    ``rate_window`` shortens the sliding window (limits stay per minute, scaled to it).
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
        wire: Wire | str | None = None,
        rate_window: float = RATE_WINDOW,
        json_schema: bool = True,
        json_mode: bool = True,
    ) -> None:
        if host not in (LOOPBACK, "localhost"):
            raise ValueError(f"FakeUpstream binds only to {LOOPBACK}, not {host!r}")
        if not 0 <= port <= 65535:
            raise ValueError("port must be in 0..65535")
        #: what the server answers; its knobs (latency, failure_rate, ...) live there
        self.behaviour = Behaviour(
            latency=latency,
            per_token_latency=per_token_latency,
            jitter=jitter,
            rpm_limit=rpm_limit,
            tpm_limit=tpm_limit,
            failure_rate=failure_rate,
            failure_status=failure_status,
            api_key=api_key,
            labels=labels,
            priorities=priorities,
            responder=responder,
            seed=seed,
            models=models,
            max_records=max_records,
            wire=wire,
            rate_window=rate_window,
            json_schema=json_schema,
            json_mode=json_mode,
        )
        self._port = port
        self._server: SimServer | None = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        # the key is never shown, only whether one is required
        state = "running" if self._server else "stopped"
        return f"<FakeUpstream {state} port={self._port} auth={self.behaviour.requires_key}>"

    @property
    def wire(self) -> Wire:
        """The provider dialect spoken on the wire."""
        return self.behaviour.wire

    @property
    def stats(self) -> UpstreamStats:
        return self.behaviour.stats

    @property
    def batches(self) -> Any:
        """The wire's batch API (OpenAI's ``BatchService``, Anthropic's ``AnthropicBatchService``,
        Gemini's ``GeminiBatchService``): its clock (``batches.clock``), jobs and counters
        (``creates``)."""
        if self.behaviour.batches is None:
            raise RuntimeError(f"the {self.wire.name} wire has no batch API in the simulator")
        return self.behaviour.batches

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
        server = SimServer((LOOPBACK, self._port), self.behaviour)
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
        self.behaviour.faults.script(*faults)

    def fault_when(self, predicate: FaultRule) -> None:
        """Add a per-request rule on the pack items (e.g. a poison ticket that always fails).

        Rules run in the order added after any scripted fault; the first non-None Fault wins. A
        non-pack request passes an empty list.
        """
        self.behaviour.faults.fault_when(predicate)

    def clear_faults(self) -> None:
        """Forget queued faults and rules."""
        self.behaviour.faults.clear()

    @property
    def pending_faults(self) -> int:
        return self.behaviour.faults.pending

    def reset_stats(self) -> None:
        self.behaviour.stats.reset()
