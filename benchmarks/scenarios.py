"""Named `forge bench` scenarios, each runnable with one command:

    python benchmarks/scenarios.py latency-bound      # 100 ms upstream: packing and concurrency
    python benchmarks/scenarios.py rate-limit-bound   # RPM 300 upstream, 2,000 tickets
    python benchmarks/scenarios.py flaky-upstream     # 20% of calls answered 503
    python benchmarks/scenarios.py huge-file          # 100,000 tickets, one cell

Each writes bench.json, bench.csv and bench.svg into benchmarks/out/<scenario>/ and prints the table.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path

from _common import ROOT, SAMPLES, generate

SCENARIOS: dict[str, tuple[int | None, list[str]]] = {
    # name: (generated tickets, or None for the samples; forge bench arguments)
    "latency-bound": (
        None,
        [
            "--latency",
            "0.1",
            "--jitter",
            "0.1",
            "--packs",
            "1,5,10,20",
            "--concurrency",
            "1,4,16,64",
            "--repeat",
            "3",
        ],
    ),
    "rate-limit-bound": (
        2_000,
        [
            "--latency",
            "0.05",
            "--rpm",
            "300",
            "--packs",
            "5,10,20",
            "--concurrency",
            "16",
            "--repeat",
            "1",
        ],
    ),
    "flaky-upstream": (
        None,
        [
            "--latency",
            "0.05",
            "--failure-rate",
            "0.2",
            "--packs",
            "1,10",
            "--concurrency",
            "4,16",
            "--repeat",
            "2",
        ],
    ),
    "huge-file": (
        100_000,
        ["--latency", "0.05", "--packs", "20", "--concurrency", "64", "--repeat", "1"],
    ),
}


def main() -> int:
    if len(sys.argv) != 2 or sys.argv[1] not in SCENARIOS:
        print(__doc__)
        return 2
    name = sys.argv[1]
    generated, args = SCENARIOS[name]
    out = ROOT / "benchmarks" / "out" / name
    with tempfile.TemporaryDirectory() as tmp:
        data = SAMPLES if generated is None else generate(Path(tmp) / "tickets.jsonl", generated)
        cmd = [sys.executable, "-m", "forge_cli", "bench", str(data), *args, "--out-dir", str(out)]
        print("$ forge bench", " ".join(cmd[4:]), flush=True)
        return subprocess.run(cmd, check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
