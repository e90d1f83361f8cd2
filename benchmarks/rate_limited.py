"""Rate-bound throughput: forge against a loopback upstream that enforces a requests-per-minute limit.

Ideal throughput = RPM / 60 calls/s (x items per call). The upstream enforces the limit over a
sliding window shortened to a few seconds (the limit scaled to it), so a run "at 6,000 RPM" takes
seconds, not minutes. Three ways forge can know the limit:

- headers: the OpenAI wire announces it in x-ratelimit-* headers; forge learns it from the first
  answer and paces itself (no configuration);
- configured: the Gemini wire sends no such headers; the limit comes from forge.toml (rpm = ...);
- unknown: Gemini wire, nothing configured: only 429s (with RetryInfo) and the AIMD limit pace it.

Reports the share of calls answered 429 (target: under 1%) and two ratios: to the nominal rate
(RPM / 60) and to the fastest the window allows (``allowed``: a sliding window admits its whole
count at once, so a run that fits in one window is bound by latency and concurrency only, and a
longer one by one full window per window length). Target: >= 0.97 of the allowed rate.

    python benchmarks/rate_limited.py                  # 6,000 RPM over a 1 s window, 1,500 calls each
    python benchmarks/rate_limited.py --rpm 3000 --calls 300
    python benchmarks/rate_limited.py --rpm 600 --window 60 --calls 500   # issue 14's case
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-bench-not-a-real-key"


LATENCY = 0.02


def allowed_seconds(rpm: int, window: float, calls: int, concurrency: int) -> float:
    """The shortest time the window allows: whole windows' worth at once, one window apart, the
    last (partial) window at the latency-bound pace."""
    cap = max(1, round(rpm * window / 60.0))
    full = (calls - 1) // cap
    return full * window + (calls - full * cap) * LATENCY / concurrency


def measure(mode: str, rpm: int, window: float, calls: int, concurrency: int) -> dict:
    wire = None if mode == "headers" else GeminiWire()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream(
            api_key=KEY, rpm_limit=rpm, rate_window=window, latency=LATENCY, wire=wire
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
    s = result.summary
    ideal = rpm / 60.0
    allowed = s["done"] / allowed_seconds(rpm, window, s["done"], concurrency)
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
        "allowed": allowed,
        "allowed_ratio": s["done"] / s["elapsed_s"] / allowed,
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
        f"{'achieved/s':>10} {'nominal/s':>9} {'ratio':>6} {'allowed/s':>9} {'ratio':>6}"
    )
    for mode in args.modes:
        m = measure(mode, args.rpm, args.window, args.calls, args.concurrency)
        print(
            f"{m['mode']:>17} {m['done']:>5} {m['requests']:>6} {m['rejected']:>5} "
            f"{m['share_429']:>6.1%} {m['achieved']:>10.1f} {m['ideal']:>9.1f} "
            f"{m['ratio']:>6.3f} {m['allowed']:>9.1f} {m['allowed_ratio']:>6.3f}"
        )


if __name__ == "__main__":
    main()
