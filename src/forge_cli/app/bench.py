"""``forge bench``: sweep pack size x concurrency and measure which settings win.

Each cell runs the real engine and the whole HTTP path against a provider: by default a simulated
OpenAI-compatible upstream that bench starts on 127.0.0.1 in its own process (so its threads do not
share forge's interpreter lock), fresh for every run so one cell's rate-limit window never leaks
into the next. The cache is bypassed; every run starts from new items. A cell's figures are the
median of its repeats.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import math
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from forge_cli.core.errors import UsageError
from forge_cli.core.models import Item
from forge_cli.engine.batcher import PackLimits
from forge_cli.engine.calling.caller import Caller
from forge_cli.engine.calling.chain import Chain
from forge_cli.engine.resilience.retry import default_retry_policy
from forge_cli.engine.runner import EngineConfig, Runner
from forge_cli.engine.stats import RunStats
from forge_cli.io.sinks import MemorySink
from forge_cli.providers.base import Provider
from forge_cli.tasks.classify.task import TicketTask

SIM_KEY_ENV = "FORGE_BENCH_SIM_KEY"
SIM_KEY = "sim-local-not-a-secret"


@dataclass(slots=True)
class SimSettings:
    """The simulated upstream's latency model, rate limit and failure rate."""

    latency: float = 0.05
    per_token_latency: float = 0.0
    jitter: float = 0.1
    rpm: int | None = None
    failure_rate: float = 0.0
    seed: int = 0


@dataclass(slots=True)
class RunMeasure:
    tickets: int
    seconds: float
    throughput: float
    p50_ms: float
    p95_ms: float
    calls: int
    tokens_per_ticket: float
    cost_per_1k: float
    failure_pct: float
    rate_limited: int
    mean_call_ms: float
    out_tokens_per_call: float


@dataclass(slots=True)
class Cell:
    pack: int
    concurrency: int
    runs: list[RunMeasure] = field(default_factory=list)
    ideal: float = 0.0

    def median(self, name: str) -> float:
        return float(statistics.median(getattr(run, name) for run in self.runs))

    @property
    def efficiency(self) -> float:
        return self.median("throughput") / self.ideal if self.ideal else 0.0

    def row(self) -> dict[str, Any]:
        names = (
            "throughput",
            "p50_ms",
            "p95_ms",
            "calls",
            "tokens_per_ticket",
            "cost_per_1k",
            "failure_pct",
            "rate_limited",
        )
        row: dict[str, Any] = {
            "pack": self.pack,
            "concurrency": self.concurrency,
            "repeats": len(self.runs),
        }
        row.update({name: round(self.median(name), 4) for name in names})
        row["ideal"] = round(self.ideal, 3)
        row["efficiency"] = round(self.efficiency, 4)
        return row


# ------------------------------------------------------------------------------ the simulator


@contextlib.contextmanager
def simulator(sim: SimSettings) -> Iterator[str]:
    """Start ``forge_cli.testing.sim.upstream`` on 127.0.0.1 in a child process; yield its base URL."""
    args = [
        sys.executable,
        "-m",
        "forge_cli.testing.sim.upstream",
        "--port",
        "0",
        "--latency",
        str(sim.latency),
        "--jitter",
        str(sim.jitter),
        "--per-token-latency",
        str(sim.per_token_latency),
        "--failure-rate",
        str(sim.failure_rate),
        "--seed",
        str(sim.seed),
        "--api-key-env",
        SIM_KEY_ENV,
    ]
    if sim.rpm:
        args += ["--rpm", str(sim.rpm)]
    env = {**os.environ, SIM_KEY_ENV: SIM_KEY}
    proc = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    )
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip()
        if not url.startswith("http://127.0.0.1"):
            raise UsageError("the simulated upstream did not start")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            proc.kill()


def sim_provider(base_url: str, concurrency: int, timeout: float) -> Provider:
    """The simulator behind the OpenAI adapter, priced like gpt-4o-mini so cost columns mean something."""
    from forge_cli.providers.registry import ProviderSpec, build_from_spec

    os.environ.setdefault(SIM_KEY_ENV, SIM_KEY)
    return build_from_spec(
        ProviderSpec(
            name="openai",
            base_url=base_url,
            model="gpt-4o-mini",
            api_key_env=SIM_KEY_ENV,
            timeout=timeout,
            concurrency=concurrency,
        )
    )


