"""What the dedup cache costs: the same cold run with and without it, then a warm re-run.

A cold run through a loopback upstream (20 ms a call, concurrency 64, the default packing) is made
three ways, each forge in its own process against an upstream in this one:

- ``--no-cache``: the ceiling;
- with a new cache: every answer is written (target: >= 0.90 of the ceiling, and >= 8,000
  tickets/s whole process);
- the same command again on the warm cache: every answer is read, nothing is called (target:
  >= 50,000 tickets/s whole process).

"Whole process" is tickets over the wall time of the forge process, start-up and writing included.
Token log probabilities (confidence) are not asked for unless ``--logprobs``: with them every
answer of a pack of 17 is ~150 KB, and building those bodies makes the simulator, not forge, the
bound (measured: 540 tickets/s with them, 3,200 without, on the same machine and minute), which
would hide what the cache costs. forge's CPU seconds are printed too: on a shared machine they
say more than wall time.

    python benchmarks/cache_cost.py              # 100,000 tickets
    python benchmarks/cache_cost.py --n 20000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import generate, run_forge

from forge_cli.testing.sim.server import FakeUpstream

KEY = "sk-bench-not-a-real-key"
TARGET_SHARE = 0.90
TARGET_COLD = 8_000
TARGET_WARM = 50_000


def _folder_bytes(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--latency", type=float, default=0.02)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--logprobs", action="store_true", help="ask for confidence, as by default")
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeUpstream(latency=args.latency, api_key=KEY, seed=3) as server,
    ):
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", args.n)
        base = [
            "classify",
            str(src),
            "--provider",
            "openai",
            "--base-url",
            server.base_url,
            "--api-key-env",
            "BENCH_KEY",
            "--concurrency",
            str(args.concurrency),
        ]
        env = {"BENCH_KEY": KEY}
        if not args.logprobs:
            (work / "forge.toml").write_text("[providers.openai]\nlogprobs = false\n")
        cache = work / "cache"
        rows = []
        for name, extra in (
            ("no cache", ["--no-cache"]),
            ("cold cache", ["--cache-dir", str(cache)]),
            ("warm cache", ["--cache-dir", str(cache)]),
        ):
            r = run_forge([*base, *extra], cwd=work, env=env)
            s = r.summary
            rows.append((name, s, s["records"] / r.wall_s, r.wall_s, r.peak_rss_mb, r.cpu_s))
        size = _folder_bytes(cache)
    print(
        f"{args.n:,} tickets, upstream {args.latency * 1000:.0f} ms, concurrency {args.concurrency}"
    )
    print(
        f"{'run':<11} {'calls':>6} {'cached':>7} {'whole/s':>9} {'wall s':>7} {'CPU s':>6} {'RSS MB':>7}"
    )
    for name, s, whole, wall, rss, cpu in rows:
        print(
            f"{name:<11} {s['calls']:>6,} {s.get('cached', 0):>7,} {whole:>9,.0f} {wall:>7.2f} "
            f"{cpu:>6.2f} {rss:>7.0f}"
        )
    ceiling, cold, warm = rows[0][2], rows[1][2], rows[2][2]
    print(f"cache folder after the cold run: {size / 2**20:.1f} MB")
    print(
        f"cold with cache / without: {cold / ceiling:.3f} (target >= {TARGET_SHARE}); "
        f"cold {cold:,.0f}/s: ratio to {TARGET_COLD:,} {cold / TARGET_COLD:.2f}"
    )
    print(f"cold with cache / without, forge CPU seconds: {rows[1][5] / rows[0][5]:.3f}")
    print(f"warm re-run {warm:,.0f}/s: ratio to {TARGET_WARM:,} {warm / TARGET_WARM:.2f}")


if __name__ == "__main__":
    main()
