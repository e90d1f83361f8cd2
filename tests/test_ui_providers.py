"""Each provider of a chain in the live view, the plain progress line and the end-of-run summary."""

from __future__ import annotations

import io
import random

from rich.console import Console

from conftest import distinct_texts, forge, write_tickets
from forge_cli.engine.stats import ProviderStats, RunStats
from forge_cli.ui import live as ui
from forge_cli.ui.providers import fmt_count, fmt_ms, provider_state

DROP_REASON = "gemini: authentication failed (401) [bad key]"


def chain_stats() -> RunStats:
    """Two providers: groq answering with its breaker open, gemini dropped for a bad key."""
    stats = RunStats(provider="groq", model="llama-3.1-8b-instant", concurrency=8, total_hint=900)
    stats.read, stats.done, stats.failed = 640, 600, 4
    groq = ProviderStats(
        "groq",
        "llama-3.1-8b-instant",
        calls=130,
        ok=120,
        items=480,
        rate_limited=3,
        timeouts=1,
        upstream_errors=2,
        fallbacks=4,
        tokens_in=52_000,
        tokens_out=6_100,
        cost=0.0123,
        breaker_state="open",
        breaker_opened=2,
        concurrency=6,
        rpm=30.0,
    )
    # 21 samples 100..2100 ms, shuffled: p50 is the 11th (1,100), p95 the 20th (2,000)
    samples = [float(ms) for ms in range(100, 2200, 100)]
    random.Random(7).shuffle(samples)
    groq.latencies.extend(samples)
    gemini = ProviderStats(
        "gemini",
        "gemini-2.0-flash",
        calls=41,
        ok=40,
        items=120,
        other_errors=1,
        tokens_in=14_000,
        tokens_out=1_900,
        cost=0.0031,
        concurrency=4,
        dropped=DROP_REASON,
    )
    gemini.latencies.extend([8.5, 4.0, 6.5])  # p50 6.5, p95 8.5
    stats.providers = {"groq": groq, "gemini": gemini}
    stats.calls = groq.calls + gemini.calls
    stats.rate_limited = groq.rate_limited
    stats.tokens_in = groq.tokens_in + gemini.tokens_in
    stats.tokens_out = groq.tokens_out + gemini.tokens_out
    stats.cost = groq.cost + gemini.cost
    stats.notices = ["gemini dropped for this run: authentication failed; going on with groq"]
    return stats


def render(renderable: object, width: int = 160) -> str:
    console = Console(file=io.StringIO(), width=width, record=True)
    console.print(renderable)
    return console.export_text()


def row(text: str, first: str) -> list[str]:
    """The cells of the one line whose first cells are those of ``first``."""
    start = first.split()
    lines = [cells for cells in map(str.split, text.splitlines()) if cells[: len(start)] == start]
    assert len(lines) == 1, (first, text)
    return lines[0]


def summary_text(stats: RunStats, width: int = 160) -> str:
    return render(ui.summary_table(stats, "t.results.jsonl", "t.failures.jsonl"), width)


def test_summary_has_a_row_per_provider_with_latency_and_errors():
    text = summary_text(chain_stats())
    assert row(text, "provider calls")[:4] == ["provider", "calls", "items", "errors"]
    #                 calls items errors 429 timeout 5xx fallback p50 p95 in out cost
    assert row(text, "groq /")[3:] == [
        *("130", "480", "6", "3", "1", "2", "4"),
        *("1,100", "2,000", "52,000", "6,100", "$0.0123"),
    ]
    assert row(text, "gemini /")[3:] == [
        "dropped",
        *("41", "120", "1", "0", "0", "0", "0"),
        *("6.5", "8.5", "14,000", "1,900", "$0.0031"),
    ]


def test_summary_totals_equal_the_run_and_the_sum_of_providers():
    stats = chain_stats()
    text = summary_text(stats)
    providers = stats.providers.values()
    assert round(sum(p.cost for p in providers), 6) == round(stats.cost, 6) == 0.0154
    assert row(text, "total") == ["total", "66,000", "8,000", "$0.0154"]
    assert sum(p.tokens_in for p in providers) == stats.tokens_in == 66_000


def test_summary_marks_the_dropped_provider_without_repeating_why():
    for width in (160, 80):
        text = summary_text(chain_stats(), width=width)
        # the reason was printed once, on its own line, when the provider was dropped
        assert "authentication failed" not in text and "dropped for this run" not in text
        assert "gemini" in text and "dropped" in text
        assert text.index("forge classify") < text.index("providers")


def test_summary_on_a_narrow_terminal_keeps_every_figure():
    text = summary_text(chain_stats(), width=80)
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80
    flat = " ".join(text.split())
    for needle in (
        "llama-3.1-8b-instant: 130 calls, 480 items, 6 errors (3 429, 1 timeout, 2 5xx), 4 fallbacks",
        "p50 1,100 ms, p95 2,000 ms",
        "tokens 52,000 in, 6,100 out, $0.0123",
        "total tokens 66,000 in, 8,000 out, $0.0154",
        "gemini-2.0-flash: 41 calls, 120 items, 1 errors (0 429, 0 timeout, 0 5xx, 1 other)",
        "gemini dropped",
    ):
        assert needle in flat, needle


