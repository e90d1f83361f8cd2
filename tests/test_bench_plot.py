"""The bench chart is only looked at by humans, so these tests pin its structure, not its pixels."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from forge_cli.ui.plot import PlotPoint, fmt_num, nice_axis, render_svg, write_svg

NS = "{http://www.w3.org/2000/svg}"
PACKS = (1, 5, 10, 20)
CONCS = (1, 4, 8)


def sweep(*, free: bool = False) -> list[PlotPoint]:
    points = [
        PlotPoint(p, c, throughput=c * p / (1 + 0.05 * c * p), cost_per_1k=0.0 if free else 0.4 / p)
        for c in CONCS
        for p in PACKS
    ]
    best_t = max(points, key=lambda q: q.throughput)
    best_c = min(points, key=lambda q: (q.cost_per_1k, -q.throughput))
    return [
        PlotPoint(q.pack, q.concurrency, q.throughput, q.cost_per_1k, q is best_t, q is best_c)
        for q in points
    ]


def parse(svg: str) -> ET.Element:
    root = ET.fromstring(svg)
    assert root.tag == f"{NS}svg"
    return root


def panel(root: ET.Element, key: str) -> ET.Element:
    found = root.find(f".//{NS}g[@id='{key}-panel']")
    assert found is not None
    return found


def texts(el: ET.Element) -> list[str]:
    return ["".join(t.itertext()) for t in el.iter(f"{NS}text")]


def polylines(el: ET.Element) -> list[ET.Element]:
    return el.findall(f".//{NS}polyline")


def test_full_sweep_structure() -> None:
    root = parse(render_svg(sweep()))
    assert root.get("width") == "960" and root.get("viewBox")
    legend = root.findall(f".//{NS}g[@class='legend-item']")
    assert [texts(g) for g in legend] == [[f"concurrency {c}"] for c in CONCS]
    for key in ("throughput", "cost"):
        lines = polylines(panel(root, key))
        assert sorted(int(pl.get("data-concurrency", "0")) for pl in lines) == list(CONCS)
        assert all(len(pl.get("points", "").split()) == len(PACKS) for pl in lines)
        assert len(panel(root, key).findall(f".//{NS}circle[@class='best']")) == 1
    all_text = texts(root)
    assert "throughput (tickets/s) vs pack size" in all_text
    assert "cost per 1,000 tickets (USD) vs pack size" in all_text
    assert all_text.count("pack size (tickets per request)") == 2
    assert {"tickets/s", "USD per 1,000 tickets"} <= set(all_text)
    assert [str(p) for p in PACKS] == [
        t for t in texts(panel(root, "cost")) if t in {"1", "5", "10", "20"}
    ]
    assert any(t.startswith("best throughput") for t in texts(panel(root, "throughput")))
    assert any(t.startswith("best cost") for t in texts(panel(root, "cost")))


def test_title_is_escaped() -> None:
    svg = render_svg(sweep(), title='a <b> & "c"')
    assert "<b>" not in svg
    assert 'a <b> & "c"' in texts(parse(svg))


def test_free_provider_has_no_cost_lines() -> None:
    root = parse(render_svg(sweep(free=True)))
    cost = panel(root, "cost")
    assert polylines(cost) == []
    assert "no cost (free provider)" in texts(cost)
    assert len(polylines(panel(root, "throughput"))) == len(CONCS)


def test_interrupted_sweep_leaves_gaps() -> None:
    # concurrency 8 stopped after pack 5; concurrency 4 lost its pack-5 cell
    points = [
        q
        for q in sweep()
        if not (q.concurrency == 8 and q.pack > 5) and (q.concurrency, q.pack) != (4, 5)
    ]
    tp = panel(parse(render_svg(points)), "throughput")
    runs: dict[str | None, list[int]] = {}
    for pl in polylines(tp):
        runs.setdefault(pl.get("data-concurrency"), []).append(len(pl.get("points", "").split()))
    assert runs == {"1": [4], "4": [2], "8": [2]}  # c=4: lone pack-1 marker, then 10-20
    assert len(tp.findall(f".//{NS}circle[@r='4']")) == len(points)


@pytest.mark.parametrize(
    "points",
    [
        [PlotPoint(10, 4, 12.5, 0.0042, best_throughput=True, best_cost=True)],
        [PlotPoint(1, c, float(c), 0.1 * c) for c in (1, 2)],  # single pack size
        [],
    ],
)
def test_degenerate_inputs_render(points: list[PlotPoint]) -> None:
    root = parse(render_svg(points))
    assert len(root.findall(f".//{NS}g[@class='legend-item']")) == len(
        {p.concurrency for p in points}
    )


def test_write_svg(tmp_path: Path) -> None:
    out = write_svg(sweep(), tmp_path / "sub" / "bench.svg", title="t")
    assert out.read_text(encoding="utf-8").startswith("<svg xmlns=")


@pytest.mark.parametrize(
    ("vmax", "top", "ticks"),
    [(34.3, 40, 5), (10, 10, 6), (13, 15, 4), (0.0042, 0.005, 6), (4321, 5000, 6), (0, 1, 6)],
)
def test_nice_axis(vmax: float, top: float, ticks: int) -> None:
    got_top, _, n = nice_axis(vmax)
    assert got_top == pytest.approx(top) and n + 1 == ticks


def test_fmt_num() -> None:
    assert [fmt_num(v) for v in (1234.0, 12.5, 0.0042, 3.0, 0)] == [
        "1,234",
        "12.5",
        "0.0042",
        "3",
        "0",
    ]
    assert fmt_num(0.5, 1) == "0.5" and fmt_num(2000, 0) == "2,000"
