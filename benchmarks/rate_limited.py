"""Rate-bound throughput: forge against a loopback upstream that enforces a requests-per-minute limit.

Ideal throughput = RPM / 60 calls/s (x items per call). The upstream enforces the limit over a
sliding window shortened to a few seconds (the limit scaled to it), so a run "at 6,000 RPM" takes
seconds, not minutes. Three ways forge can know the limit:

- headers: the OpenAI wire announces it in x-ratelimit-* headers; forge learns it from the first
  answer and paces itself (no configuration);
- configured: the Gemini wire sends no such headers; the limit comes from forge.toml (rpm = ...);
- unknown: Gemini wire, nothing configured: only 429s (with RetryInfo) and the AIMD limit pace it.

Reports achieved/ideal and the share of calls answered 429 (target: under 2% when the limit is
known).

    python benchmarks/rate_limited.py                  # 6,000 RPM over a 1 s window, 1,500 calls each
    python benchmarks/rate_limited.py --rpm 3000 --calls 300
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-bench-not-a-real-key"


def measure(mode: str, rpm: int, window: float, calls: int, concurrency: int) -> dict:
    wire = None if mode == "headers" else GeminiWire()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream(
            api_key=KEY, rpm_limit=rpm, rate_window=window, latency=0.02, wire=wire
        ) as server,
    ):
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", calls)
        kind = "openai" if mode == "headers" else "gemini"
        limit = f"rpm = {rpm}\n" if mode == "configured" else ""
        (work / "forge.toml").write_text(
            f'[providers.sim]\ntype = "{kind}"\nbase_url = "{server.base_url}"\n'
            f'api_key_env = "BENCH_KEY"\n{limit}'
        )
        args = ["classify", str(src), "--provider", "sim", "--pack", "1", "--no-cache"]
        args += ["--concurrency", str(concurrency), "--retries", "6"]
        result = run_forge(
            args,
            cwd=work,
            env={"BENCH_KEY": KEY},
        )
        requests = server.stats.requests
        rejected = server.stats.by_status.get(429, 0)
        arrivals = sorted(r.timestamp for r in server.stats.records if r.status == 200)
    s = result.summary
    ideal = rpm / 60.0
    steady = (len(arrivals) - 1) / (arrivals[-1] - arrivals[0]) if len(arrivals) > 1 else 0.0
    return {
        "mode": mode,
        "done": s["done"],
        "failed": s["failed"],
        "requests": requests,
        "rejected": rejected,
        "share_429": rejected / requests if requests else 0.0,
        "achieved": s["done"] / s["elapsed_s"],
        "ideal": ideal,
        "ratio": s["done"] / s["elapsed_s"] / ideal,
        "steady": steady / ideal,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rpm", type=int, default=6000)
    parser.add_argument("--window", type=float, default=1.0, help="seconds of the sliding window")
    parser.add_argument("--calls", type=int, default=1500)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--modes", nargs="+", default=["headers", "configured", "unknown"])
    args = parser.parse_args()
    print(
        f"{args.rpm:,} RPM over a {args.window:g} s window, pack 1, concurrency {args.concurrency}"
    )
    print(
        f"{'limit known from':>17} {'done':>5} {'calls':>6} {'429s':>5} {'429 %':>6} "
        f"{'achieved/s':>10} {'ideal/s':>8} {'ratio':>6} {'steady':>6}"
    )
    for mode in args.modes:
        m = measure(mode, args.rpm, args.window, args.calls, args.concurrency)
        print(
            f"{m['mode']:>17} {m['done']:>5} {m['requests']:>6} {m['rejected']:>5} "
            f"{m['share_429']:>6.1%} {m['achieved']:>10.1f} {m['ideal']:>8.1f} "
            f"{m['ratio']:>6.3f} {m['steady']:>6.3f}"
        )


if __name__ == "__main__":
    main()
