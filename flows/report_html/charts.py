"""The report's charts, drawn with matplotlib into inline SVG.

Every chart is a horizontal bar chart with the layers top to bottom in pipeline order, so a
40-layer net stays legible (the figure grows with the rows) and the names read without
rotation. Every axis label says whether its figures are estimated (cycle model, cost model)
or measured (rtlsim, Yosys). The functions take plain lists from ``sections``; none of them
is called without data, so no chart is ever drawn empty.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from flows.report_html.colours import BOTTLENECK, BUDGET, LIGHT
from flows.report_html.svg import style, to_svg

WIDTH_IN = 10.0
ROW_IN = 0.26  # height of one layer's row


def _height(rows: int, extra: float = 1.1) -> float:
    return max(2.0, rows * ROW_IN + extra)


def _fmt(v: float) -> str:
    return f"{v:,.0f}" if v >= 10 or v == int(v) else f"{v:.2g}"


def cycles_chart(
    names: list[str],
    kinds: list[str],
    cycles: list[int],
    colours: dict[str, str],
    bottleneck: int,
    measured: float | None = None,
) -> str:
    """Estimated cycles per image of every layer and DMA edge; the bottleneck (the row that
    sets the estimated FPS) in red and named; rtlsim's measured cycles per image of the whole
    design as a dashed line when it ran."""
    with style():
        fig = Figure(figsize=(WIDTH_IN, _height(len(names))), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(names))
        fill = [BOTTLENECK if i == bottleneck else colours[k] for i, k in enumerate(kinds)]
        ax.barh(y, cycles, color=fill, height=0.7)
        top = max(max(cycles), measured or 0)
        for i, c in enumerate(cycles):
            label = _fmt(c) + ("  ◀ bottleneck" if i == bottleneck else "")
            weight = "bold" if i == bottleneck else "normal"
            ax.text(c + top * 0.005, i, label, va="center", fontsize=8, fontweight=weight)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(0, top * 1.18)
        ax.set_xlabel("cycles per image (estimated: cycle model at the build's folding)")
        handles = [Patch(color=colours[k], label=k) for k in sorted(set(kinds))]
        handles.append(Patch(color=BOTTLENECK, label="bottleneck (estimated)"))
        if measured is not None:
            line = ax.axvline(measured, color="#333333", linestyle="--", linewidth=1.2)
            line.set_label(f"whole design, measured by rtlsim: {_fmt(measured)} cycles/image")
            handles.append(line)
        fig.legend(handles=handles, loc="outside lower center", ncols=4, fontsize=7.5)
        return to_svg(fig)


@dataclass(frozen=True)
class Bar:
    """One stacked bar of the budget chart: what measured or estimated it, and its parts
    (label, amount in the resource's own unit, colour)."""

    source: str
    parts: list[tuple[str, float, str]]
    hatch: str = ""  # measured bars are hatched, as in the per-layer chart


@dataclass(frozen=True)
class BudgetRow:
    """One resource (LUT, FF, BRAM18, DSP) against the board: its bars side by side."""

    resource: str
    available: int
    bars: list[Bar]


def budget_chart(rows: list[BudgetRow]) -> str:
    """Each resource as a share of the board, one stacked bar per source (estimate, Yosys)
    side by side, stacked by layer kind (plus FIFOs, edge and control, and the board's shell);
    the board's budget is the line at 100%."""
    sources = [b.source for b in rows[0].bars]
    for r in rows:
        sources += [b.source for b in r.bars if b.source not in sources]
    n = len(sources)
    height = 0.8 / n
    with style():
        fig = Figure(figsize=(WIDTH_IN, 0.9 + 0.42 * n * len(rows) + 0.5), layout="constrained")
        ax = fig.add_subplot()
        legend: dict[str, str] = {}
        top = 100.0
        for i, row in enumerate(rows):
            for bar in row.bars:
                j = sources.index(bar.source)
                yy = i + (j - (n - 1) / 2) * height
                left = 0.0
                for label, amount, colour in bar.parts:
                    pct = 100.0 * amount / row.available
                    if pct > 0:
                        ax.barh(
                            yy,
                            pct,
                            left=left,
                            height=height * 0.9,
                            color=colour,
                            hatch=bar.hatch,
                            edgecolor="#ffffff",
                            linewidth=0,
                        )
                        legend.setdefault(label, colour)
                    left += pct
                used = sum(a for _, a, _ in bar.parts)
                ax.text(
                    left + 1,
                    yy,
                    f"{bar.source}: {_fmt(used)} of {_fmt(row.available)} ({left:.1f}%)",
                    va="center",
                    fontsize=7.5,
                )
                top = max(top, left)
        ax.axvline(100, color=BUDGET, linewidth=1.5)
        ax.text(100, -0.5 - 0.1, "board budget", ha="center", va="bottom", fontsize=8)
        ax.set_yticks(range(len(rows)), [r.resource for r in rows])
        ax.set_ylim(len(rows) - 0.5, -0.75)
        ax.set_xlim(0, top * 1.35)
        ax.set_xlabel(f"% of the board's resources ({' | '.join(sources)})")
        handles = [Patch(color=c, label=lbl) for lbl, c in legend.items()]
        fig.legend(handles=handles, loc="outside lower center", fontsize=7.5, ncols=4)
        return to_svg(fig)


def layer_resources_chart(
    names: list[str],
    panels: dict[str, dict[str, list[float]]],
    colours: list[str],
) -> str:
    """Per layer, one panel per resource (only those some layer uses); in each, the estimate
    in the layer kind's colour and, when ``bitfab synth`` ran, Yosys's count beside it in
    grey. ``panels``: resource -> source ("estimated", "synthesized") -> one value a row."""
    rows = len(names)
    with style():
        fig = Figure(figsize=(WIDTH_IN, _height(rows, 1.3)), layout="constrained")
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        y = np.arange(rows)
        for ax, (res, by_source) in zip(axes, panels.items(), strict=True):
            both = len(by_source) > 1
            h = 0.4 if both else 0.7
            est = by_source.get("estimated")
            syn = by_source.get("synthesized")
            if est is not None:
                ax.barh(y - (h / 2 if both else 0), est, height=h, color=colours)
            if syn is not None:
                ax.barh(
                    y + (h / 2 if both else 0),
                    syn,
                    height=h,
                    color=LIGHT,
                    hatch="////",
                    edgecolor="#777777",
                    linewidth=0,
                )
            peak = max(max(v) for v in by_source.values()) or 1
            for src, vals in by_source.items():
                off = (-h / 2 if src == "estimated" else h / 2) if both else 0
                for i, v in enumerate(vals):
                    if v:
                        ax.text(v + peak * 0.01, i + off, _fmt(v), va="center", fontsize=6.5)
            ax.set_xlim(0, peak * 1.25)
            ax.set_title(res, loc="center")
            ax.tick_params(axis="y", length=0)
        axes[0].set_yticks(y, names)
        axes[0].invert_yaxis()
        handles = [Patch(color="#555555", label="estimated (cost model; bar in the kind's colour)")]
        if any("synthesized" in p for p in panels.values()):
            handles.append(
                Patch(
                    facecolor=LIGHT,
                    hatch="////",
                    edgecolor="#777777",
                    label="measured: Yosys synth_xilinx cell counts",
                )
            )
        fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=7.5)
        return to_svg(fig)


