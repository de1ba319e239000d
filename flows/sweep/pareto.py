"""The sweep's Pareto front per board: the points no other point of the same board beats on
both speed (FPS, higher is better) and size (LUT, lower is better).

Each figure is the measured one where the point has it, else the estimate, and says which:

* FPS: rtlsim's (Verilator, at the build clock) when rtlsim ran and passed; else the cycle
  model's estimate. A run that did not pass (mismatch, deadlock) measured nothing usable.
* LUT: Yosys ``synth_xilinx``'s Slice LUTs when the point was synthesized; else the cost
  model's estimate. Both count the design alone, without the board's shell: the estimate's
  ``resources``, not its ``resources_with_shell``, so measured and estimated LUT compare like
  with like on one axis. (Whether the point fits the board counts the shell: ``fits``.)

Only points whose status is "done" count; failed, "not run" and pending points have no
place on the front even when a failed point carries figures. Pure functions, no plotting.
"""

from __future__ import annotations

from dataclasses import dataclass, replace


@dataclass(frozen=True)
class PlotPoint:
    """One finished point's figures, as the chart plots them."""

    id: str
    board: str
    fps: float
    lut: float
    fps_measured: bool  # rtlsim passed; else the cycle model's estimate
    lut_measured: bool  # Yosys; else the cost model's estimate (both without the shell)
    fits: bool  # the point's verdict: synth's when synthesized, else the estimate's
    on_front: bool = False


def rtlsim_passed(point: dict) -> bool:
    sim = point.get("rtlsim")
    return sim is not None and sim.get("status") == "pass"


def figures(point: dict) -> PlotPoint | None:
    """The point's figures (``on_front`` not yet decided), or None when it has none to
    plot: not "done", or no estimate."""
    est = point.get("estimated")
    if point.get("status") != "done" or est is None:
        return None
    syn = point.get("synth")
    fps_measured = rtlsim_passed(point)
    lut_measured = syn is not None
    return PlotPoint(
        id=point["id"],
        board=point["board"],
        fps=float(point["rtlsim"]["fps"] if fps_measured else est["fps"]),
        lut=float(syn["resources"]["LUT"] if lut_measured else est["resources"]["LUT"]),
        fps_measured=fps_measured,
        lut_measured=lut_measured,
        fits=bool(point.get("fits", est["fits"])),
    )


def dominates(a: PlotPoint, b: PlotPoint) -> bool:
    """``a`` is at least as fast and at most as large as ``b``, and strictly better in one."""
    return a.fps >= b.fps and a.lut <= b.lut and (a.fps > b.fps or a.lut < b.lut)


def front(points: list[PlotPoint]) -> list[PlotPoint]:
    """One board's points, in their order, with ``on_front`` set: true for a point that fits
    the board unless another point that fits dominates it (so two points with equal FPS and
    LUT are both on the front). A design that does not fit is not a choice a user has."""
    boards = {p.board for p in points}
    if len(boards) > 1:
        raise ValueError(f"front: points of several boards {sorted(boards)}; pass one board's")
    fitting = [p for p in points if p.fits]
    return [
        replace(p, on_front=p.fits and not any(dominates(q, p) for q in fitting)) for p in points
    ]


def plot_points(points: list[dict]) -> list[PlotPoint]:
    """Every plottable point of a sweep (sweep.json's ``points``), in their order, with
    ``on_front`` decided among the points of its own board."""
    mine = [f for f in map(figures, points) if f is not None]
    decided: dict[str, PlotPoint] = {}
    for board in dict.fromkeys(p.board for p in mine):
        decided |= {p.id: p for p in front([p for p in mine if p.board == board])}
    return [decided[p.id] for p in mine]
