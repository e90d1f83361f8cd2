"""What a person sees: the live view's content and the plain progress lines."""

from __future__ import annotations

import asyncio
import io

from rich.console import Console

from forge_cli.core.models import Complexity
from forge_cli.engine.stats import RunStats
from forge_cli.ui import live as ui


def busy_stats() -> RunStats:
    stats = RunStats(provider="openai", model="gpt-4o-mini", concurrency=4, total_hint=1000)
    stats.read, stats.done, stats.failed, stats.cached = 400, 300, 7, 50
    stats.done_by_class[Complexity.COMPLEX] = 20
    stats.queued_by_class[Complexity.SIMPLE] = 93
    stats.retries, stats.rate_limited, stats.upstream_errors = 12, 3, 4
    stats.breaker_state = "open"
    stats.tokens_in, stats.tokens_out, stats.cost = 120_000, 9_000, 0.0234
    stats.eta_model.observe(Complexity.SIMPLE, 0.05)
    return stats


def test_live_view_shows_counts_health_and_breaker():
    stats = busy_stats()
    console = Console(file=io.StringIO(), width=120, record=True, force_terminal=True)
    console.print(ui.LiveView(stats, console).render())
    text = console.export_text()
    for needle in (
        "307/1000",
        "complex",
        "simple",
        "93",
        "retries 12",
        "429s 3",
        "5xx 4",
        "breaker open",
        "129,000",
        "$0.0234",
        "ETA",
    ):
        assert needle in text, needle


def test_plain_progress_writes_lines_when_not_a_tty(monkeypatch):
    monkeypatch.setattr(ui, "PLAIN_INTERVAL", 0.05)
    stream = io.StringIO()  # not a TTY
    stats = busy_stats()

    async def run() -> None:
        async with ui.progress_view(stats, live=True, stream=stream):
            await asyncio.sleep(0.18)

    asyncio.run(run())
    lines = stream.getvalue().splitlines()
    assert len(lines) >= 2
    assert lines[0].startswith("forge: 307/1000 records, 300 done, 7 failed, 50 cached")
    assert "breaker open" in lines[0] and "ETA" in lines[0]


def test_eta_uses_per_class_ewma_and_unread_lines():
    stats = RunStats(concurrency=2, total_hint=100)
    assert stats.eta() is None  # nothing observed yet
    stats.read = 50
    stats.done_by_class[Complexity.SIMPLE] = 40
    stats.queued_by_class[Complexity.SIMPLE] = 10
    stats.eta_model.observe(Complexity.SIMPLE, 0.2)
    # 10 queued + 50 unread at the same mix, 0.2 s per item over 2 slots
    assert abs(stats.eta() - (10 + 50) * 0.2 / 2) < 1e-9
    assert ui.fmt_duration(3725) == "1:02:05" and ui.fmt_duration(None) == "--"


def test_summary_table_mentions_outputs_and_abort():
    stats = busy_stats()
    stats.aborted = "openai: authentication failed"
    console = Console(file=io.StringIO(), width=140, record=True)
    console.print(ui.summary_table(stats, "a.results.jsonl", "a.failures.jsonl"))
    text = console.export_text()
    assert "a.results.jsonl" in text and "a.failures.jsonl" in text
    assert "no provider left" in text
