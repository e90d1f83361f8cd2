"""``python -m forge_cli.io.sources --bench``: time the readers on generated data."""

from __future__ import annotations

import csv
import os
import sys

import orjson

from forge_cli.io.sources.opener import open_source


def _bench(n: int = 1_000_000) -> None:  # pragma: no cover - manual measurement
    """Time every built-in reader on the same records, and its peak traced memory."""
    import tempfile
    import time
    import tracemalloc

    with tempfile.TemporaryDirectory() as tmp:
        jpath = os.path.join(tmp, "t.jsonl")
        cpath = os.path.join(tmp, "t.csv")
        with open(jpath, "wb") as j, open(cpath, "w", encoding="utf-8", newline="") as c:
            w = csv.writer(c)
            w.writerow(["id", "text", "priority", "customer", "channel"])
            for i in range(n):
                rec = {
                    "id": f"T-{i:07d}",
                    "text": f"printer {i} stopped working after the driver update, please help",
                    "priority": "high",
                    "customer": "acme",
                    "channel": "email",
                }
                j.write(orjson.dumps(rec) + b"\n")
                w.writerow(rec.values())
        for path in (jpath, cpath):
            t0 = time.perf_counter()
            count = sum(1 for _ in open_source(path))
            dt = time.perf_counter() - t0
            print(f"{os.path.basename(path)}: {count:,} records in {dt:.2f}s = {count / dt:,.0f}/s")
            tracemalloc.start()
            for _ in open_source(path):
                pass
            peak = tracemalloc.get_traced_memory()[1]
            tracemalloc.stop()
            print(f"  peak traced memory {peak / 1e6:.2f} MB")


if __name__ == "__main__":  # pragma: no cover
    if "--bench" in sys.argv:
        _bench()
