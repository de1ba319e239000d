"""sweep.html and the Pareto front behind its chart, from synthetic sweep.json documents: the
front (dominated points off, ties on, only finished points, measured figures preferred), the
page's parts (chart, every point's row, failure messages, provenance labels, report links),
byte-reproducibility, and a sweep with no figures at all (a sentence, no chart)."""

from __future__ import annotations

import copy
import re

import pytest

from flows.sweep.grid import Point
from flows.sweep.page import render_sweep_html
from flows.sweep.pareto import PlotPoint, dominates, figures, front, plot_points


def point_id(board: str, clock: float, target: float | None) -> str:
    """As flows/sweep/grid.py names a point."""
    return Point(board, clock, target).id


def done(
    board: str,
    target: float | None,
    fps: float,
    lut: int,
    *,
    sim_fps: float | None = None,
    sim_status: str = "pass",
    synth_lut: int | None = None,
    fits: bool = True,
    clock: float = 100.0,
) -> dict:
    """A finished point: the estimate always, rtlsim and synth when their figures are given."""
    pid = point_id(board, clock, target)
    est = {
        "fps": fps,
        "cycles_per_image": 100,
        "latency_us_upper_bound": 20.5,
        "resources": {"LUT": lut, "BRAM18": 4, "DSP": 0},
        "resources_with_shell": {"LUT": lut + 2500, "BRAM18": 4, "DSP": 0},
        "fits": fits,
    }
    sim = None
    if sim_fps is not None:
        sim = {"n": 5, "status": sim_status, "fps": sim_fps, "cycles_per_image": 840.0}
        sim |= {"latency_cycles": 1200, "latency_us": 12.0, "fifos_sized": False}
    syn = None
    if synth_lut is not None:
        syn = {"resources": {"LUT": synth_lut, "FF": 9000, "BRAM18": 5, "DSP": 1}, "fits": fits}
        syn["label"] = "Yosys synth_xilinx post-synthesis cell counts"
    return {
        "id": pid,
        "board": board,
        "clock_mhz": clock,
        "target_fps": target,
        "status": "done",
        "error": None,
        "wall_seconds": 41.2,
        "node": "host1",
        "build_dir": f"points/{pid}",
        "model": "tfc-w1a1",
        "folding": {"layers": 8, "lanes": 96, "max_pe": 16, "max_simd": 32},
        "estimated": est,
        "verification": {"n": 5, "status": "pass"},
        "rtlsim": sim,
        "synth": syn,
        "fits": fits,
        "fits_by": "synth" if syn else "estimate",
    }


def failed(board: str, target: float | None, message: str, **figs) -> dict:
    p = done(board, target, **figs) if figs else _bare(board, target)
    p.update(
        status="failed",
        error={"phase": "rtlsim" if figs else "build", "message": message, "exit_code": 2},
        wall_seconds=3.0,
    )
    return p


def _bare(board: str, target: float | None) -> dict:
    pid = point_id(board, 100.0, target)
    return {"id": pid, "board": board, "clock_mhz": 100.0, "target_fps": target}


def not_run(board: str, target: float | None) -> dict:
    return _bare(board, target) | {
        "status": "not run",
        "error": {"message": "the sweep was interrupted"},
    }


def sweep(points: list[dict], status: str = "done") -> dict:
    return {
        "format": 1,
        "model": "tfc-w1a1",
        "source": {"file": "source/tfc-w1a1.onnx"},
        "spec": {
            "model": "tfc-w1a1",
            "boards": ["pynq-z2", "zcu104"],
            "clocks_mhz": [100.0],
            "targets": [100000.0, 1000000.0, 3000000.0],
            "auto": 0,
            "rtlsim": 5,
            "synth": True,
            "verify": 0,
            "size_fifos": False,
            "seed": 0,
            "budget": 0.85,
            "bitstream": False,
            "extra": {},
        },
        "address": "local",
        "created": "2026-12-03T07:40:00+00:00",
        "status": status,
        "wall_seconds": 312.4,
        "ray": {"address": "local", "nodes": 1, "cpus": 2, "resources": {"CPU": 2.0}},
        "points": points,
    }


@pytest.fixture(scope="module")
def mixed() -> dict:
    """Two boards, measured and estimated figures, a misfit, a failure with and one without
    figures, a point the interruption stopped."""
    return sweep(
        [
            done("pynq-z2", 1e5, 120192.3, 9000, sim_fps=119000.0, synth_lut=8700),
            done("pynq-z2", 1e6, 961538.5, 30000, sim_fps=950000.0, synth_lut=29000),
            done("pynq-z2", None, 500000.0, 40000, fits=False),  # dominated by the 1e6 point
            done("zcu104", 1e5, 120192.3, 9100),
            done("zcu104", 1e6, 961538.5, 31000),
            failed("zcu104", None, "rtlsim: mismatch on image 3", fps=2e6, lut=5000),
            failed("pynq-z2", 3e6, "MVAU 'fc0': MH=10 not divisible by PE=4"),
            not_run("zcu104", 3e6),
        ],
        status="interrupted",
    )


