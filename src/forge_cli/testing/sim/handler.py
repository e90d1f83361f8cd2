"""The simulated upstream's HTTP side: a threading server and the handler of each request.

A real HTTP/1.1 server rather than a mocked client, because the bugs that matter live on the wire:
keep-alive and connection reuse, Content-Length, a connection reset without an answer, a client
that gives up before the answer is written. The handler reads and writes bytes and asks the
``Behaviour`` (``sim/behaviour.py``) what to answer; the wire decides every body's shape.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import struct
import sys
import threading
import time
import traceback
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from forge_cli.testing.sim.answers import extract_pack, prompt_tokens, text_tokens
from forge_cli.testing.sim.behaviour import Behaviour
from forge_cli.testing.sim.delivery import DELIVERY_FAULTS, deliver, hold, spoil_usage
from forge_cli.testing.sim.faults import ERROR_FAULTS, Fault
from forge_cli.testing.sim.openai_wire import model_list
from forge_cli.testing.sim.stats import RequestRecord
from forge_cli.testing.sim.structured import schema_text
from forge_cli.testing.sim.wire import WireRequest

__all__ = ["MAX_BODY_BYTES", "SimHandler", "SimServer"]

#: a request body larger than this is refused with 413 rather than buffered
MAX_BODY_BYTES = 32 * 1024 * 1024


def _request_id() -> str:
    return "req_" + secrets.token_hex(16)


class SimServer(ThreadingHTTPServer):
    """ThreadingHTTPServer that remembers its connections so a stop can close idle keep-alives."""

    daemon_threads = True
    # server_close() must not wait for clients that keep idle keep-alive connections open
    block_on_close = False
    request_queue_size = 1024
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, SimHandler)

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


class SimHandler(BaseHTTPRequestHandler):
    """One connection; HTTP/1.1 keep-alive, Content-Length on every response."""

    protocol_version = "HTTP/1.1"
    server_version = "forge-sim/1"
    sys_version = ""
    # two writes (headers, body) per response would otherwise meet Nagle + delayed ACK (~40 ms)
    disable_nagle_algorithm = True
    server: SimServer

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

    def _read_body(self, limit: int = MAX_BODY_BYTES) -> bytes | None:
        """The request body, or None after an error response has been sent (a body over
        ``limit`` bytes is refused before it is buffered)."""
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
                if size > limit:
                    self._refuse(*self.server.behaviour.wire.too_large())
                    return None
                chunks.append(self.rfile.read(length))
                self.rfile.readline(65537)
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self._refuse(*self.server.behaviour.wire.bad_content_length())
            return None
        if length > limit:
            self._refuse(*self.server.behaviour.wire.too_large())
            return None
        return self.rfile.read(length) if length else b""

    def _refuse(self, status: int, body: Any) -> None:
        """Answer a request whose body cannot be read, and close: the stream is out of step."""
        self._send_json(status, body)
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
        wire = self.server.behaviour.wire
        status, body = wire.not_found(self.command, path)
        self._send_json(status, body, wire.response_headers(_request_id(), 0))

    def _query(self) -> dict[str, str]:
        _, _, query = self.path.partition("?")
        return {k: v[-1] for k, v in urllib.parse.parse_qs(query).items()}

    # -- routes ------------------------------------------------------------------------------

    def _batch_route(self) -> bool:
        """Serve a files/batches request (``sim/openai_batch.py``); False for any other path."""
        service = self.server.behaviour.batches
        if service is None or not service.handles(self.path):
            return False
        service.serve(self)
        return True

    def do_GET(self) -> None:
        if self._batch_route():
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        behaviour = self.server.behaviour
        # only OpenAI's wire has a models listing the simulator serves
        if path != "/v1/models" or behaviour.wire.name != "openai":
            self._invalid_url()
            return
        denied = behaviour.check_key(behaviour.wire.presented_key(self.headers, self._query()))
        if denied is not None:
            self._send_json(denied[0], denied[1], {"x-request-id": _request_id()})
            return
        self._send_json(200, model_list(behaviour.models), {"x-request-id": _request_id()})

    def do_PUT(self) -> None:
        if self._read_body() is not None:
            self._invalid_url()

    do_DELETE = do_PUT
    do_PATCH = do_PUT

    def do_POST(self) -> None:
        if self._batch_route():
            return
        path = self.path.split("?", 1)[0].rstrip("/")
        behaviour = self.server.behaviour
        path_model = behaviour.wire.chat_route("POST", path)
        if path_model is None:
            if self._read_body() is not None:
                self._invalid_url()
            return
        stats = behaviour.stats
        stats.enter()
        try:
            self._chat(path_model or None)
        except Exception:
            # a bug here (or in a user responder/rule) must be loud, and the client still answered
            traceback.print_exc()
            self._send_json(500, behaviour.wire.server_error(500, _request_id()))
        finally:
            stats.leave()

    def _chat(self, path_model: str | None) -> None:
        """One chat request, decided in ``FakeUpstream``'s documented order."""
        behaviour = self.server.behaviour
        wire = behaviour.wire
        arrived = time.time()
        started = time.monotonic()
        request_id = _request_id()
        presented = wire.presented_key(self.headers, self._query())
        items: list[dict[str, Any]] | None = None
        model: str | None = path_model
        request: WireRequest | None = None

        def finish(
            status: int,
            payload: Any,
            headers: dict[str, str] | None = None,
            *,
            fault: str | None = None,
            answered: int = 0,
            usage: tuple[int, int] = (0, 0),
            delivery: Fault | None = None,
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
                had_authorization=presented is not None,
                model=model,
                fault=fault,
                duration=time.monotonic() - started,
                delivered=status != 0,
                output=request.output if request is not None else "text",
                schema=behaviour.stats.shared_schema(
                    schema_text(request.schema)
                    if request is not None and request.schema is not None
                    else None
                ),
            )
            behaviour.stats.add(record, answered, *usage)
            if status == 0:
                self._reset()
            elif delivery is not None:
                # a broken delivery: nothing usable reached the client, and the stream is spent
                behaviour.stats.undelivered(record, answered)
                self.close_connection = True
                deliver(self.wfile, self.connection, delivery, payload, all_headers)
            elif not self._send_json(status, payload, all_headers):
                behaviour.stats.undelivered(record, answered)

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

        denied = behaviour.check_key(presented)
        if denied is not None:
            finish(*denied)
            return
        if request.error is not None:
            finish(*request.error)
            return
        refused = behaviour.refuse_output(request)
        if refused is not None:
            finish(*refused)
            return
        assert model is not None

        prompt = prompt_tokens(request.messages)
        limited, rl_headers = behaviour.admit(prompt + request.max_tokens)
        if limited is not None:
            status, payload, extra = wire.rate_limited(model, limited)
            dimension = "rpm" if limited.dimension == "requests" else "tpm"
            finish(status, payload, {**rl_headers, **extra}, fault=dimension)
            return

        fault = behaviour.next_fault(items if items is not None else [])
        if fault is not None and fault.kind in ERROR_FAULTS:
            status, payload, headers = behaviour.error_fault(
                fault, model=model, request_id=request_id, presented=presented, headers=rl_headers
            )
            finish(status, payload, headers, fault=fault.kind)
            return
        if fault is None and behaviour.roll_failure():
            status = behaviour.failure_status
            finish(status, wire.server_error(status, request_id), rl_headers, fault="failure_rate")
            return

        content, reasoning, answered = behaviour.answer(items, fault, request)
        completion_tokens = text_tokens(content)
        reasoning_tokens = text_tokens(reasoning)
        delay = behaviour.delay_for(completion_tokens + reasoning_tokens)
        if fault is not None and fault.kind == "timeout":
            delay += fault.delay
        # latency counts from arrival, as a client sees it: the simulator's own work is part of it
        remaining = delay - (time.monotonic() - started)
        if remaining > 0:
            # a client that gives up meanwhile gets no answer: no thread sleeps on for nobody
            hold(self.connection, remaining)

        body = wire.success(
            model=model,
            content=content,
            reasoning=reasoning,
            prompt_tokens=prompt,
            completion_tokens=completion_tokens,
            reasoning_tokens=reasoning_tokens,
            request=request,
        )
        if fault is not None and fault.kind == "bad_usage":
            body = spoil_usage(body)
        finish(
            200,
            body,
            rl_headers,
            fault=fault.kind if fault is not None else None,
            answered=answered,
            usage=(prompt, completion_tokens + reasoning_tokens),
            delivery=fault if fault is not None and fault.kind in DELIVERY_FAULTS else None,
        )
