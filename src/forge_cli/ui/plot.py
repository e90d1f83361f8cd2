"""Dependency-free SVG chart for ``forge bench`` results.

Hand-written SVG rather than matplotlib: forge must stay light to install, and two small line
plots are easy to emit as text that any browser or CI artifact viewer opens directly.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape
from pathlib import Path

WIDTH, HEIGHT = 960, 420
PANEL_W = WIDTH // 2
PLOT_TOP, PLOT_BOTTOM = 96, HEIGHT - 64
MARGIN_L, MARGIN_R = 78, 22
LEGEND_Y, LEGEND_ROW_H = 52, 20
# Okabe-Ito: distinguishable under the common colour-vision deficiencies; yellow last, it is weak on white.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9", "#000000", "#F0E442")
# A white outline behind labels keeps them legible where they cross lines or gridlines.
HALO = 'stroke="#fff" stroke-width="4" stroke-linejoin="round" paint-order="stroke"'
CHAR_W = 7.4  # generous width of a bold 12px glyph (DejaVu is wider than Helvetica) to keep labels inside


@dataclass(frozen=True, slots=True)
class PlotPoint:
    """One measured cell of the sweep; the caller decides what is "best" so the chart never re-ranks."""

    pack: int
    concurrency: int
    throughput: float  # tickets/s (median of repeats)
    cost_per_1k: float  # USD per 1,000 tickets (0.0 for a free provider)
    best_throughput: bool = False
    best_cost: bool = False


def nice_axis(vmax: float) -> tuple[float, float, int]:
    """Return (top, step, intervals): the lowest 1-2-5 top with 3-5 intervals (4-6 gridlines).

    A 1-2-5 step with 3-5 intervals always exists because the 2-2.5-2 step ratios never exceed
    the 5/2 span of allowed interval counts.
    """
    if not math.isfinite(vmax) or vmax <= 0:
        return 1.0, 0.2, 5
    exp = math.floor(math.log10(vmax))
    best: tuple[float, float, int] | None = None
    for e in range(exp - 2, exp + 2):
        for m in (1, 2, 5):
            step = m * 10.0**e
            n = math.ceil(round(vmax / step, 9))
            if 3 <= n <= 5 and (best is None or n * step < best[0]):
                best = (n * step, step, n)
    assert best is not None
    return best


def fmt_num(v: float, decimals: int | None = None) -> str:
    """Digits follow magnitude so 0.0042 is not shown as 0.00 and 1234 gets a thousands separator."""
    if v == 0:
        return "0"
    if decimals is None:
        a = abs(v)
        decimals = (
            0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 1 - math.floor(math.log10(a))
        )
        s = f"{v:,.{min(decimals, 10)}f}"
        return s.rstrip("0").rstrip(".") if "." in s else s
    return f"{v:,.{decimals}f}"


def _text(x: float, y: float, s: str, extra: str = "") -> str:
    """Every label goes through here so nothing reaches the SVG unescaped."""
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(s)}</text>'


def _runs(idx: list[int]) -> list[list[int]]:
    """Split sorted column indices into consecutive runs, so missing cells become visible gaps."""
    runs: list[list[int]] = []
    for i in idx:
        if runs and runs[-1][-1] == i - 1:
            runs[-1].append(i)
        else:
            runs.append([i])
    return runs


def _panel(
    x0: float,
    y0: float,
    pts: Sequence[PlotPoint],
    packs: list[int],
    colours: dict[int, str],
    *,
    key: str,
    title: str,
    y_label: str,
    value: Callable[[PlotPoint], float],
    is_best: Callable[[PlotPoint], bool],
    best_label: Callable[[PlotPoint], str],
    tip: Callable[[PlotPoint], str],
    empty: str | None,
) -> list[str]:
    """Draw one panel; both panels share this so their axes and markers look identical."""
    left, right = x0 + MARGIN_L, x0 + PANEL_W - MARGIN_R
    top, bottom = y0 + PLOT_TOP, y0 + PLOT_BOTTOM
    mid_x, mid_y = (left + right) / 2, (top + bottom) / 2
    bold = 'text-anchor="middle" font-size="13" font-weight="bold"'
    out = [f'<g class="panel" id="{key}-panel">', _text(mid_x, top - 18, title, bold)]
    if empty is not None:  # axis labels would promise a chart that isn't there
        box = f'x="{left}" y="{top}" width="{right - left}" height="{bottom - top}"'
        out.append(f'<rect {box} fill="#fafafa" stroke="#ddd"/>')
        out.append(
            _text(mid_x, mid_y + 4, empty, 'text-anchor="middle" fill="#666" font-size="13"')
        )
        return [*out, "</g>"]
    rotate = f'transform="translate({x0 + 18},{mid_y}) rotate(-90)"'
    out.append(_text(0, 0, y_label, f'text-anchor="middle" {rotate}'))
    out.append(_text(mid_x, bottom + 40, "pack size (tickets per request)", 'text-anchor="middle"'))
    ymax, step, n = nice_axis(max(value(p) for p in pts))
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))

    def px(col: int) -> float:
        return left + (col + 0.5) * (right - left) / len(packs)

    def py(v: float) -> float:
        return bottom - v / ymax * (bottom - top)

    for i in range(n + 1):
        y = py(i * step)
        colour = "#888" if i == 0 else "#e6e6e6"
        out.append(f'<line x1="{left}" y1="{y:.1f}" x2="{right}" y2="{y:.1f}" stroke="{colour}"/>')
        out.append(_text(left - 8, y + 4, fmt_num(i * step, decimals), 'text-anchor="end"'))
    out.append(f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>')
    for col, pack in enumerate(packs):
        x = px(col)
        out.append(
            f'<line x1="{x:.1f}" y1="{bottom}" x2="{x:.1f}" y2="{bottom + 5}" stroke="#888"/>'
        )
        out.append(_text(x, bottom + 19, f"{pack:,}", 'text-anchor="middle"'))
    column = {pack: col for col, pack in enumerate(packs)}
    for conc, colour in colours.items():
        cells = {column[p.pack]: p for p in pts if p.concurrency == conc}
        for run in _runs(sorted(cells)):
            if len(run) > 1:
                coords = " ".join(f"{px(c):.1f},{py(value(cells[c])):.1f}" for c in run)
                out.append(
                    f'<polyline class="series" data-concurrency="{conc}" points="{coords}" '
                    f'fill="none" stroke="{colour}" stroke-width="2.5" stroke-linejoin="round"/>'
                )
        for c, p in sorted(cells.items()):
            out.append(
                f'<circle cx="{px(c):.1f}" cy="{py(value(p)):.1f}" r="4" fill="{colour}" '
                f'stroke="#fff" stroke-width="1.5"><title>{escape(tip(p))}</title></circle>'
            )
    for p in pts:  # best markers last so no series line is drawn over them
        if not is_best(p):
            continue
        x, y, label = px(column[p.pack]), py(value(p)), best_label(p)
        half = len(label) * CHAR_W / 2
        lx = min(max(x, left + half + 4), right - half - 4)
        # above or below the ring, whichever sits further from the other series in that column
        others = [py(value(q)) for q in pts if q.pack == p.pack and q is not p]
        spots = [s for s in (y - 16, y + 26) if top + 12 <= s <= bottom - 4] or [y - 16]
        ly = max(spots, key=lambda s: min((abs(s - 4 - o) for o in others), default=99.0))
        out.append(
            f'<circle class="best" cx="{x:.1f}" cy="{y:.1f}" r="10" fill="none" '
            'stroke="#222" stroke-width="2"/>'
        )
        out.append(_text(lx, ly, label, f'text-anchor="middle" font-weight="bold" {HALO}'))
    return [*out, "</g>"]


def render_svg(points: Sequence[PlotPoint], *, title: str = "forge bench") -> str:
    """Render the sweep as a standalone SVG; missing cells (an interrupted sweep) leave gaps."""
    pts = [p for p in points if math.isfinite(p.throughput) and math.isfinite(p.cost_per_1k)]
    packs = sorted({p.pack for p in pts})
    colours = {
        c: PALETTE[i % len(PALETTE)] for i, c in enumerate(sorted({p.concurrency for p in pts}))
    }
    # one width for all items (sized for the longest label) keeps wrapped rows aligned
    item_w = 48 + CHAR_W * max((len(f"concurrency {c}") for c in colours), default=0)
    per_row = max(1, int((WIDTH - 40) // item_w))
    shift = LEGEND_ROW_H * max(0, math.ceil(len(colours) / per_row) - 1)
    height = HEIGHT + shift
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12" fill="#222">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{WIDTH}" height="{height}" fill="#fff"/>',
        _text(20, 28, title, 'font-size="16" font-weight="bold"'),
    ]
    items = list(colours.items())
    for r in range(0, len(items), per_row):
        row = items[r : r + per_row]
        x = (WIDTH - len(row) * item_w) / 2
        y = LEGEND_Y + LEGEND_ROW_H * (r // per_row)
        for conc, colour in row:
            out.append(
                f'<g class="legend-item" data-concurrency="{conc}">'
                f'<line x1="{x:.1f}" y1="{y - 4}" x2="{x + 24:.1f}" y2="{y - 4}" '
                f'stroke="{colour}" stroke-width="2.5"/>'
                f'<circle cx="{x + 12:.1f}" cy="{y - 4}" r="4" fill="{colour}"/>'
                + _text(x + 30, y, f"concurrency {conc}")
                + "</g>"
            )
            x += item_w
    no_data = "no data" if not pts else None
    free = all(p.cost_per_1k == 0 for p in pts)
    out += _panel(
        0,
        shift,
        pts,
        packs,
        colours,
        key="throughput",
        title="throughput (tickets/s) vs pack size",
        y_label="tickets/s",
        value=lambda p: p.throughput,
        is_best=lambda p: p.best_throughput,
        best_label=lambda p: f"best throughput ({fmt_num(p.throughput)}/s)",
        tip=lambda p: (
            f"pack {p.pack}, concurrency {p.concurrency}: {fmt_num(p.throughput)} tickets/s"
        ),
        empty=no_data,
    )
    out += _panel(
        PANEL_W,
        shift,
        pts,
        packs,
        colours,
        key="cost",
        title="cost per 1,000 tickets (USD) vs pack size",
        y_label="USD per 1,000 tickets",
        value=lambda p: p.cost_per_1k,
        is_best=lambda p: p.best_cost,
        best_label=lambda p: f"best cost (${fmt_num(p.cost_per_1k)})",
        tip=lambda p: f"pack {p.pack}, concurrency {p.concurrency}: ${fmt_num(p.cost_per_1k)} / 1k",
        empty=no_data or ("no cost (free provider)" if free else None),
    )
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_svg(points: Sequence[PlotPoint], path: Path, *, title: str = "forge bench") -> Path:
    """Write the chart next to the bench results; returns the path so callers can print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_svg(points, title=title), encoding="utf-8")
    return path
