"""Per-provider rendering for the views in ``ui.py``: one row (or fragment) per provider of the chain.

The live view and the summary show the providers whenever the run has any (a single offline run
gets its one row); the plain progress line adds a fragment only when there is more than one
provider, since its totals already describe a single one. Tables fall back to a narrower layout
when the terminal is too small for every column.
"""

from __future__ import annotations

from collections.abc import Iterable

from rich.console import Console, ConsoleOptions, RenderableType, RenderResult
from rich.measure import Measurement
from rich.table import Table
from rich.text import Text

from forge_cli.engine.stats import ProviderStats, RunStats

DASH = "—"
#: width to measure a renderable's natural size against
UNBOUNDED = 100_000

#: state of a provider whose breaker is not closed: label and colour
_STATES = {"open": ("breaker open", "red"), "half_open": ("half-open", "yellow")}


class Fit:
    """The first of ``choices`` whose natural width fits the console, else the last one."""

    def __init__(self, *choices: RenderableType) -> None:
        self.choices = choices

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        unbounded = options.update_width(UNBOUNDED)  # Measurement.get clamps to the width given
        for choice in self.choices[:-1]:
            if Measurement.get(console, unbounded, choice).maximum <= options.max_width:
                yield choice
                return
        yield self.choices[-1]


def fmt_ms(ms: float | None) -> str:
    """Latency in ms: one decimal below 10 ms, whole ms above, a dash before any answer."""
    if ms is None:
        return DASH
    return f"{ms:.1f}" if ms < 10 else f"{ms:,.0f}"


def fmt_rpm(rpm: float | None) -> str:
    return DASH if rpm is None else f"{rpm:,.0f}"


def fmt_cost(cost: float) -> str:
    return f"${cost:.4f}"


def fmt_count(n: int) -> str:
    """Compact count for the live view: 9,999, then 52.0k, 1.2M."""
    if n < 10_000:
        return f"{n:,}"
    return f"{n / 1000:.1f}k" if n < 1_000_000 else f"{n / 1_000_000:.1f}M"


def label(p: ProviderStats, sep: str = "/") -> Text:
    """``name/model`` (or the name alone), as Text so brackets in names are not markup."""
    return Text(f"{p.name}{sep}{p.model}" if p.model else p.name)


def provider_state(p: ProviderStats) -> Text:
    """ok / breaker open / half-open / dropped, coloured."""
    if p.dropped is not None:
        return Text("dropped", style="bold red")
    name, colour = _STATES.get(p.breaker_state, ("ok", "green"))
    return Text(name, style=colour)


def _table(title: str | None = None, *, footer: bool = False) -> Table:
    return Table(
        title=title,
        box=None,
        padding=(0, 1),
        show_edge=False,
        header_style="bold",
        show_footer=footer,
        footer_style="bold",
    )


def _numeric_columns(table: Table, names: Iterable[str]) -> None:
    for name in names:
        table.add_column(name, justify="right", no_wrap=True)


# -- live view ---------------------------------------------------------------------------------


def live_providers(stats: RunStats) -> RenderableType | None:
    """One row per provider, every column if the terminal is wide enough; None without providers."""
    if not stats.providers:
        return None
    return Fit(_live_wide(stats), _live_narrow(stats))


def _live_wide(stats: RunStats) -> Table:
    table = _table()
    table.add_column("provider", no_wrap=True)
    table.add_column("state", no_wrap=True)
    names = ("calls", "items", "429", "errors", "p50 ms", "p95 ms", "limit", "rpm", "tok in/out")
    _numeric_columns(table, (*names, "cost"))
    for p in stats.providers.values():
        table.add_row(
            label(p),
            provider_state(p),
            f"{p.calls:,}",
            f"{p.items:,}",
            f"{p.rate_limited:,}",
            f"{p.errors:,}",
            fmt_ms(p.percentile(0.5)),
            fmt_ms(p.percentile(0.95)),
            f"{p.concurrency:,}",
            fmt_rpm(p.rpm),
            f"{fmt_count(p.tokens_in)}/{fmt_count(p.tokens_out)}",
            fmt_cost(p.cost),
        )
    return table


