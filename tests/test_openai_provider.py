"""OpenAI-compatible servers that differ from OpenAI: no JSON mode, a wrong model name.

A small server on 127.0.0.1 answers the way vLLM and llama.cpp builds do when they lack
``response_format``: 400 with an OpenAI-shaped error naming the parameter.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from conftest import KEY_ENV, distinct_texts, forge, read_jsonl, remote_args, write_tickets


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, *, known_model: str = "gpt-4o-mini") -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.known_model = known_model
        self.seen: list[dict] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/v1"


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *args: object) -> None:
        return None

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.server.seen.append(body)
        if body.get("model") != self.server.known_model:
            return self.reply(
                404,
                {
                    "error": {
                        "message": f"The model `{body.get('model')}` does not exist.",
                        "type": "NotFoundError",
                        "param": None,
                        "code": 404,
                    }
                },
            )
        if "response_format" in body:
            return self.reply(
                400,
                {
                    "error": {
                        "message": "response_format is not supported by this server",
                        "type": "BadRequestError",
                        "param": "response_format",
                        "code": 400,
                    }
                },
            )
        pack = json.loads(body["messages"][-1]["content"])
        results = [
            {"id": i["id"], "category": "other", "priority": "low", "summary": "x"} for i in pack
        ]
        self.reply(
            200,
            {
                "id": "chatcmpl-1",
                "object": "chat.completion",
                "created": 0,
                "model": body["model"],
                "choices": [
                    {
                        "index": 0,
                        "finish_reason": "stop",
                        "message": {
                            "role": "assistant",
                            "content": json.dumps({"results": results}),
                        },
                    }
                ],
                "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
            },
        )

    def reply(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


@pytest.fixture
def server() -> Iterator[Server]:
    srv = Server()
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def test_server_without_json_mode_is_used_without_it(tmp_path, server):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(30))
    run = forge("classify", str(src), *remote_args(server, "--concurrency", "1"))
    assert run.exit_code == 0, run.stderr
    assert len(read_jsonl(tmp_path / "t.results.jsonl")) == 30
    with_format = [b for b in server.seen if "response_format" in b]
    # each step of the ladder asked once, then remembered for the run
    assert [b["response_format"]["type"] for b in with_format] == ["json_schema", "json_object"]
    assert len(server.seen) > 3


def test_unknown_model_stops_the_run_at_once(tmp_path, server):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(60))
    run = forge(
        "classify",
        str(src),
        "--provider",
        "openai",
        "--base-url",
        server.base_url,
        "--api-key-env",
        KEY_ENV,
        "--model",
        "no-such-model",
        "--no-progress",
        "--concurrency",
        "1",
    )
    assert run.exit_code == 2
    assert "not found" in run.stderr and "no-such-model" in run.stderr
    assert len(server.seen) == 1  # not retried, not split into more calls
