"""Shared pieces of the benchmarks: ticket generation and running forge as a separate process."""

from __future__ import annotations

import os
import random
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples" / "tickets.jsonl"


def sample_texts() -> list[str]:
    texts = []
    for line in SAMPLES.read_bytes().splitlines():
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("text"), str) and record["text"]:
            texts.append(record["text"])
    return texts


def generate(path: Path, n: int, *, seed: int = 1, max_chars: int = 3000) -> Path:
    """n tickets drawn from the samples, each made unique by a reference number."""
    rng = random.Random(seed)
    pool = [t for t in sample_texts() if len(t) <= max_chars]
    with path.open("wb") as f:
        for i in range(n):
            text = f"{rng.choice(pool)} (ref {i})"
            f.write(orjson.dumps({"id": f"G{i}", "text": text, "customer": "bench"}) + b"\n")
    return path


@dataclass
class ForgeResult:
    summary: dict[str, Any]
    wall_s: float
    peak_rss_mb: float
    #: user + system CPU seconds of the forge process
    cpu_s: float = 0.0


def run_forge(args: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> ForgeResult:
    """Run ``forge`` in its own process; return its JSON summary, wall time and peak RSS."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    started = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "forge_cli", *args, "--json-summary", "--no-progress"],
        cwd=cwd,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        check=False,
    )
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 1):
        raise SystemExit(f"forge failed ({proc.returncode}):\n{proc.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    peak, cpu = usage.ru_maxrss, usage.ru_utime + usage.ru_stime - cpu_before
    # ru_maxrss of children is the max over all children so far: meaningful when this run is the largest
    summary = orjson.loads(proc.stdout.splitlines()[-1])
    return ForgeResult(summary, wall, max(peak, before) / 1024, cpu)