def test_narrow_summary_of_a_provider_without_answers():
    stats = chain_stats()
    stats.providers["gemini"].latencies.clear()
    flat = " ".join(summary_text(stats, width=80).split())
    assert "0 fallbacks; no answers; tokens 14,000 in" in flat


def test_summary_without_providers_has_no_provider_section():
    stats = RunStats(provider="offline", model="keywords-v1")
    text = summary_text(stats)
    assert "forge classify" in text and "providers" not in text and "total" not in text


def test_live_view_has_one_row_per_provider():
    stats = chain_stats()
    console = Console(file=io.StringIO(), width=160, record=True, force_terminal=True)
    console.print(ui.LiveView(stats, console).render())
    text = console.export_text()
    header = row(text, "provider state")
    assert header[:4] == ["provider", "state", "calls", "items"] and header[-1] == "cost"
    #      state          calls items 429 errors p50 p95 limit rpm tokens cost
    assert row(text, "groq/llama-3.1-8b-instant breaker")[1:] == [
        *("breaker", "open", "130", "480", "3", "6", "1,100", "2,000"),
        *("6", "30", "52.0k/6,100", "$0.0123"),
    ]
    assert row(text, "gemini/gemini-2.0-flash dropped")[1:] == [
        *("dropped", "41", "120", "0", "1", "6.5", "8.5", "4", "—", "14.0k/1,900", "$0.0031"),
    ]


def test_live_view_on_a_narrow_terminal_keeps_one_line_per_provider():
    stats = chain_stats()
    console = Console(file=io.StringIO(), width=80, record=True, force_terminal=True)
    console.print(ui.LiveView(stats, console).render())
    text = console.export_text()
    assert row(text, "groq breaker")[1:4] == ["breaker", "open", "130"]
    assert row(text, "gemini dropped")[1:3] == ["dropped", "41"]
    assert max(len(line.rstrip()) for line in text.splitlines()) <= 80


def test_live_view_single_offline_provider_is_one_clean_row():
    stats = RunStats(provider="offline", model="keywords-v1")
    stats.providers = {"offline": ProviderStats("offline", "keywords-v1", calls=3, ok=3, items=9)}
    console = Console(file=io.StringIO(), width=160, record=True, force_terminal=True)
    console.print(ui.LiveView(stats, console).render())
    cells = row(console.export_text(), "offline/keywords-v1 ok")
    assert cells[1:5] == ["ok", "3", "9", "0"] and cells[6:8] == ["—", "—"]


def test_provider_states_and_formats():
    p = ProviderStats("groq")
    assert provider_state(p).plain == "ok"
    p.breaker_state = "half_open"
    assert provider_state(p).plain == "half-open"
    p.breaker_state = "open"
    assert provider_state(p).plain == "breaker open"
    p.dropped = "bad key"
    assert provider_state(p).plain == "dropped"
    assert fmt_ms(None) == "—" and fmt_ms(0.34) == "0.3" and fmt_ms(1234.6) == "1,235"
    assert fmt_count(9_999) == "9,999" and fmt_count(52_000) == "52.0k"
    assert fmt_count(1_250_000) == "1.2M"


def test_status_line_has_a_provider_fragment_only_with_several_providers():
    stats = chain_stats()
    line = ui.status_line(stats)
    assert line.endswith("$0.0154 | groq 120 ok/3 429 breaker open | gemini 40 ok dropped")
    stats.providers["gemini"].dropped = None
    assert ui.status_line(stats).endswith("| gemini 40 ok")
    del stats.providers["gemini"]
    single = ui.status_line(stats)
    assert single.endswith("$0.0154") and "groq 120 ok" not in single


def test_offline_cli_run_prints_the_offline_provider_row(tmp_path):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(6))
    run = forge("classify", str(src), "--no-progress", "--json-summary")
    assert run.exit_code == 0, run.stderr
    offline = run.summary["providers"]["offline"]
    assert "providers" in run.stderr
    line = next(line for line in run.stderr.splitlines() if line.strip().startswith("offline"))
    assert offline["model"] in line
    totals = " ".join(
        next(x for x in run.stderr.splitlines() if x.strip().startswith("total")).split()
    )
    assert f"{run.summary['tokens_in']:,}" in totals and f"{run.summary['tokens_out']:,}" in totals
    assert "$0.0000" in totals


def test_offline_cli_run_without_json_summary_exits_cleanly(tmp_path):
    src = write_tickets(tmp_path / "t.jsonl", distinct_texts(4))
    run = forge("classify", str(src), "--no-progress")
    assert run.exit_code == 0, run.stderr
    assert "forge classify" in run.stderr and "providers" in run.stderr
    assert any(line.strip().startswith("offline") for line in run.stderr.splitlines())
