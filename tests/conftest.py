"""Shared fixtures: a loopback fake upstream, ticket files, and an in-process ``forge`` runner."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import pytest
from typer.testing import CliRunner

from forge_cli.cli.main import app
from forge_cli.testing.sim.server import FakeUpstream

if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
    # a suite started in the background (``cmd &`` in a script, nohup) inherits an ignored
    # SIGINT, and every forge it starts would too: the Ctrl-C tests need the default
    signal.signal(signal.SIGINT, signal.default_int_handler)

API_KEY = "sk-forgetest-9f8e7d6c5b4a3210ZYXWVU"
KEY_ENV = "FORGE_TEST_API_KEY"


@dataclass
class ForgeRun:
    exit_code: int
    stdout: str
    stderr: str

    @property
    def summary(self) -> dict[str, Any]:
        return orjson.loads(self.stdout.strip().splitlines()[-1])


@pytest.fixture(autouse=True)
def _isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Keep every test's cache, config and working directory to itself."""
    # every FORGE_* setting of the machine running the tests is a setting of forge: drop them all
    for name in [n for n in os.environ if n.startswith("FORGE_")]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FORGE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "user-config"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "user-cache"))
    monkeypatch.setenv(KEY_ENV, API_KEY)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def upstream() -> Iterator[FakeUpstream]:
    with FakeUpstream(api_key=API_KEY) as server:
        yield server


def forge(*args: str) -> ForgeRun:
    result = CliRunner().invoke(app, list(args), catch_exceptions=False)
    return ForgeRun(result.exit_code, result.stdout, result.stderr)


def remote_args(server: FakeUpstream, *extra: str) -> list[str]:
    return [
        "--provider",
        "openai",
        "--base-url",
        server.base_url,
        "--api-key-env",
        KEY_ENV,
        "--model",
        "gpt-4o-mini",
        "--no-progress",
        "--json-summary",
        "--backoff",
        "0.01",
        *extra,
    ]


def write_tickets(path: Path, texts: list[str], **fields: Any) -> Path:
    with path.open("wb") as f:
        for n, text in enumerate(texts, 1):
            f.write(orjson.dumps({"id": f"T{n}", "text": text, **fields}) + b"\n")
    return path


def distinct_texts(n: int, prefix: str = "ticket") -> list[str]:
    topics = [
        "I was charged twice for my subscription this month",
        "The GPU fan is making a grinding noise and the server overheats",
        "The SDK throws a NullPointerException when uploading files",
        "The model keeps inventing citations that do not exist",
        "Can I change the e-mail address on my account?",
    ]
    return [f"{topics[i % len(topics)]} ({prefix} {i})" for i in range(n)]


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


class FakeTime:
    """A clock whose sleep moves it forward by the delay asked for (and yields once)."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += max(seconds, 0.0)
        await asyncio.sleep(0)