@pytest.fixture(scope="module")
def page(mixed: dict) -> str:
    return render_sweep_html(mixed)


def _pp(fps: float, lut: float, pid: str = "p", board: str = "b") -> PlotPoint:
    return PlotPoint(pid, board, fps, lut, False, False, True)


# ---------------------------------------------------------------- the front


def test_dominated_point_is_off_the_front_and_ties_stay_on():
    pts = front(
        [
            _pp(100, 10, "small"),
            _pp(1000, 50, "big"),
            _pp(1000, 50, "big-twin"),  # equal to "big": both on
            _pp(1000, 60, "big-but-larger"),  # same FPS, more LUT: off
            _pp(500, 70, "slow-and-large"),  # off
            _pp(50, 10, "slower-same-size"),  # same LUT, less FPS: off
        ]
    )
    on = {p.id for p in pts if p.on_front}
    assert on == {"small", "big", "big-twin"}
    assert [p.id for p in pts][0] == "small"  # the order is kept
    assert dominates(_pp(2, 1), _pp(1, 1)) and not dominates(_pp(1, 1), _pp(1, 1))


def test_a_design_that_does_not_fit_is_neither_on_the_front_nor_hides_one():
    from dataclasses import replace

    too_big = replace(_pp(5000, 40, "too-big"), fits=False)  # faster and smaller, but no fit
    pts = {p.id: p.on_front for p in front([too_big, _pp(1000, 50, "big"), _pp(100, 10, "s")])}
    assert pts == {"too-big": False, "big": True, "s": True}


def test_front_refuses_points_of_several_boards():
    with pytest.raises(ValueError, match=r"front: points of several boards \['a', 'b'\]"):
        front([_pp(1, 1, "x", "a"), _pp(1, 1, "y", "b")])


def test_only_finished_points_count_and_each_board_has_its_own_front(mixed: dict):
    pts = plot_points(mixed["points"])
    ids = [p.id for p in pts]
    assert ids == [p["id"] for p in mixed["points"][:5]]  # not the failed or unrun ones
    on = {p.id for p in pts if p.on_front}
    # the zcu104 points would be dominated by nothing on pynq-z2's front and vice versa
    assert on == {
        "pynq-z2-100mhz-fps100000",
        "pynq-z2-100mhz-fps1000000",
        "zcu104-100mhz-fps100000",
        "zcu104-100mhz-fps1000000",
    }
    # a failed point with better figures than all does not knock the others off
    assert "zcu104-100mhz-fit" not in ids


def test_measured_figures_are_preferred_over_the_estimate():
    p = figures(done("pynq-z2", 1e5, 120192.3, 9000, sim_fps=119000.0, synth_lut=8700))
    assert (p.fps, p.lut, p.fps_measured, p.lut_measured) == (119000.0, 8700.0, True, True)
    # an rtlsim that did not pass measured nothing: the estimate stands
    q = figures(done("pynq-z2", 1e5, 120192.3, 9000, sim_fps=5.0, sim_status="mismatch"))
    assert (q.fps, q.fps_measured, q.lut, q.lut_measured) == (120192.3, False, 9000.0, False)
    # the estimate's LUT is the design's own (no shell), as Yosys's count is
    r = figures(done("pynq-z2", 1e5, 1.0, 9000))
    assert r.lut == 9000.0


def test_measured_figures_can_change_the_front():
    a = done("zcu104", 1e5, 100.0, 1000, sim_fps=90.0)  # estimated faster than b, measured not
    b = done("zcu104", 2e5, 95.0, 1000)
    on = {p.id: p.on_front for p in plot_points([a, b])}
    assert on == {a["id"]: False, b["id"]: True}


# ---------------------------------------------------------------- the page


def _row(page: str, pid: str) -> str:
    m = re.search(rf'<tr id="point-{re.escape(pid)}"[^>]*>(.*?)</tr>', page, re.S)
    assert m, f"no row for {pid}"
    return m.group(1)


def test_the_page_has_the_chart_and_a_row_per_point_in_order(page: str, mixed: dict):
    assert page.count("<svg") == 1
    assert 'class="chart"' in page
    ids = re.findall(r'<tr id="point-([^"]+)"', page)
    assert ids == [p["id"] for p in mixed["points"]]
    assert "http://" not in page.replace('xmlns="http://www.w3.org/2000/svg"', "").replace(
        'xmlns:xlink="http://www.w3.org/1999/xlink"', ""
    )  # self-contained: no link out of the page
    assert "<script" not in page


