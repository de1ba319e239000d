"""sweep.html: a sweep's sweep.json drawn for people.

One self-contained page, no network, no script, rendered with report.html's template
environment and style sheet: a summary (model, status, points done / failed / not run, wall
time, the Ray cluster, the grid), the Pareto chart of FPS against LUT with one colour per board
(matplotlib, inline SVG, byte-reproducible through :mod:`flows.report_html.svg`), and a table
with a row per point in sweep.json's order, each failed or unrun point with its message.

It is rendered after every sweep, also an interrupted one or one whose points all failed, so
every part reads only what a point has: a point without figures gets dashes, and with no
figures at all the chart is left out with a sentence saying why. Every figure is labelled
measured (rtlsim, Yosys) or estimated (cycle and cost models); :mod:`flows.sweep.pareto` says
which figure the chart takes for each point.
"""

from __future__ import annotations

from dataclasses import dataclass

from markupsafe import Markup
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from flows.report_html.blocks import Tile
from flows.report_html.charts import WIDTH_IN
from flows.report_html.colours import BUDGET, NEUTRAL, PALETTE
from flows.report_html.facts import ESTIMATED, MEASURED, RESOURCES, num
from flows.report_html.page import env
from flows.report_html.svg import style, to_svg
from flows.sweep.pareto import PlotPoint, plot_points, rtlsim_passed

TEMPLATE = "sweep.html.j2"
DASH = "—"
FASTEST = "fastest that fits"


@dataclass(frozen=True)
class Row:
    """One point of the table, its cells as printed."""

    n: int  # the number the chart writes beside the point
    id: str
    board: str
    clock: str
    target: str
    status: str
    state: str  # "ok" (done), "bad" (failed) or "" (not run, pending)
    est_fps: str
    sim_fps: str
    resources: list[str]  # LUT, BRAM18, DSP of the design without the shell
    source: str  # "measured" (Yosys), "estimated" (cost model) or "" (no figures)
    fits: str
    front: str
    wall: str
    report: str | None  # the point's report.html, relative to the sweep directory
    message: str | None  # why it failed or did not run


@dataclass(frozen=True)
class SweepPage:
    title: str
    tiles: list[Tile]
    chart: Markup | None
    chart_text: list[str]
    rows: list[Row]


def render_sweep_html(doc: dict) -> str:
    """sweep.html for sweep.json's ``doc`` (any status, points with or without figures)."""
    return env().get_template(TEMPLATE).render(page=sweep_page(doc))


def sweep_page(doc: dict) -> SweepPage:
    """What the template prints: the tiles, the chart or why there is none, the rows."""
    points = doc["points"]
    plotted = plot_points(points)
    numbers = {p["id"]: i + 1 for i, p in enumerate(points)}
    by_id = {p.id: p for p in plotted}
    if plotted:
        chart: Markup | None = pareto_chart(plotted, numbers)
        text = _chart_text(plotted, numbers, points)
    else:
        chart, text = None, [_no_chart_sentence(points)]
    return SweepPage(
        title=str(doc["model"]),
        tiles=_tiles(doc),
        chart=chart,
        chart_text=text,
        rows=[_row(numbers[p["id"]], p, by_id.get(p["id"])) for p in points],
    )


# ---------------------------------------------------------------- summary


