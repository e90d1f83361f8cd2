"""``python -m forge_cli.io.sinks --bench``: time the writers."""

from __future__ import annotations

import sys
from pathlib import Path

from forge_cli.io.sinks.opener import open_sink


def _bench(n: int = 1_000_000) -> None:  # pragma: no cover - manual measurement
    """Write the same row ``n`` times in each built-in file format."""
    import tempfile
    import time

    row = {
        "id": "T-0000001",
        "label": "hardware_issue",
        "priority": "high",
        "summary": "printer stopped working after the driver update",
        "cached": False,
        "customer": "acme",
    }
    columns = ["id", "label", "priority", "summary", "cached"]
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("jsonl", "csv"):
            path = Path(tmp) / f"out.{fmt}"
            t0 = time.perf_counter()
            with open_sink(path, fmt, columns) as sink:
                for _ in range(n):
                    sink.write(row)
            dt = time.perf_counter() - t0
            print(f"{fmt}: {n:,} rows in {dt:.2f}s = {n / dt:,.0f} rows/s")


if __name__ == "__main__":  # pragma: no cover
    if "--bench" in sys.argv:
        _bench()
