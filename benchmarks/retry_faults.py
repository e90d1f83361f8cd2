"""Retries under faults: a share of calls answered 503 at once; how close does the run stay to ideal?

One loopback upstream (OpenAI wire, its own process's thread) answers ``--fail`` of requests with an
immediate 503 and the rest after ``--latency``. forge runs in its own process with ``--pack 1``,
so every failure is a retry after a back-off. Ideal = concurrency / latency tickets/s (a 503 costs
no upstream time): what matters is whether a call waiting out its back-off keeps a concurrency
slot from the work that could use it. Reports achieved/ideal for the whole run and for its
steady part (the upstream's first 95% of answers: the last few tickets wait out back-offs that
double each time, 0.5 + 1 + 2 + 4 s, whatever the slots do), and the peak of calls in flight at
the upstream (never above ``--concurrency``).

    python benchmarks/retry_faults.py                     # 20% 503s, 2,000 tickets, concurrency 16
    python benchmarks/retry_faults.py --fail 0 --repeat 3 # the same without faults, for reference
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-bench-not-a-real-key"


def measure(tickets: int, fail: float, concurrency: int, latency: float) -> dict:
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream(api_key=KEY, latency=latency, failure_rate=fail, failure_status=503) as server,
    ):
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", tickets)
        (work / "forge.toml").write_text(
            f'[providers.sim]\ntype = "openai"\nbase_url = "{server.base_url}"\n'
            'api_key_env = "BENCH_KEY"\n'
        )
        args = ["classify", str(src), "--provider", "sim", "--pack", "1", "--no-cache"]
        args += ["--concurrency", str(concurrency), "--retries", "4"]
        result = run_forge(args, cwd=work, env={"BENCH_KEY": KEY})
        s = result.summary
        answered = sorted(r.timestamp for r in server.stats.records if r.status == 200)
        cut = answered[: max(2, int(len(answered) * 0.95))]
        steady = (len(cut) - 1) / (cut[-1] - cut[0]) if cut[-1] > cut[0] else 0.0
        return {
            "done": s["done"],
            "failed": s["failed"],
            "requests": server.stats.requests,
            "errors": server.stats.by_status.get(503, 0),
            "peak": server.stats.max_concurrent,
            "ratio": s["done"] / s["elapsed_s"] / (concurrency / latency),
            "rate": s["done"] / s["elapsed_s"],
            "steady": steady / (concurrency / latency),
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=2000)
    parser.add_argument("--fail", type=float, default=0.2, help="share of requests answered 503")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    ideal = args.concurrency / args.latency
    print(
        f"{args.fail:.0%} 503s, pack 1, concurrency {args.concurrency}, {args.latency * 1000:g} ms: "
        f"ideal {ideal:,.0f} tickets/s"
    )
    print(
        f"{'done':>6} {'failed':>6} {'calls':>6} {'503s':>5} {'peak':>5} {'tickets/s':>9} {'ratio':>6} {'steady':>6}"
    )
    ratios, steadies = [], []
    for _ in range(args.repeat):
        m = measure(args.tickets, args.fail, args.concurrency, args.latency)
        ratios.append(m["ratio"])
        steadies.append(m["steady"])
        print(
            f"{m['done']:>6} {m['failed']:>6} {m['requests']:>6} {m['errors']:>5} {m['peak']:>5} "
            f"{m['rate']:>9.1f} {m['ratio']:>6.3f} {m['steady']:>6.3f}"
        )
    print(f"median ratio {statistics.median(ratios):.3f}, steady {statistics.median(steadies):.3f}")


if __name__ == "__main__":
    main()