def _counts(points: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for p in points:
        counts[p["status"]] = counts.get(p["status"], 0) + 1
    return counts


def _duration(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.1f} s"
    m, s = divmod(round(seconds), 60)
    return f"{m // 60} h {m % 60} min" if m >= 60 else f"{m} min {s} s"


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" + ("" if n == 1 else "s")


def _tiles(doc: dict) -> list[Tile]:
    points = doc["points"]
    counts = _counts(points)
    failed = counts.get("failed", 0)
    status = doc["status"]
    notes = {
        "done": "every point ran",
        "interrupted": "stopped by a signal; the points that finished are kept",
        "running": "the sweep ended without finishing (or is still running)",
    }
    others = [f"{n} {s}" for s, n in counts.items() if s != "done"]
    spec = doc.get("spec", {})
    ray = doc.get("ray")
    wall = doc.get("wall_seconds")
    return [
        Tile(
            "Status",
            status,
            notes.get(status, ""),
            state="ok" if status == "done" and not failed else "bad",
        ),
        Tile(
            "Points done",
            f"{counts.get('done', 0)} of {len(points)}",
            ", ".join(others) if others else "none failed",
            state="bad" if failed else ("ok" if counts.get("done") == len(points) else ""),
        ),
        Tile(
            "Wall time",
            _duration(wall) if wall is not None else DASH,
            f"the whole sweep, started {doc.get('created', '?')}",
            MEASURED if wall is not None else "",
        ),
        Tile(
            "Ray",
            (f"{_plural(ray['nodes'], 'node')}, {ray['cpus']:g} CPUs" if ray else "not connected"),
            f"address {ray['address'] if ray else doc.get('address', '?')}",
        ),
        Tile("Grid", _plural(len(points), "point"), _grid_text(spec)),
        Tile("Each point", *_steps(spec)),
    ]


def _grid_text(spec: dict) -> str:
    boards = ", ".join(spec.get("boards", []))
    clocks = ", ".join(f"{c:g}" for c in spec.get("clocks_mhz", []))
    if spec.get("auto"):
        targets = f"{spec['auto']} targets per board and clock (--auto)"
    elif spec.get("targets"):
        targets = ", ".join(num(t) for t in spec["targets"]) + " FPS"
    else:
        targets = FASTEST
    return f"boards {boards} × {clocks} MHz × {targets}"


def _steps(spec: dict) -> tuple[str, str]:
    """What every point ran, and its settings."""
    steps, notes = ["build"], []
    if spec.get("verify"):
        steps.append("verify")
        notes.append(f"C-sim on {_plural(spec['verify'], 'input')}")
    if spec.get("rtlsim"):
        steps.append("rtlsim")
        fifos = " with FIFOs sized" if spec.get("size_fifos") else ""
        notes.append(f"rtlsim of {_plural(spec['rtlsim'], 'image')}{fifos}")
    if spec.get("synth"):
        steps.append("synth")
    if spec.get("bitstream"):
        steps.append("bitstream")
    notes.append(f"budget {spec.get('budget', 0):.0%} of the board")
    return " + ".join(steps), "; ".join(notes)


# ---------------------------------------------------------------- chart


def _source(measured: list[bool], yes: str, no: str) -> str:
    if all(measured):
        return f"measured: {yes}"
    if not any(measured):
        return f"estimated: {no}"
    return f"measured by {yes} where it ran, else estimated by the {no}"


def _compact(v: float, _pos: object = None) -> str:
    """A log axis's tick: 500, 2k, 10k, 1.5M."""
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if v >= div:
            return f"{v / div:g}{unit}"
    return f"{v:g}"


def _fill(p: PlotPoint) -> str:
    """Filled: both figures measured; hollow: both estimated; half: one of each."""
    if p.fps_measured and p.lut_measured:
        return "full"
    return "left" if p.fps_measured or p.lut_measured else "none"


FILL_LABELS = {
    "full": "filled: FPS and LUT measured (rtlsim, Yosys)",
    "left": "half-filled: one figure measured, one estimated (the table says which)",
    "none": "hollow: FPS and LUT estimated (cycle and cost models)",
}


def pareto_chart(points: list[PlotPoint], numbers: dict[str, int]) -> Markup:
    """FPS against LUT, log-log when every figure is positive: one colour per board, each
    point numbered as its table row, the board's Pareto front joined by a step line (the best
    FPS for a LUT budget), an × on each point that does not fit its board."""
    boards = list(dict.fromkeys(p.board for p in points))
    colours = {b: PALETTE[i % len(PALETTE)] for i, b in enumerate(boards)}
    with style():
        fig = Figure(figsize=(WIDTH_IN, 5.4), layout="constrained")
        ax = fig.add_subplot()
        for b in boards:
            _draw_board(ax, [p for p in points if p.board == b], colours[b], numbers)
        _axes(ax, points)
        fig.legend(
            handles=_legend(points, colours), loc="outside lower center", ncols=3, fontsize=7.5
        )
        return to_svg(fig)


def _draw_board(ax: Axes, mine: list[PlotPoint], colour: str, numbers: dict[str, int]) -> None:
    """One board's series: its front's step line (SVG id ``front-BOARD``), its points grouped
    by how measured they are (``points-BOARD-FILL``), the misfits' ×, the row numbers."""
    board = mine[0].board
    fr = sorted((p for p in mine if p.on_front), key=lambda p: (p.lut, p.fps))
    (line,) = ax.step(
        [p.lut for p in fr], [p.fps for p in fr], where="post", color=colour, linewidth=1.3
    )
    line.set_gid(f"front-{board}")
    for fill in FILL_LABELS:
        these = [p for p in mine if _fill(p) == fill]
        if these:
            (marks,) = ax.plot(
                [p.lut for p in these],
                [p.fps for p in these],
                linestyle="none",
                marker="o",
                markersize=9,
                markeredgewidth=1.5,
                color=colour,
                fillstyle=fill,
                markerfacecoloralt="white",
            )
            marks.set_gid(f"points-{board}-{fill}")
    misfits = [p for p in mine if not p.fits]
    if misfits:
        ax.plot(
            [p.lut for p in misfits],
            [p.fps for p in misfits],
            linestyle="none",
            marker="x",
            markersize=10,
            markeredgewidth=1.5,
            color=BUDGET,
        )
    for p in mine:
        ax.annotate(
            str(numbers[p.id]),
            (p.lut, p.fps),
            xytext=(6, 5),
            textcoords="offset points",
            fontsize=7.5,
            color=colour,
        )


def _axes(ax: Axes, points: list[PlotPoint]) -> None:
    """Log scales with plain ticks (10k, 2M) when every figure is positive; labels that say
    which figures are measured and which estimated."""
    if all(p.lut > 0 and p.fps > 0 for p in points):
        for axis, scale in ((ax.xaxis, ax.set_xscale), (ax.yaxis, ax.set_yscale)):
            scale("log")
            axis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
            axis.set_major_formatter(FuncFormatter(_compact))
            axis.set_minor_formatter(NullFormatter())
    ax.margins(0.12)
    ax.grid(True, which="major", color="#e5e5e5", linewidth=0.6)
    ax.set_xlabel(
        "LUT of the design without the board's shell ("
        + _source([p.lut_measured for p in points], "Yosys synth_xilinx", "cost model")
        + ")"
    )
    fps = _source([p.fps_measured for p in points], "rtlsim", "cycle model")
    ax.set_ylabel("FPS, images per second\n" + fps.replace(", else", ",\nelse"))


def _legend(points: list[PlotPoint], colours: dict[str, str]) -> list[Line2D]:
    """The boards, then what the line and the marker styles mean (only the styles drawn)."""
    handles = [
        Line2D([], [], color=c, marker="o", linewidth=1.3, label=b) for b, c in colours.items()
    ]
    handles.append(
        Line2D([], [], color=NEUTRAL, linewidth=1.3, label="step line: the board's front")
    )
    fills = {_fill(p) for p in points}
    for f, label in FILL_LABELS.items():
        if f in fills:
            handles.append(
                Line2D(
                    [],
                    [],
                    linestyle="none",
                    marker="o",
                    markersize=7,
                    color=NEUTRAL,
                    fillstyle=f,
                    markerfacecoloralt="white",
                    label=label,
                )
            )
    if any(not p.fits for p in points):
        handles.append(
            Line2D(
                [],
                [],
                linestyle="none",
                marker="x",
                markersize=8,
                color=BUDGET,
                label="×: does not fit the board",
            )
        )
    return handles


def _figure_words(p: PlotPoint) -> str:
    fps = f"{num(p.fps)} FPS ({MEASURED if p.fps_measured else ESTIMATED})"
    lut = f"{num(p.lut)} LUT ({MEASURED if p.lut_measured else ESTIMATED})"
    return f"{fps} with {lut}"


def _chart_text(plotted: list[PlotPoint], numbers: dict[str, int], points: list[dict]) -> list:
    text = [
        "The front of a board holds the points that no other point of that board beats on "
        "both counts: at least as many images a second with at most as many LUTs. FPS is "
        "rtlsim's measurement where rtlsim ran and passed, else the cycle model's estimate; "
        "LUT is Yosys's count where the point was synthesized, else the cost model's estimate, "
        "both for the design alone (the board's shell left out, so the two compare like with "
        "like). Whether a point fits its board counts the shell. The numbers beside the "
        "points are the table's rows."
    ]
    for board in dict.fromkeys(p.board for p in plotted):
        mine = [p for p in plotted if p.board == board]
        on = sum(p.on_front for p in mine)
        fitting = [p for p in mine if p.fits]
        if fitting:
            best = max(fitting, key=lambda p: (p.fps, -p.lut))
            fastest = Markup("the fastest that fits is #{} <b>{}</b>: {}").format(
                numbers[best.id], best.id, _figure_words(best)
            )
        else:
            fastest = Markup("no point fits the board")
        text.append(
            Markup("<b>{}</b>: {} of {} on the front; {}.").format(
                board, on, _plural(len(mine), "point"), fastest
            )
        )
    left = len(points) - len(plotted)
    if left:
        text.append(
            f"{_plural(left, 'point')} not plotted: only points that finished (status done) "
            "are, and a failed point's figures may be those of a broken design."
        )
    return text


def _no_chart_sentence(points: list[dict]) -> str:
    counts = _counts(points)
    how = ", ".join(f"{n} {s}" for s, n in counts.items())
    return (
        f"No chart: no point finished with figures to plot ({how}); the table says what "
        "happened to each."
    )


# ---------------------------------------------------------------- table


def _message(p: dict) -> str | None:
    err = p.get("error")
    if not err or p["status"] not in ("failed", "not run"):
        return None
    msg = err.get("message", "")
    if p["status"] == "failed":
        where = f" in {err['phase']}" if err.get("phase") else ""
        code = f" (exit {err['exit_code']})" if "exit_code" in err else ""
        return f"failed{where}{code}: {msg}"
    return msg


def _row(n: int, p: dict, plotted: PlotPoint | None) -> Row:
    est, sim, syn = p.get("estimated"), p.get("rtlsim"), p.get("synth")
    if sim is None:
        sim_fps = DASH
    elif rtlsim_passed(p):
        sim_fps = num(sim["fps"])
    else:
        sim_fps = str(sim.get("status", "?"))
    if syn is not None:
        res, source = syn["resources"], MEASURED
    elif est is not None:
        res, source = est["resources"], ESTIMATED
    else:
        res, source = {}, ""
    fits = DASH
    if "fits" in p:
        fits = ("yes" if p["fits"] else "no") + (f" ({p['fits_by']})" if "fits_by" in p else "")
    target = p.get("target_fps")
    wall = p.get("wall_seconds")
    build_dir = p.get("build_dir")
    return Row(
        n=n,
        id=p["id"],
        board=p["board"],
        clock=f"{p['clock_mhz']:g}",
        target=FASTEST if target is None else num(target),
        status=p["status"],
        state={"done": "ok", "failed": "bad"}.get(p["status"], ""),
        est_fps=num(est["fps"]) if est else DASH,
        sim_fps=sim_fps,
        resources=[num(res[k]) if k in res else DASH for k in RESOURCES],
        source=source,
        fits=fits,
        front=DASH if plotted is None else ("yes" if plotted.on_front else "no"),
        wall=f"{wall:.1f}" if wall is not None else DASH,
        report=f"{build_dir}/report.html" if build_dir else None,
        message=_message(p),
    )
