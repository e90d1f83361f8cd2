"""Latency-bound throughput: forge against a loopback upstream with a fixed latency.

Ideal throughput = concurrency / latency (calls/s) x items per call. Reports achieved / ideal over
the whole run as forge reports it ("ratio"; target >= 0.95) and over the span from the first to the
last request the upstream saw ("steady", which leaves out forge's start-up and the final drain).
With --jitter the upstream's latency varies by +-that fraction around its mean: a pipeline with a batch
barrier would wait for each batch's slowest call there, forge should not. The upstream runs in this process, forge in its own, so neither steals the other's GIL.

    python benchmarks/latency_bound.py                       # 100 ms, concurrency 8 and 32, pack 1
    python benchmarks/latency_bound.py --latency 0.1 --concurrency 16 --pack 10 --jitter 0.5
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-bench-not-a-real-key"


def measure(latency: float, concurrency: int, pack: int, jitter: float, calls: int) -> dict:
    n = calls * pack
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream(latency=latency, jitter=jitter, api_key=KEY, seed=3) as server,
    ):
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", n)
        result = run_forge(
            [
                "classify",
                str(src),
                "--provider",
                "openai",
                "--base-url",
                server.base_url,
                "--api-key-env",
                "BENCH_KEY",
                "--concurrency",
                str(concurrency),
                "--pack",
                str(pack),
                "--no-cache",
            ],
            cwd=work,
            env={"BENCH_KEY": KEY},
        )
        peak = server.stats.max_concurrent
        arrivals = sorted(r.timestamp for r in server.stats.records)
    s = result.summary
    # calls/s between the first and the last request the server saw: forge's steady state
    steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) * pack if len(arrivals) > 1 else 0
    ideal = concurrency / latency * pack
    return {
        "concurrency": concurrency,
        "pack": pack,
        "tickets": s["records"],
        "calls": s["calls"],
        "achieved": s["records_per_s"],
        "ideal": ideal,
        "ratio": s["records_per_s"] / ideal,
        "steady_ratio": steady / ideal,
        "peak_in_flight": peak,
        "failed": s["failed"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--pack", type=int, default=1)
    parser.add_argument("--jitter", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=20.0, help="target length of each run")
    args = parser.parse_args()
    print(f"latency {args.latency * 1000:.0f} ms, jitter +-{args.jitter:.0%}, pack {args.pack}")
    print(
        f"{'conc':>5} {'tickets':>8} {'calls':>6} {'achieved/s':>11} {'ideal/s':>9} {'ratio':>6} {'steady':>6} {'peak':>5}"
    )
    for c in args.concurrency:
        calls = max(50, int(args.seconds * c / args.latency))
        r = measure(args.latency, c, args.pack, args.jitter, calls)
        print(
            f"{r['concurrency']:>5} {r['tickets']:>8,} {r['calls']:>6,} {r['achieved']:>11,.1f} "
            f"{r['ideal']:>9,.1f} {r['ratio']:>6.3f} {r['steady_ratio']:>6.3f} "
            f"{r['peak_in_flight']:>5}"
        )


if __name__ == "__main__":
    main()
