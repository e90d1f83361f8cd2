"""Helpers of the batch-mode tests: tickets, the forge command line, reading the outputs."""

from __future__ import annotations

import os
import subprocess
import sys
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


def batch_args(base_url: str, *extra: str) -> list[str]:
    return [
        "--provider",
        "openai",
        "--base-url",
        base_url,
        "--api-key-env",
        KEY_ENV,
        "--model",
        "gpt-4o-mini",
        "--batch",
        "--batch-poll",
        "0.05",
        "--no-progress",
        "--backoff",
        "0.01",
        *extra,
    ]


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
