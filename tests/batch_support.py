"""Helpers of the batch-mode tests: tickets, the forge command line, reading the outputs."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import orjson

from conftest import API_KEY, KEY_ENV

SRC = Path(__file__).resolve().parents[1] / "src"


def tickets(path: Path, count: int, *, prefix: str = "ticket") -> Path:
    """``count`` tickets with distinct texts (every one a request of its own to answer)."""
    with path.open("wb") as handle:
        for n in range(count):
            text = f"{prefix} {n}: the printer on floor {n % 7} shows error E{n}"
            handle.write(orjson.dumps({"id": f"T{n}", "text": text}) + b"\n")
    return path


def batch_args(
    base_url: str, *extra: str, provider: str = "openai", model: str | None = "gpt-4o-mini"
) -> list[str]:
    """A ``--batch`` command line against the simulator at ``base_url`` (``model`` None: the
    preset's own), polling fast."""
    chosen = ["--model", model] if model else []
    return [
        "--provider",
        provider,
        "--base-url",
        base_url,
        "--api-key-env",
        KEY_ENV,
        *chosen,
        "--batch",
        "--batch-poll",
        "0.05",
        "--no-progress",
        "--backoff",
        "0.01",
        *extra,
    ]


def exactly_once(folder: Path, count: int, stem: str = "t") -> list[str]:
    """Every ticket T0..T{count-1} in exactly one of the two outputs in ``folder``; the failed ids."""
    results = ids_of(folder / f"{stem}.results.jsonl")
    failures = ids_of(folder / f"{stem}.failures.jsonl")
    seen = Counter(results + failures)
    assert sorted(seen) == sorted(f"T{n}" for n in range(count))
    assert set(seen.values()) == {1}
    return failures


def wait_for(predicate: Callable[[], bool], what: str, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.02)


def rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.strip()]


def ids_of(path: Path) -> list[str]:
    return [row["id"] for row in rows(path)]


def forge_env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("FORGE_")}
    env.update(
        PYTHONPATH=str(SRC),
        FORGE_CACHE_DIR=str(tmp_path / "cache"),
        XDG_CONFIG_HOME=str(tmp_path / "user-config"),
        **{KEY_ENV: API_KEY},
    )
    return env


def spawn(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    """A real forge process (so a test can SIGKILL it) in ``tmp_path``."""
    return subprocess.Popen(
        [sys.executable, "-m", "forge_cli", *args],
        cwd=tmp_path,
        env=forge_env(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def run_forge(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """forge in its own process, to the end: a large run's memory stays out of the test process
    (whose children's peak RSS other tests measure)."""
    return subprocess.run(
        [sys.executable, "-m", "forge_cli", *args],
        cwd=tmp_path,
        env=forge_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


def journal(path: Path) -> dict | None:
    try:
        return orjson.loads(path.read_bytes())
    except (FileNotFoundError, orjson.JSONDecodeError):
        return None