# ------------------------------------------------------------------------------------ one run


async def run_once(
    texts: Sequence[str], provider: Provider, *, pack: int, concurrency: int, retries: int = 2
) -> RunMeasure:
    stats = RunStats()
    results, failures = MemorySink(), MemorySink()
    items = [Item(id=str(n), line=n, text=t) for n, t in enumerate(texts, 1)]
    runner = Runner(
        task=TicketTask(),
        chain=Chain.single(
            Caller(
                provider, stats, retry=default_retry_policy(retries + 1, 0.2), breaker_cooldown=2.0
            ),
            stats,
        ),
        results=results,
        failures=failures,
        stats=stats,
        cache=None,
        config=EngineConfig(concurrency=concurrency, limits=PackLimits(forced=pack)),
    )
    started = time.perf_counter()
    await runner.run(items)
    seconds = time.perf_counter() - started
    if runner.error is not None:
        raise UsageError(str(runner.error))
    latencies = sorted(r["latency_ms"] for r in results.rows if not r["cache_hit"]) or [0.0]
    done = max(1, len(results.rows))
    total = len(items)
    return RunMeasure(
        tickets=total,
        seconds=seconds,
        throughput=len(results.rows) / seconds if seconds else 0.0,
        p50_ms=_percentile(latencies, 0.50),
        p95_ms=_percentile(latencies, 0.95),
        calls=stats.calls,
        tokens_per_ticket=(stats.tokens_in + stats.tokens_out) / done,
        cost_per_1k=stats.cost / done * 1000,
        failure_pct=100.0 * len(failures.rows) / max(1, total),
        rate_limited=stats.rate_limited,
        mean_call_ms=statistics.fmean(latencies),
        out_tokens_per_call=stats.tokens_out / max(1, stats.calls),
    )


def _percentile(ordered: Sequence[float], q: float) -> float:
    index = min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))
    return float(ordered[index])


