"""Faults of delivery, not of content: how a broken or hostile server sends (or never sends) a 200.

A client's timeouts and size limits are only as good as the worst server they were tried on. These
are the servers that broke forge's: one that never answers, one that sends a byte a second (each
read is quick, so a per-read timeout never fires), one whose body is shorter than its
Content-Length on a connection it keeps open, one that answers 100 MB, one that answers HTML.
They write raw bytes on the handler's socket, so the client meets them exactly as on a real wire.
"""

from __future__ import annotations

import contextlib
import json
import select
import socket
import time
from collections.abc import Mapping
from io import BufferedIOBase
from typing import Any

from forge_cli.testing.sim.faults import Fault

__all__ = ["DELIVERY_FAULTS", "HUGE_BYTES", "deliver", "hold", "spoil_usage"]

#: faults that change how the answer is sent rather than what it says
DELIVERY_FAULTS: frozenset[str] = frozenset({"hang", "trickle", "short_body", "huge", "garbage"})
#: a "huge" answer's size when the fault does not say (the size that once cost 1.5 GB of memory)
HUGE_BYTES = 100 * 2**20
#: how long a server holding a connection waits at most for its client to leave
HOLD_LIMIT = 600.0
#: what a "garbage" answer is: a proxy's error page where JSON was due
GARBAGE = b"<html><body><h1>502 Bad Gateway</h1>upstream sent nonsense</body></html>\n"
_CHUNK = 64 * 1024


def deliver(
    wfile: BufferedIOBase,
    connection: socket.socket,
    fault: Fault,
    body: Any,
    headers: Mapping[str, str],
) -> None:
    """Send the 200 answer ``body`` the way ``fault`` says (a kind of ``DELIVERY_FAULTS``).

    Returns when the fault has played out or the client has gone; the connection is not reused.
    """
    payload = json.dumps(body, ensure_ascii=False).encode("utf-8")
    with contextlib.suppress(OSError):
        if fault.kind == "hang":
            hold(connection, fault.delay or HOLD_LIMIT)
        elif fault.kind == "garbage":
            _head(wfile, len(GARBAGE), headers, content_type="text/html")
            wfile.write(GARBAGE)
            wfile.flush()
        elif fault.kind == "trickle":
            _head(wfile, len(payload), headers)
            for byte in payload:
                wfile.write(bytes((byte,)))
                wfile.flush()
                time.sleep(fault.delay or 1.0)
        elif fault.kind == "short_body":
            _head(wfile, len(payload) + 1024, headers)
            wfile.write(payload)
            wfile.flush()
            hold(connection, fault.delay or HOLD_LIMIT)
        elif fault.kind == "huge":
            _huge(wfile, fault.size or HUGE_BYTES, headers)
        else:
            raise ValueError(f"{fault.kind!r} is not a delivery fault")


def spoil_usage(body: Any) -> Any:
    """The answer with every token count in it turned into a word (``"usage": {"prompt_tokens":
    "abc"}``), as a broken proxy sends: the answer itself is untouched."""
    if isinstance(body, dict):
        return {
            key: "abc" if _is_count(key, value) else spoil_usage(value)
            for key, value in body.items()
        }
    if isinstance(body, list):
        return [spoil_usage(value) for value in body]
    return body


def _is_count(key: str, value: Any) -> bool:
    return "token" in key.lower() and isinstance(value, int) and not isinstance(value, bool)


def _head(
    wfile: BufferedIOBase,
    length: int,
    headers: Mapping[str, str],
    content_type: str = "application/json",
) -> None:
    lines = [
        "HTTP/1.1 200 OK",
        f"Content-Type: {content_type}",
        f"Content-Length: {length}",
        *(f"{name}: {value}" for name, value in headers.items()),
        "",
        "",
    ]
    wfile.write("\r\n".join(lines).encode("latin-1"))
    wfile.flush()


def _huge(wfile: BufferedIOBase, size: int, headers: Mapping[str, str]) -> None:
    """A JSON body of exactly ``size`` bytes, written a chunk at a time (the simulator never holds
    it whole); stops when the client stops reading."""
    prefix, suffix = b'{"padding": "', b'"}'
    filler = max(0, size - len(prefix) - len(suffix))
    _head(wfile, len(prefix) + filler + len(suffix), headers)
    wfile.write(prefix)
    chunk = b"a" * _CHUNK
    while filler > 0:
        wfile.write(chunk[: min(filler, _CHUNK)])
        filler -= _CHUNK
    wfile.write(suffix)
    wfile.flush()


def hold(connection: socket.socket, seconds: float) -> bool:
    """Keep the connection open, sending nothing, until the client closes it or ``seconds`` pass;
    False when the client has gone (nobody is left to answer: a handler thread need not wait on)."""
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        try:
            readable, _, _ = select.select([connection], [], [], min(left, 1.0))
            if readable and not connection.recv(1, socket.MSG_PEEK):
                return False  # the client has closed its end
        except (OSError, ValueError):  # closed under us (the server is stopping)
            return False
        if readable:
            time.sleep(min(left, 0.1))  # it sent more (it should not): hold on, without spinning
    return True
