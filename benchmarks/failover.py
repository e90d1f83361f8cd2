"""Failover: the first provider of a chain goes down mid-run; how much does the run lose?

Two loopback upstreams with the same latency (so the ideal does not change when the work moves): the
primary (OpenAI wire) answers normally for its first K requests and then 503s every request; the
backup speaks the Gemini wire. forge runs in its own process with `--provider primary,backup`.
Reports what was lost (should be nothing), achieved/ideal (ideal = concurrency / latency, the same on
either provider), how many calls the dead primary still received (its breaker should cut them off
after a handful) and how many packs fell back.

    python benchmarks/failover.py
    python benchmarks/failover.py --tickets 4000 --down-after 500 --concurrency 16
"""

from __future__ import annotations

import argparse
import itertools
import tempfile
import threading
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.faults import Fault
from forge_cli.testing.sim.gemini_wire import GeminiWire
from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-bench-not-a-real-key"


def measure(tickets: int, down_after: int, concurrency: int, latency: float) -> dict:
    counter = itertools.count(1)
    lock = threading.Lock()

    def dies(items: list) -> Fault | None:
        with lock:
            n = next(counter)
        return Fault("503") if n > down_after else None

    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream(api_key=KEY, latency=latency) as primary,
        FakeUpstream(api_key=KEY, latency=latency, wire=GeminiWire()) as backup,
    ):
        primary.fault_when(dies)
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", tickets)
        (work / "forge.toml").write_text(
            f'[providers.primary]\ntype = "openai"\nbase_url = "{primary.base_url}"\n'
            'api_key_env = "BENCH_KEY"\n'
            f'[providers.backup]\ntype = "gemini"\nbase_url = "{backup.base_url}"\n'
            'api_key_env = "BENCH_KEY"\n'
        )
        args = ["classify", str(src), "--provider", "primary,backup", "--pack", "1", "--no-cache"]
        args += ["--concurrency", str(concurrency), "--retries", "1", "--backoff", "0.05"]
        result = run_forge(args, cwd=work, env={"BENCH_KEY": KEY})
        dead_calls = primary.stats.by_status.get(503, 0)
    s = result.summary
    ideal = concurrency / latency
    by = s["providers"]
    return {
        "done": s["done"],
        "failed": s["failed"],
        "achieved": s["done"] / s["elapsed_s"],
        "ideal": ideal,
        "ratio": s["done"] / s["elapsed_s"] / ideal,
        "dead_calls": dead_calls,
        "fallbacks": by["primary"]["fallbacks"],
        "breaker_opened": by["primary"]["breaker_opened"],
        "primary_items": by["primary"]["items"],
        "backup_items": by["backup"]["items"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--down-after", type=int, default=600, help="primary requests answered")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--latency", type=float, default=0.05)
    args = parser.parse_args()
    m = measure(args.tickets, args.down_after, args.concurrency, args.latency)
    print(
        f"{args.tickets:,} tickets, pack 1, concurrency {args.concurrency} per provider, "
        f"{args.latency * 1000:.0f} ms; primary dies after {args.down_after:,} requests"
    )
    print(
        f"done {m['done']:,}, failed {m['failed']:,} (lost: {args.tickets - m['done'] - m['failed']})"
    )
    print(f"answered by primary {m['primary_items']:,}, by backup {m['backup_items']:,}")
    print(
        f"calls the dead primary still got: {m['dead_calls']:,} "
        f"(breaker opened {m['breaker_opened']}x; {m['fallbacks']:,} packs fell back)"
    )
    print(f"throughput {m['achieved']:.1f}/s, ideal {m['ideal']:.1f}/s: ratio {m['ratio']:.3f}")


if __name__ == "__main__":
    main()