def test_failed_and_unrun_points_show_their_messages(page: str):
    row = _row(page, "pynq-z2-100mhz-fps3000000")
    assert ">failed<" in row
    assert "failed in build (exit 2): MVAU &#39;fc0&#39;: MH=10 not divisible by PE=4" in page
    assert "failed in rtlsim (exit 2): rtlsim: mismatch on image 3" in page
    assert ">not run<" in _row(page, "zcu104-100mhz-fps3000000")
    assert '<tr class="message "><td colspan="16">the sweep was interrupted</td></tr>' in page
    assert "interrupted" in page and "5 of 8" in page


def test_every_figure_says_measured_or_estimated(page: str):
    measured = _row(page, "pynq-z2-100mhz-fps100000")
    assert "119,000" in measured and "120,192" in measured  # rtlsim and the estimate
    assert "8,700" in measured and '<span class="badge measured">measured</span>' in measured
    estimated = _row(page, "zcu104-100mhz-fps100000")
    assert "9,100" in estimated and '<span class="badge estimated">estimated</span>' in estimated
    assert "yes (synth)" in measured and "yes (estimate)" in estimated
    assert "no (estimate)" in _row(page, "pynq-z2-100mhz-fit")
    assert "fastest that fits" in _row(page, "pynq-z2-100mhz-fit")
    # the chart's axes and legend name their sources
    assert "measured by Yosys synth_xilinx where it ran, else estimated by the cost model" in page
    assert ">measured by rtlsim where it ran,</text>" in page  # the y label's second line
    assert ">else estimated by the cycle model</text>" in page
    assert "filled: FPS and LUT measured (rtlsim, Yosys)" in page
    assert "hollow: FPS and LUT estimated (cycle and cost models)" in page
    assert "does not fit the board" in page


def test_on_the_front_and_the_report_link(page: str):
    assert "<td>yes</td>" in _row(page, "pynq-z2-100mhz-fps1000000")
    assert "<td>no</td>" in _row(page, "pynq-z2-100mhz-fit")
    assert '<a href="points/pynq-z2-100mhz-fps100000/report.html">' in _row(
        page, "pynq-z2-100mhz-fps100000"
    )
    assert "<a href" not in _row(page, "zcu104-100mhz-fps3000000")  # no build dir, no link
    assert (
        "the fastest that fits is #2 <b>pynq-z2-100mhz-fps1000000</b>: 950,000 FPS (measured) "
        "with 29,000 LUT (measured)"
    ) in page


def test_the_chart_has_one_series_per_board(page: str):
    svg = page[page.index("<svg") : page.index("</svg>")]
    fronts = re.findall(r'<g id="front-([a-z0-9-]+)"', svg)
    assert fronts == ["pynq-z2", "zcu104"]
    # the legend names each board once, as text (svg.fonttype none)
    for board in ("pynq-z2", "zcu104"):
        assert len(re.findall(rf">\s*{board}\s*<", svg)) == 1
    # pynq-z2 has fully measured and fully estimated points, zcu104 estimated ones only
    groups = re.findall(r'<g id="points-([a-z0-9-]+)"', svg)
    assert groups == ["pynq-z2-full", "pynq-z2-none", "zcu104-none"]


def test_the_page_is_byte_reproducible(mixed: dict, page: str):
    assert render_sweep_html(copy.deepcopy(mixed)) == page


def test_all_failed_no_chart_but_a_sentence():
    # every point failed, one of them after its build (so with figures, which do not count)
    late = failed("zcu104", 1e5, "rtlsim: deadlock", fps=1e5, lut=9000)
    doc = sweep([failed("pynq-z2", 1e5, "boom"), late])
    del doc["ray"]  # the cluster was never reached
    page = render_sweep_html(doc)
    assert "<svg" not in page
    assert "No chart: no point finished with figures to plot (2 failed)" in page
    assert "failed in build (exit 2): boom" in page
    assert "failed in rtlsim (exit 2): rtlsim: deadlock" in page
    assert "not connected" in page


def test_a_running_sweep_with_pending_points_renders():
    pending = _bare("zcu104", 1e5) | {"status": "pending"}
    page = render_sweep_html(sweep([done("pynq-z2", None, 1e5, 9000), pending], "running"))
    assert page.count("<svg") == 1
    assert ">pending<" in _row(page, "zcu104-100mhz-fps100000")
    assert "1 of 2" in page
