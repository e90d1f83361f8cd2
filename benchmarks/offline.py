"""Offline-provider throughput and peak memory on generated tickets (whole process, from the CLI).

Targets: >= 10,000 tickets/s and peak RSS under 250 MB on 100,000 tickets.

    python benchmarks/offline.py            # 100,000 tickets
    python benchmarks/offline.py --n 1000000
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from _common import generate, run_forge

TARGET_RATE = 10_000
TARGET_RSS_MB = 250


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=100_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        src = generate(work / "tickets.jsonl", args.n)
        result = run_forge(["classify", str(src), "--provider", "offline"], cwd=work)
    s = result.summary
    rate = s["records_per_s"]
    print(f"tickets:            {s['records']:,} ({s['done']:,} done, {s['failed']:,} failed)")
    print(
        f"engine throughput:  {rate:,.0f} tickets/s  (target {TARGET_RATE:,}: ratio {rate / TARGET_RATE:.2f})"
    )
    whole = s["records"] / result.wall_s
    print(f"whole process:      {whole:,.0f} tickets/s including start-up ({result.wall_s:.2f} s)")
    print(
        f"peak RSS:           {result.peak_rss_mb:,.0f} MB  (target < {TARGET_RSS_MB} MB: ratio {result.peak_rss_mb / TARGET_RSS_MB:.2f})"
    )


if __name__ == "__main__":
    main()
