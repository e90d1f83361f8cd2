"""The simulator's wire registry, and the server's own refusals spoken in each wire's dialect.

A client that parses one provider's error envelope must not meet another provider's when the
request itself is unreadable, so the 400/413 the handler sends before any route are pinned here
per wire, over a raw socket (no HTTP client would send a broken Content-Length).
"""

from __future__ import annotations

import json
import socket
from typing import Any

import pytest

from forge_cli.testing.sim.handler import MAX_BODY_BYTES
from forge_cli.testing.sim.openai_wire import OpenAIWire
from forge_cli.testing.sim.registry import DEFAULT_WIRE, make_wire, register, wire_names
from forge_cli.testing.sim.server import FakeUpstream
from forge_cli.testing.sim.upstream import _parse_args

CHAT_PATHS = {
    "openai": "/v1/chat/completions",
    "gemini": "/v1beta/models/gemini-2.5-flash:generateContent",
    "anthropic": "/v1/messages",
    "cohere": "/v2/chat",
}


def raw_post(upstream: FakeUpstream, path: str, content_length: str) -> tuple[int, Any]:
    """POST with this Content-Length and no body; the status and JSON body of the answer."""
    with socket.create_connection(("127.0.0.1", upstream.port), timeout=5) as sock:
        sock.sendall(
            f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
            f"Content-Length: {content_length}\r\n\r\n".encode()
        )
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    return status, json.loads(body)


# -- the registry ------------------------------------------------------------------------------


def test_every_wire_is_registered_by_its_own_name() -> None:
    assert wire_names() == ("openai", "gemini", "anthropic", "cohere")
    assert wire_names()[0] == DEFAULT_WIRE
    for name in wire_names():
        assert make_wire(name).name == name


def test_an_unknown_wire_is_refused_with_the_known_names() -> None:
    with pytest.raises(ValueError, match="openai, gemini, anthropic, cohere"):
        make_wire("grpc")
    with pytest.raises(ValueError, match="already registered"):
        register("openai", OpenAIWire.seeded)


def test_the_openai_fingerprint_follows_the_seed() -> None:
    first, again, other = (make_wire("openai", seed) for seed in (1, 1, 2))
    assert isinstance(first, OpenAIWire) and isinstance(again, OpenAIWire)
    assert isinstance(other, OpenAIWire)
    assert first.fingerprint == again.fingerprint != other.fingerprint
    default = FakeUpstream(seed=1).wire
    assert isinstance(default, OpenAIWire) and default.fingerprint == first.fingerprint


@pytest.mark.parametrize("name", ["gemini", "anthropic", "cohere"])
def test_fake_upstream_takes_a_wire_by_name(name: str) -> None:
    with FakeUpstream(wire=name) as upstream:
        assert upstream.wire.name == name
        assert upstream.base_url.endswith(upstream.wire.base_path)


def test_the_command_line_offers_the_registered_wires() -> None:
    assert _parse_args(["--wire", "cohere"]).wire == "cohere"
    assert _parse_args([]).wire == DEFAULT_WIRE
    with pytest.raises(SystemExit):
        _parse_args(["--wire", "grpc"])


# -- the server's own refusals ----------------------------------------------------------------


def test_openai_refusals_keep_openai_envelope() -> None:
    with FakeUpstream() as upstream:
        for length, status, message in [
            ("abc", 400, "Invalid Content-Length header."),
            (str(MAX_BODY_BYTES + 1), 413, "Request body too large."),
        ]:
            got, body = raw_post(upstream, CHAT_PATHS["openai"], length)
            assert got == status
            assert body == {
                "error": {
                    "message": message,
                    "type": "invalid_request_error",
                    "param": None,
                    "code": None,
                }
            }


def test_anthropic_refusals_use_anthropic_envelope() -> None:
    with FakeUpstream(wire="anthropic") as upstream:
        status, body = raw_post(upstream, CHAT_PATHS["anthropic"], str(MAX_BODY_BYTES + 1))
        assert status == 413
        assert body["type"] == "error" and body["request_id"].startswith("req_")
        assert body["error"] == {
            "type": "request_too_large",
            "message": "Request exceeds the maximum allowed number of bytes.",
        }
        status, body = raw_post(upstream, CHAT_PATHS["anthropic"], "-5")
        assert status == 400
        assert body["error"]["type"] == "invalid_request_error"


def test_cohere_refusals_are_flat() -> None:
    with FakeUpstream(wire="cohere") as upstream:
        for length, status in [("abc", 400), (str(MAX_BODY_BYTES + 1), 413)]:
            got, body = raw_post(upstream, CHAT_PATHS["cohere"], length)
            assert got == status
            assert set(body) == {"id", "message"}


def test_gemini_bad_length_is_google_shaped_and_too_large_keeps_the_old_body() -> None:
    with FakeUpstream(wire="gemini") as upstream:
        status, body = raw_post(upstream, CHAT_PATHS["gemini"], "abc")
        assert status == 400
        assert body["error"]["code"] == 400 and body["error"]["status"] == "INVALID_ARGUMENT"
        # what Google says to an oversized body is not known, so the long-standing answer stays
        status, body = raw_post(upstream, CHAT_PATHS["gemini"], str(MAX_BODY_BYTES + 1))
        assert status == 413
        assert body["error"]["type"] == "invalid_request_error"
