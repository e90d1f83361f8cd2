"""A confusion matrix as a terminal table and as a dependency-free SVG heat map.

Hand-written SVG for the reason ``plot.py`` gives (forge stays light to install); the matrix comes
in as plain labels and counts so the drawing knows nothing of how it was scored. Cells are shaded by
their share of the gold row, not by raw count, so a rare label's errors are as visible as a common
one's: blue on the diagonal (right), vermillion off it (wrong), from the Okabe-Ito palette that
stays distinguishable under the common colour-vision deficiencies.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from pathlib import Path

from rich.table import Table
from rich.text import Text

__all__ = ["confusion_table", "render_confusion_svg", "write_confusion_svg"]

RIGHT, WRONG, EMPTY = "#0072B2", "#D55E00", "#f4f4f4"
CELL = 46
CHAR_W = 7.0  # generous width of a 12px glyph, to size the label margins
MAX_LABEL_CHARS = 32
PAD = 20


def _short(label: str) -> str:
    return label if len(label) <= MAX_LABEL_CHARS else label[: MAX_LABEL_CHARS - 1] + "…"


def confusion_table(
    rows: Sequence[str], columns: Sequence[str], counts: Sequence[Sequence[int]]
) -> Table:
    """Gold down, predicted across; right answers in green, wrong ones in red, zeros as dots."""
    table = Table(show_lines=False)
    table.add_column("gold \\ predicted", style="bold", no_wrap=True)
    for column in columns:  # labels are user data: Text, never read as Rich markup
        table.add_column(Text(_short(column)), justify="right")
    table.add_column("total", justify="right", style="dim")
    for label, row in zip(rows, counts, strict=True):
        cells = []
        for column, count in zip(columns, row, strict=True):
            if count == 0:
                cells.append(Text("·", style="dim"))
            else:
                style = "green" if column == label else "red"
                cells.append(Text(f"{count:,}", style=style))
        table.add_row(Text(_short(label)), *cells, f"{sum(row):,}")
    return table


def _text(x: float, y: float, s: str, extra: str = "") -> str:
    """Every label goes through here so nothing reaches the SVG unescaped."""
    return f'<text x="{x:.1f}" y="{y:.1f}" {extra}>{escape(s)}</text>'


def render_confusion_svg(
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    subtitle: str = "",
) -> str:
    """The matrix as a standalone SVG: one shaded square per cell with its count, totals at the right."""
    left = PAD + CHAR_W * max((len(_short(r)) for r in rows), default=4) + 12
    # column labels are drawn at 45 degrees: their height is their length / sqrt(2)
    top = 78 + CHAR_W * max((len(_short(c)) for c in columns), default=4) * 0.72
    subtitle = subtitle or "rows: gold; columns: predicted; shade: share of the gold row"
    grid = left + CELL * (len(columns) + 1) + PAD + 40
    # 16px bold title, 12px subtitle: widen the image rather than clip a line
    width = max(grid, 2 * PAD + 9.5 * len(title), 2 * PAD + 6.0 * len(subtitle))
    height = top + CELL * max(len(rows), 1) + 56
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width:.0f}" height="{height:.0f}" '
        f'viewBox="0 0 {width:.0f} {height:.0f}" font-family="Helvetica, Arial, sans-serif" '
        'font-size="12" fill="#222">',
        f"<title>{escape(title)}</title>",
        f'<rect width="{width:.0f}" height="{height:.0f}" fill="#fff"/>',
        _text(PAD, 26, title, 'font-size="16" font-weight="bold"'),
        _text(PAD, 46, subtitle),
    ]
    for j, column in enumerate(columns):
        x = left + CELL * j + CELL / 2
        out.append(
            _text(x, top - 8, _short(column), f'transform="rotate(-45 {x:.1f} {top - 8:.1f})"')
        )
    total_x = left + CELL * len(columns) + CELL / 2
    out.append(_text(total_x, top - 8, "total", 'text-anchor="middle" font-style="italic"'))
    for i, (label, row) in enumerate(zip(rows, counts, strict=True)):
        y = top + CELL * i
        total = sum(row)
        out.append(_text(left - 10, y + CELL / 2 + 4, _short(label), 'text-anchor="end"'))
        for j, (column, count) in enumerate(zip(columns, row, strict=True)):
            out.append(
                _cell(
                    left + CELL * j,
                    y,
                    count,
                    total,
                    right=column == label,
                    label=label,
                    column=column,
                )
            )
        out.append(
            _text(total_x, y + CELL / 2 + 4, f"{total:,}", 'text-anchor="middle" fill="#666"')
        )
    if not rows:
        out.append(_text(left, top + CELL / 2, "no gold labels", 'fill="#666"'))
    out.append(_text(left - 10, top - 8, "gold ↓", 'text-anchor="end" fill="#666"'))
    out.append(_text(left, height - 20, "predicted →", 'fill="#666"'))
    out.append("</svg>")
    return "\n".join(out) + "\n"


def _cell(
    x: float, y: float, count: int, total: int, *, right: bool, label: str, column: str
) -> str:
    share = count / total if total else 0.0
    colour = (RIGHT if right else WRONG) if count else EMPTY
    opacity = 1.0 if not count else 0.12 + 0.88 * share
    ink = "#fff" if count and opacity > 0.55 else "#222"
    tip = f"gold {label}, predicted {column}: {count:,} ({share:.0%} of {label})"
    cx, cy = x + CELL / 2, y + CELL / 2 + 4
    return (
        f"<g><title>{escape(tip)}</title>"
        f'<rect x="{x + 1:.1f}" y="{y + 1:.1f}" width="{CELL - 2}" height="{CELL - 2}" '
        f'fill="{colour}" fill-opacity="{opacity:.2f}"/>'
        + (_text(cx, cy, f"{count:,}", f'text-anchor="middle" fill="{ink}"') if count else "")
        + "</g>"
    )


def write_confusion_svg(
    path: Path,
    title: str,
    rows: Sequence[str],
    columns: Sequence[str],
    counts: Sequence[Sequence[int]],
    *,
    subtitle: str = "",
) -> Path:
    """Write the heat map; returns the path so callers can print it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        render_confusion_svg(title, rows, columns, counts, subtitle=subtitle), encoding="utf-8"
    )
    return path
