"""Local model servers: vLLM-style replicas on 127.0.0.1, routed ``balanced``, at each concurrency.

vLLM and servers like it batch hundreds of requests at once, so a call's latency barely moves with
the number in flight: the simulator stands in for one at a fixed latency. Each replica is a
``type = "vllm"`` provider in forge.toml; forge runs in its own process with ``--pack 1``. Ideal =
replicas x concurrency / latency tickets/s (``--concurrency`` is per provider). The row without a
concurrency is the preset's own default (what a user gets who types nothing), which this table
chose.

    python benchmarks/local_servers.py                          # 2 replicas, 100 ms, 4/16/32/64/default
    python benchmarks/local_servers.py --concurrency 16 --repeat 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
from contextlib import ExitStack
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.server import FakeUpstream


def measure(replicas: int, concurrency: int | None, latency: float, tickets: int) -> dict:
    with ExitStack() as stack, tempfile.TemporaryDirectory() as tmp:
        servers = [stack.enter_context(FakeUpstream(latency=latency)) for _ in range(replicas)]
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", tickets)
        (work / "forge.toml").write_text(
            "".join(
                f'[providers.r{i}]\ntype = "vllm"\nbase_url = "{s.base_url}"\n'
                for i, s in enumerate(servers)
            )
        )
        chain = ",".join(f"r{i}" for i in range(replicas))
        args = ["classify", str(src), "--provider", chain, "--routing", "balanced"]
        args += ["--pack", "1", "--no-cache"]
        if concurrency is not None:
            args += ["--concurrency", str(concurrency)]
        s = run_forge(args, cwd=work).summary
        per = s["providers"]["r0"].get("concurrency") or concurrency
        rate = s["done"] / s["elapsed_s"]
        peak = max(sv.stats.max_concurrent for sv in servers)
        return {"rate": rate, "peak": peak, "done": s["done"], "per": per}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replicas", type=int, default=2)
    parser.add_argument("--latency", type=float, default=0.1)
    parser.add_argument("--tickets", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, nargs="*", default=[4, 16, 32, 64])
    parser.add_argument("--default", action=argparse.BooleanOptionalAction, default=True)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    print(f"{args.replicas} vLLM-style replicas at {args.latency * 1000:g} ms, balanced, pack 1")
    print(f"{'concurrency':>12} {'peak/replica':>12} {'tickets/s':>9} {'ideal':>7} {'ratio':>6}")
    levels: list[int | None] = list(args.concurrency) + ([None] if args.default else [])
    for level in levels:
        runs = [
            measure(args.replicas, level, args.latency, args.tickets) for _ in range(args.repeat)
        ]
        rate = statistics.median(r["rate"] for r in runs)
        peak = max(r["peak"] for r in runs)
        # the ideal of the preset's default: its concurrency as the upstream saw it at the peak
        per = level if level is not None else peak
        ideal = args.replicas * per / args.latency
        label = str(level) if level is not None else f"default ({peak})"
        print(f"{label:>12} {peak:>12} {rate:>9.1f} {ideal:>7.0f} {rate / ideal:>6.3f}")


if __name__ == "__main__":
    main()
