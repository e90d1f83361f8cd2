"""What a person sees while a run goes: a Rich live view on a terminal, plain lines elsewhere.

Both views sample ``RunStats`` on a timer rather than being told about every record, so the engine's
hot path never waits on rendering. Everything goes to stderr: stdout stays free for ``--json-summary``.
"""

from __future__ import annotations

import asyncio
import contextlib
import sys
from collections.abc import AsyncIterator, Callable
from typing import TextIO

from rich.console import Console, Group, RenderableType
from rich.live import Live
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TaskProgressColumn, TextColumn
from rich.table import Table
from rich.text import Text

from forge_cli.core.models import Complexity
from forge_cli.engine.stats import RunStats
from forge_cli.ui.providers import live_providers, providers_fragment, summary_providers

PLAIN_INTERVAL = 5.0


def fmt_duration(seconds: float | None) -> str:
    if seconds is None:
        return "--"
    seconds = int(max(0, seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def status_line(stats: RunStats) -> str:
    """One line for logs and pipes; with a chain of several providers, a fragment for each."""
    total = f"/{stats.total_hint}" if stats.total_hint else ""
    line = (
        f"forge: {stats.finished_records}{total} records, {stats.done} done, {stats.failed} failed, "
        f"{stats.cached} cached | {stats.rate:.1f}/s | ETA {fmt_duration(stats.eta())} | "
        f"retries {stats.retries}, 429s {stats.rate_limited} | breaker {stats.breaker_state} | "
        f"tokens {stats.tokens_in + stats.tokens_out:,} ${stats.cost:.4f}"
    )
    fragment = providers_fragment(stats)
    return f"{line} | {fragment}" if fragment else line


class LiveView:
    """The Rich view: progress bar, per-class counts, the run's health and one row per provider."""

    def __init__(self, stats: RunStats, console: Console) -> None:
        self.stats = stats
        self.console = console
        self.progress = Progress(
            TextColumn("[bold]classify"),
            BarColumn(),
            MofNCompleteColumn(),
            TaskProgressColumn(),
            TextColumn("{task.fields[rate]}/s  ETA {task.fields[eta]}"),
            console=console,
        )
        self.task_id = self.progress.add_task("run", total=stats.total_hint, rate="0", eta="--")

    def render(self) -> Group:
        stats = self.stats
        self.progress.update(
            self.task_id,
            completed=stats.finished_records,
            total=stats.read
            if stats.finished
            else (max(stats.total_hint or 0, stats.read) or None),
            rate=f"{stats.rate:,.0f}",
            eta=fmt_duration(stats.eta()),
        )
        parts: list[RenderableType] = [self.progress.get_renderable(), _class_table(stats)]
        parts += _health_lines(stats)
        providers = live_providers(stats)
        if providers is not None:
            parts += [Text(), providers]
        return Group(*parts)


def _class_table(stats: RunStats) -> Table:
    table = Table(box=None, padding=(0, 2), show_edge=False)
    table.add_column("class")
    for name in ("queued", "done", "failed", "cached"):
        table.add_column(name, justify="right")
    for cls in (Complexity.COMPLEX, Complexity.MEDIUM, Complexity.SIMPLE):
        table.add_row(
            cls.value,
            f"{max(0, stats.queued_by_class[cls]):,}",
            f"{stats.done_by_class[cls]:,}",
            f"{stats.failed_by_class[cls]:,}",
            f"{stats.cached_by_class[cls]:,}",
        )
    return table


def _health_lines(stats: RunStats) -> list[Text]:
    """The run's calls and errors, and its breaker and spend."""
    colour = {"closed": "green", "open": "red", "half_open": "yellow"}.get(
        stats.breaker_state, "white"
    )
    calls = Text(
        f"{stats.provider}/{stats.model}  calls {stats.calls:,}  retries {stats.retries}  "
        f"429s {stats.rate_limited}  timeouts {stats.timeouts}  5xx {stats.upstream_errors}"
    )
    health = Text.assemble(
        "breaker ",
        (stats.breaker_state, colour),
        f"  tokens {stats.tokens_in + stats.tokens_out:,}  est. ${stats.cost:.4f}",
    )
    return [calls, health]


@contextlib.asynccontextmanager
async def progress_view(
    stats: RunStats, *, live: bool = True, stream: TextIO | None = None
) -> AsyncIterator[None]:
    """Show progress while the body runs: live on a TTY, a plain line every few seconds otherwise."""
    stream = stream or sys.stderr
    if live and stream.isatty():
        console = Console(file=stream)
        view = LiveView(stats, console)
        with Live(view.render(), console=console, refresh_per_second=4, transient=False) as screen:
            ticker = asyncio.create_task(_tick(lambda: screen.update(view.render()), 0.25))
            try:
                yield
            finally:
                ticker.cancel()
                screen.update(view.render())
        return
    ticker = asyncio.create_task(
        _tick(lambda: print(status_line(stats), file=stream, flush=True), PLAIN_INTERVAL)
    )
    try:
        yield
    finally:
        ticker.cancel()


async def _tick(action: Callable[[], object], interval: float) -> None:
    while True:
        await asyncio.sleep(interval)
        action()


def summary_table(stats: RunStats, results: str, failures: str) -> Group:
    """The end-of-run summary: the run's notices, its totals, then one row per provider."""
    providers = summary_providers(stats)
    return Group(
        _totals_table(stats, results, failures),
        *([Text(), *providers] if providers else []),
    )


def _totals_table(stats: RunStats, results: str, failures: str) -> Table:
    """The run as a whole: records, calls, breaker, tokens, time and the output files."""
    table = Table(title="forge classify", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold")
    table.add_column()
    s = stats.summary()
    table.add_row("provider", f"{s['provider']} / {s['model']}")
    table.add_row(
        "records",
        f"{s['records']:,}: {s['done']:,} done ({s['cached']:,} from cache or dedup), {s['failed']:,} failed"
        + (f" ({s['input_failed']:,} unusable input)" if s["input_failed"] else ""),
    )
    table.add_row(
        "calls",
        f"{s['calls']:,} in {s['packs']:,} packs, {s['retries']} retries, "
        f"{s['rate_limited']} rate-limited, {s['timeouts']} timeouts, "
        f"{s['upstream_errors']} upstream errors, {s['reasked']} items re-asked",
    )
    if "cascade" in s:
        c = s["cascade"]
        table.add_row(
            "cascade",
            f"{c['local']:,} answered by {c['local_stage']}, {c['chain']:,} by the chain; "
            f"saved est. ${c['saved_usd']:.4f}",
        )
    if stats.pack_probe_line:
        table.add_row("pack probe", stats.pack_probe_line)
    table.add_row("breaker", f"opened {s['breaker_opened']}x, closed again {s['breaker_closed']}x")
    table.add_row(
        "tokens",
        f"{s['tokens_in']:,} in, {s['tokens_out']:,} out, est. ${s['cost_usd']:.4f}",
    )
    table.add_row("time", f"{fmt_duration(s['elapsed_s'])} ({s['records_per_s']:,.1f} records/s)")
    table.add_row("results", results)
    table.add_row("failures", failures)
    if stats.aborted:
        # each dropped provider's reason has its own line, printed when it was dropped
        dropped = [p.name for p in stats.providers.values() if p.dropped is not None]
        said = f"{', '.join(dropped)} dropped, see above" if dropped else stats.aborted
        table.add_row("aborted", Text(f"no provider left ({said})", style="red"))
    return table