def _live_narrow(stats: RunStats) -> Table:
    table = _table()
    table.add_column("provider", no_wrap=True, overflow="ellipsis")
    table.add_column("state", no_wrap=True)
    _numeric_columns(table, ("calls", "429", "errors", "p95 ms", "limit", "rpm", "cost"))
    for p in stats.providers.values():
        table.add_row(
            Text(p.name),
            provider_state(p),
            f"{p.calls:,}",
            f"{p.rate_limited:,}",
            f"{p.errors:,}",
            fmt_ms(p.percentile(0.95)),
            f"{p.concurrency:,}",
            fmt_rpm(p.rpm),
            fmt_cost(p.cost),
        )
    return table


# -- plain progress line -----------------------------------------------------------------------


def provider_fragment(p: ProviderStats) -> str:
    """``groq 120 ok/3 429``, plus the state when it is not ok."""
    text = f"{p.name} {p.ok:,} ok"
    if p.rate_limited:
        text += f"/{p.rate_limited:,} 429"
    if p.dropped is not None:
        return f"{text} dropped"
    state, _ = _STATES.get(p.breaker_state, ("", ""))
    return f"{text} {state}" if state else text


def providers_fragment(stats: RunStats) -> str | None:
    """The plain progress line's per-provider part; None unless the chain has several providers."""
    if len(stats.providers) < 2:
        return None
    return " | ".join(provider_fragment(p) for p in stats.providers.values())


# -- end-of-run summary ------------------------------------------------------------------------


def summary_providers(stats: RunStats) -> list[RenderableType]:
    """Per-provider section of the summary: a table, or lines when narrow.

    Its totals are the run's own tokens and cost, so they match the figures above it. A dropped
    provider is marked so; why is the one line printed when it was dropped, not repeated here.
    """
    if not stats.providers:
        return []
    return [Fit(_summary_wide(stats), _summary_narrow(stats))]


def _summary_wide(stats: RunStats) -> Table:
    table = _table("providers", footer=True)
    table.add_column("provider", footer="total", no_wrap=True)
    _numeric_columns(table, ("calls", "items", "errors", "429", "timeout", "5xx", "fallback"))
    _numeric_columns(table, ("p50 ms", "p95 ms"))
    totals = (f"{stats.tokens_in:,}", f"{stats.tokens_out:,}", fmt_cost(stats.cost))
    for name, total in zip(("tokens in", "tokens out", "cost"), totals, strict=True):
        table.add_column(name, footer=total, justify="right", no_wrap=True)
    for p in stats.providers.values():
        table.add_row(
            _marked(label(p, " / "), p),
            f"{p.calls:,}",
            f"{p.items:,}",
            f"{p.errors:,}",
            f"{p.rate_limited:,}",
            f"{p.timeouts:,}",
            f"{p.upstream_errors:,}",
            f"{p.fallbacks:,}",
            fmt_ms(p.percentile(0.5)),
            fmt_ms(p.percentile(0.95)),
            f"{p.tokens_in:,}",
            f"{p.tokens_out:,}",
            fmt_cost(p.cost),
        )
    return table


def _summary_narrow(stats: RunStats) -> Table:
    table = Table(title="providers", show_header=False, box=None, padding=(0, 2))
    table.add_column(style="bold", no_wrap=True)
    table.add_column()
    for p in stats.providers.values():
        table.add_row(_marked(Text(p.name), p), Text(_summary_sentence(p)))
    table.add_row(
        "total",
        f"tokens {stats.tokens_in:,} in, {stats.tokens_out:,} out, {fmt_cost(stats.cost)}",
    )
    return table


def _marked(name: Text, p: ProviderStats) -> Text:
    """The provider's name, with "dropped" after it when it was dropped for the run."""
    if p.dropped is not None:
        name.append(" dropped", style="bold red")
    return name


def _summary_sentence(p: ProviderStats) -> str:
    model = f"{p.model}: " if p.model else ""
    other = f", {p.other_errors:,} other" if p.other_errors else ""
    p50, p95 = p.percentile(0.5), p.percentile(0.95)
    latency = "no answers" if p50 is None else f"p50 {fmt_ms(p50)} ms, p95 {fmt_ms(p95)} ms"
    return (
        f"{model}{p.calls:,} calls, {p.items:,} items, {p.errors:,} errors ({p.rate_limited:,} "
        f"429, {p.timeouts:,} timeout, {p.upstream_errors:,} 5xx{other}), "
        f"{p.fallbacks:,} fallbacks; {latency}; "
        f"tokens {p.tokens_in:,} in, {p.tokens_out:,} out, {fmt_cost(p.cost)}"
    )