def ideal_throughput(cell: Cell, sim: SimSettings | None) -> float:
    """Tickets/s if every slot were busy from the first call to the last.

    A run of ``calls`` calls at concurrency C needs at least ceil(calls / C) rounds of one call
    latency; under a sliding one-minute limit of RPM requests, call number k cannot start before
    call k - RPM is a minute old, so n calls need at least floor((n - 1) / RPM) minutes. For long
    runs this is min(C / latency, RPM / 60) x pack. The latency is the simulator's model (base + per-token time of the
    answers it gave); against a real provider, the run's own mean call latency.
    """
    if sim is not None:
        latency = sim.latency + sim.per_token_latency * cell.median("out_tokens_per_call")
    else:
        latency = cell.median("mean_call_ms") / 1000
    latency = max(latency, 1e-3)
    calls = max(1.0, cell.median("calls"))
    seconds = math.ceil(calls / cell.concurrency) * latency
    if sim is not None and sim.rpm:
        seconds = max(seconds, (int(calls) - 1) // sim.rpm * 60 + latency)
    return cell.median("tickets") / seconds


# ----------------------------------------------------------------------------------- outputs


def best_cells(cells: Sequence[Cell]) -> tuple[Cell | None, Cell | None]:
    done = [c for c in cells if c.runs]
    if not done:
        return None, None
    fastest = max(done, key=lambda c: c.median("throughput"))
    cheapest = min(done, key=lambda c: (c.median("cost_per_1k"), -c.median("throughput")))
    return fastest, cheapest


def write_outputs(cells: Sequence[Cell], out_dir: Path, meta: dict[str, Any]) -> list[Path]:
    import orjson

    from forge_cli.ui.plot import PlotPoint, write_svg

    out_dir.mkdir(parents=True, exist_ok=True)
    rows = [c.row() for c in cells if c.runs]
    fastest, cheapest = best_cells(cells)
    for row in rows:
        row["best_throughput"] = fastest is not None and (row["pack"], row["concurrency"]) == (
            fastest.pack,
            fastest.concurrency,
        )
        row["best_cost"] = cheapest is not None and (row["pack"], row["concurrency"]) == (
            cheapest.pack,
            cheapest.concurrency,
        )
    json_path = out_dir / "bench.json"
    json_path.write_bytes(
        orjson.dumps(
            {**meta, "cells": rows, "runs": [asdict(c) for c in cells if c.runs]},
            option=orjson.OPT_INDENT_2,
        )
    )
    csv_path = out_dir / "bench.csv"
    with csv_path.open("w", newline="", encoding="utf-8") as f:
        if rows:
            writer = csv.DictWriter(f, fieldnames=list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    points = [
        PlotPoint(
            r["pack"],
            r["concurrency"],
            r["throughput"],
            r["cost_per_1k"],
            r["best_throughput"],
            r["best_cost"],
        )
        for r in rows
    ]
    svg_path = write_svg(points, out_dir / "bench.svg", title=str(meta.get("title", "forge bench")))
    return [json_path, csv_path, svg_path]


def recommendation(cells: Sequence[Cell]) -> str:
    fastest, cheapest = best_cells(cells)
    if fastest is None or cheapest is None:
        return "no cell finished"
    text = (
        f"fastest: --pack {fastest.pack} --concurrency {fastest.concurrency} "
        f"({fastest.median('throughput'):,.1f} tickets/s, {fastest.efficiency:.2f} of ideal)"
    )
    if (cheapest.pack, cheapest.concurrency) != (fastest.pack, fastest.concurrency):
        text += (
            f"; cheapest: --pack {cheapest.pack} --concurrency {cheapest.concurrency} "
            f"(${cheapest.median('cost_per_1k'):.4f} per 1,000 tickets)"
        )
    else:
        text += f", also the cheapest (${cheapest.median('cost_per_1k'):.4f} per 1,000 tickets)"
    return text


# ------------------------------------------------------------------------------------- sweep


@dataclass(slots=True)
class SweepPlan:
    texts: list[str]
    packs: list[int]
    concurrencies: list[int]
    repeat: int
    sim: SimSettings | None
    timeout: float = 30.0


def sweep(
    plan: SweepPlan,
    *,
    provider_factory: Any = None,
    on_run: Any = None,
) -> tuple[list[Cell], bool]:
    """Run every cell ``repeat`` times; return the cells and whether it was interrupted.

    Ctrl-C stops at once: the run in progress is dropped, finished runs and cells are kept.
    """
    cells = [Cell(p, c) for p in plan.packs for c in plan.concurrencies]
    try:
        for cell in cells:
            for _ in range(plan.repeat):
                measure = _one(plan, cell, provider_factory)
                cell.runs.append(measure)
                if on_run is not None:
                    on_run(cell, measure)
            cell.ideal = ideal_throughput(cell, plan.sim)
    except KeyboardInterrupt:
        for cell in cells:
            if cell.runs and not cell.ideal:
                cell.ideal = ideal_throughput(cell, plan.sim)
        return cells, True
    return cells, False


def _one(plan: SweepPlan, cell: Cell, provider_factory: Any) -> RunMeasure:
    async def go(provider: Provider) -> RunMeasure:
        try:
            return await run_once(
                plan.texts, provider, pack=cell.pack, concurrency=cell.concurrency
            )
        finally:
            await provider.aclose()

    if plan.sim is None:
        return asyncio.run(go(provider_factory(cell.concurrency)))
    with simulator(plan.sim) as url:
        return asyncio.run(go(sim_provider(url, cell.concurrency, plan.timeout)))


def estimate_spend(plan: SweepPlan, provider: Provider) -> tuple[int, float]:
    """Calls and USD a sweep against a paid provider would cost, before asking to go on."""
    task = TicketTask()
    calls, cost = 0, 0.0
    for pack in plan.packs:
        packs = [plan.texts[i : i + pack] for i in range(0, len(plan.texts), pack)]
        tokens_in = tokens_out = 0
        for chunk in packs:
            tin, tout = task.estimate_request_tokens(chunk)
            tokens_in, tokens_out = tokens_in + tin, tokens_out + tout
        runs = len(plan.concurrencies) * plan.repeat
        calls += math.ceil(len(plan.texts) / pack) * runs
        cost += runs * (tokens_in * provider.price_in + tokens_out * provider.price_out) / 1e6
    return calls, cost