def activity_chart(
    names: list[str], busy: list[float], starved: list[float], back: list[float]
) -> str:
    """rtlsim's share of the run each layer was busy, starved (input FIFO empty) and
    back-pressured (output FIFO full), side by side: the three can overlap for a layer whose
    input and output run independently, so they are not stacked."""
    series = [
        ("busy", busy, "#009E73"),
        ("starved (input empty)", starved, "#E69F00"),
        ("back-pressured (output full)", back, "#C00000"),
    ]
    with style():
        fig = Figure(figsize=(WIDTH_IN, _height(len(names), 1.0) * 1.25), layout="constrained")
        ax = fig.add_subplot()
        y = np.arange(len(names))
        h = 0.27
        for j, (label, vals, colour) in enumerate(series):
            pct = [100.0 * v for v in vals]
            ax.barh(y + (j - 1) * h, pct, height=h * 0.95, color=colour, label=label)
            for i, p in enumerate(pct):
                if p > 0:
                    ax.text(p + 0.6, i + (j - 1) * h, f"{p:.0f}%", va="center", fontsize=6)
        ax.set_yticks(y, names)
        ax.invert_yaxis()
        ax.set_xlim(0, max(110.0, 100.0 * max(max(busy), max(starved), max(back)) + 10))
        ax.set_xlabel("% of the simulated cycles (measured: rtlsim, Verilator)")
        fig.legend(loc="outside lower center", ncols=3, fontsize=7.5)
        return to_svg(fig)
