"""forge bench: a small real sweep against the simulated upstream, outputs, Ctrl-C, paid providers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import orjson
import pytest

from conftest import API_KEY, KEY_ENV, distinct_texts, forge, write_tickets
from forge_cli.app.bench import Cell, SimSettings, SweepPlan, ideal_throughput, sweep, write_outputs
from forge_cli.testing.sim.server import FakeUpstream


def test_small_sweep_produces_files_and_sane_efficiency(tmp_path):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(40))
    run = forge(
        "bench",
        str(src),
        "--packs",
        "1,5",
        "--concurrency",
        "2,8",
        "--repeat",
        "2",
        "--latency",
        "0.03",
        "--jitter",
        "0",
        "--out-dir",
        "out",
    )
    assert run.exit_code == 0, run.stderr
    report = orjson.loads((tmp_path / "out" / "bench.json").read_bytes())
    cells = report["cells"]
    assert [(c["pack"], c["concurrency"]) for c in cells] == [(1, 2), (1, 8), (5, 2), (5, 8)]
    for cell in cells:
        assert cell["repeats"] == 2 and cell["failure_pct"] == 0
        # a sanity bound on the arithmetic, not a speed claim: a loaded machine may be slow
        assert 0.05 < cell["efficiency"] <= 1.1, cell
        assert cell["calls"] == 40 // cell["pack"]
    # more per request and more in flight is faster; packing is cheaper per ticket
    by = {(c["pack"], c["concurrency"]): c for c in cells}
    assert by[(1, 8)]["throughput"] > by[(1, 2)]["throughput"]
    assert by[(5, 2)]["cost_per_1k"] < by[(1, 2)]["cost_per_1k"]
    assert sum(c["best_throughput"] for c in cells) == 1 and sum(c["best_cost"] for c in cells) == 1
    assert (tmp_path / "out" / "bench.csv").read_text().startswith("pack,concurrency,repeats")
    assert ET.parse(tmp_path / "out" / "bench.svg").getroot().tag.endswith("svg")
    assert "fastest: --pack" in run.stderr


def test_ctrl_c_keeps_finished_cells(tmp_path):
    plan = SweepPlan(distinct_texts(12), [1, 4], [2], 1, SimSettings(latency=0.01, jitter=0))
    seen = []

    def stop_after_first(cell, measure):
        seen.append(cell)
        if len(seen) == 1:
            raise KeyboardInterrupt

    cells, interrupted = sweep(plan, on_run=stop_after_first)
    assert interrupted
    finished = [c for c in cells if c.runs]
    assert [(c.pack, c.concurrency) for c in finished] == [(1, 2)]
    paths = write_outputs(cells, tmp_path, {"title": "partial"})
    rows = orjson.loads(paths[0].read_bytes())["cells"]
    assert len(rows) == 1 and rows[0]["efficiency"] > 0


def test_ideal_accounts_for_rounds_and_rate_limit():
    cell = Cell(pack=5, concurrency=4)
    from forge_cli.app.bench import RunMeasure

    cell.runs.append(RunMeasure(100, 1.0, 100.0, 50, 60, 20, 100, 0.1, 0, 0, 50.0, 40.0))
    # 20 calls over 4 slots: 5 rounds of 50 ms -> 0.25 s for 100 tickets
    assert ideal_throughput(cell, SimSettings(latency=0.05)) == pytest.approx(400.0)
    # RPM 12: call 13 waits for call 1 to be a minute old -> 60 s and one call latency
    assert ideal_throughput(cell, SimSettings(latency=0.05, rpm=12)) == pytest.approx(100 / 60.05)


def test_paid_provider_needs_confirmation(tmp_path):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(6))
    with FakeUpstream(api_key=API_KEY) as server:
        args = [
            "bench",
            str(src),
            "--provider",
            "openai",
            "--base-url",
            server.base_url,
            "--api-key-env",
            KEY_ENV,
            "--packs",
            "1,3",
            "--concurrency",
            "2",
            "--repeat",
            "1",
            "--out-dir",
            "paid",
        ]
        refused = forge(*args)
        assert refused.exit_code == 2 and "--yes" in refused.stderr
        assert "calls" in refused.stderr and "$" in refused.stderr
        assert server.stats.requests == 0
        agreed = forge(*args, "--yes")
        assert agreed.exit_code == 0, agreed.stderr
        assert server.stats.requests == 6 + 2
    assert (Path(tmp_path) / "paid" / "bench.json").exists()
