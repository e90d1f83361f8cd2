"""``forge bench``: read the dataset, confirm spending, run the sweep with progress, report."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from rich import box
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn
from rich.table import Table

from forge_cli.app.bench import (
    Cell,
    RunMeasure,
    SimSettings,
    SweepPlan,
    best_cells,
    estimate_spend,
    recommendation,
    sweep,
    write_outputs,
)
from forge_cli.app.settings import BenchSettings, RunSettings
from forge_cli.core.errors import UsageError
from forge_cli.core.models import Item
from forge_cli.io.sources import open_source


def parse_ints(value: str, name: str) -> list[int]:
    try:
        numbers = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"{name}: give whole numbers separated by commas, not {value!r}") from None
    if not numbers or any(n < 1 for n in numbers):
        raise UsageError(f"{name}: give positive numbers separated by commas")
    return sorted(set(numbers))


def load_texts(path: str, limit: int | None) -> list[str]:
    """Distinct usable texts: duplicates would ride along on one call and flatter the figures."""
    from forge_cli.engine.cache import normalise

    texts: list[str] = []
    seen: set[str] = set()
    with open_source(path) as source:
        for record in source:
            if isinstance(record, Item) and normalise(record.text) not in seen:
                seen.add(normalise(record.text))
                texts.append(record.text)
                if limit and len(texts) >= limit:
                    break
    if not texts:
        raise UsageError(f"{path}: no usable records to benchmark with")
    return texts


def load_default_texts(limit: int | None) -> list[str]:
    """The sample tickets installed as package data: a checkout's samples/ is not there once
    forge is installed, and bench without arguments must work from any folder."""
    from importlib.resources import as_file, files

    with as_file(files("forge_cli") / "data" / "tickets.jsonl") as path:
        return load_texts(str(path), limit)


def run_bench(settings: BenchSettings, err: Console) -> int:
    name = settings.input or "sample tickets"
    if settings.input is None:
        texts = load_default_texts(settings.limit)
    else:
        texts = load_texts(settings.input, settings.limit)
    sim = SimSettings(
        settings.latency,
        settings.per_token_latency,
        settings.jitter,
        settings.rpm,
        settings.failure_rate,
    )
    plan = SweepPlan(
        texts,
        parse_ints(settings.packs, "--packs"),
        parse_ints(settings.concurrency, "--concurrency"),
        settings.repeat,
        sim,
        settings.timeout,
    )
    if settings.provider and settings.provider != "sim":
        plan.sim = None
        plan.target = _target(settings)
        calls, cost = estimate_spend(plan, *_prices(plan.target))
        err.print(
            f"forge bench against {settings.provider}: about {calls:,} calls, "
            f"estimated ${cost:.4f} ({len(texts):,} tickets x {len(plan.packs)} packs x "
            f"{len(plan.concurrencies)} concurrencies x {plan.repeat} repeats)",
            soft_wrap=True,
        )
        if not settings.yes:
            if not sys.stdin.isatty():
                raise UsageError("a sweep against a paid provider needs --yes when not interactive")
            if input("go on? [y/N] ").strip().lower() not in ("y", "yes"):
                err.print("forge: nothing called")
                return 0
    total = len(plan.packs) * len(plan.concurrencies) * plan.repeat
    if settings.quiet:
        cells, interrupted = sweep(plan, on_run=lambda cell, run: None)
    else:
        cells, interrupted = _sweep_with_progress(plan, total, err)
    meta = {
        "title": f"forge bench: {Path(name).name}, {len(texts)} tickets",
        "input": name,
        "tickets": len(texts),
        "provider": settings.provider or "simulated upstream",
        "simulator": None
        if plan.sim is None
        else {
            "latency_s": plan.sim.latency,
            "per_token_latency_s": plan.sim.per_token_latency,
            "jitter": plan.sim.jitter,
            "rpm": plan.sim.rpm,
            "failure_rate": plan.sim.failure_rate,
        },
        "repeat": plan.repeat,
        "interrupted": interrupted,
    }
    paths = write_outputs(cells, settings.out_dir, meta)
    Console(width=None if sys.stdout.isatty() else 120).print(results_table(cells))
    if not settings.quiet:
        err.print(f"forge bench: {recommendation(cells)}", soft_wrap=True)
        err.print("wrote " + ", ".join(str(p) for p in paths), soft_wrap=True)
    if interrupted:
        err.print("forge bench: interrupted; the finished cells are kept")
        return 130
    return 0


def _target(settings: BenchSettings) -> RunSettings:
    if settings.provider and "," in settings.provider:
        raise UsageError("bench sweeps one provider: give one name to --provider, not a chain")
    return RunSettings(
        provider=settings.provider,
        base_url=settings.base_url,
        model=settings.model,
        api_key_env=settings.api_key_env,
        timeout=settings.timeout,
    )


def _prices(target: RunSettings) -> tuple[float, float]:
    """The provider's prices, building it once: a missing key or unknown name fails here, early."""
    from forge_cli.app.assemble import chain_configs, price_table
    from forge_cli.providers.registry import build_provider

    probe = build_provider(chain_configs(target)[0], price_table(target))
    try:
        return probe.price_in, probe.price_out
    finally:
        asyncio.run(probe.aclose())


def _sweep_with_progress(plan: SweepPlan, total: int, err: Console) -> tuple[list[Cell], bool]:
    if err.is_terminal:
        progress = Progress(
            TextColumn("[bold]bench"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.description}"),
            console=err,
        )
        with progress:
            task = progress.add_task("", total=total)

            def on_run(cell: Cell, run: RunMeasure) -> None:
                progress.update(
                    task,
                    advance=1,
                    description=(
                        f"pack {cell.pack} x concurrency {cell.concurrency}: "
                        f"{run.throughput:,.1f} tickets/s"
                    ),
                )

            return sweep(plan, on_run=on_run)
    done = 0

    def on_plain(cell: Cell, run: RunMeasure) -> None:
        nonlocal done
        done += 1
        err.print(
            f"forge bench: {done}/{total} pack {cell.pack} x concurrency "
            f"{cell.concurrency}: {run.throughput:,.1f} tickets/s",
            soft_wrap=True,
        )

    return sweep(plan, on_run=on_plain)


def results_table(cells: list[Cell]) -> Table:
    fastest, cheapest = best_cells(cells)
    table = Table(title="forge bench (medians)", box=box.SIMPLE_HEAD, padding=(0, 1))
    for name in (
        "pack",
        "conc",
        "tickets/s",
        "p50 ms",
        "p95 ms",
        "calls",
        "tok/t",
        "$/1k",
        "fail%",
        "429s",
        "eff",
        "best",
    ):
        table.add_column(
            name, justify="left" if name == "best" else "right", no_wrap=True, min_width=len(name)
        )
    for cell in cells:
        if not cell.runs:
            continue
        best = " ".join(
            name for name, hit in (("speed", cell is fastest), ("cost", cell is cheapest)) if hit
        )
        table.add_row(
            str(cell.pack),
            str(cell.concurrency),
            f"{cell.median('throughput'):,.1f}",
            f"{cell.median('p50_ms'):,.0f}",
            f"{cell.median('p95_ms'):,.0f}",
            f"{cell.median('calls'):,.0f}",
            f"{cell.median('tokens_per_ticket'):,.0f}",
            f"{cell.median('cost_per_1k'):.4f}",
            f"{cell.median('failure_pct'):.1f}",
            f"{cell.median('rate_limited'):,.0f}",
            f"{cell.efficiency:.2f}",
            best,
        )
    return table
