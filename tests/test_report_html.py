"""report.html: every section is there with its data, absent data leaves no empty chart, the
dataflow drawing stays legible (fork/join, long chains) and the page is byte-reproducible.

The fixtures in tests/reports/ are report.json files written by real runs: tfc-w1a1.json by
``bitfab build tfc-w1a1 --verify 5``, ``bitfab rtlsim --n 2`` and ``bitfab synth``;
residual.json by a build of tests/brevitas_factory.residual_cnn (verify 3, rtlsim 2, no synth).
"""

from __future__ import annotations

import json
import math
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from flows.report import add_section
from flows.report_html import render_html
from flows.report_html.facts import folding_text
from flows.report_html.layout import NODE_H, NODE_W, layout
from flows.report_html.sections import verification_words
from tests.helpers import REPO_ROOT, run_cli

REPORTS = Path(__file__).parent / "reports"
VERSIONS = {"bitfab": "0.1.0", "qonnx": "1.0.0", "brevitas": "0.13.4"}


def _load(name: str) -> dict:
    return json.loads((REPORTS / name).read_text())


@pytest.fixture
def tfc() -> dict:
    return _load("tfc-w1a1.json")


@pytest.fixture
def residual() -> dict:
    return _load("residual.json")


@pytest.fixture(scope="module")
def tfc_page() -> str:
    """The full page (verify, rtlsim and synth sections present), rendered once."""
    return render_html(_load("tfc-w1a1.json"), VERSIONS)


def section(page: str, key: str) -> str:
    m = re.search(rf'<section class="card" id="{key}">(.*?)</section>', page, re.S)
    assert m, f"no section {key}"
    return m.group(1)


def section_ids(page: str) -> list[str]:
    return re.findall(r'<section class="card" id="([a-z]+)">', page)


def svgs(html: str) -> list[str]:
    return re.findall(r"<svg.*?</svg>", html, re.S)


def test_summary_card_says_model_board_clock_speed_fit_and_checks(tfc, tfc_page):
    card = section(tfc_page, "summary")
    t, sim = tfc["totals"], tfc["rtlsim"]
    for text in (
        "tfc-w1a1",
        "pynq-z2",
        "clock 100 MHz",
        f"{t['estimated_fps']:,.0f} FPS",
        f"{sim['fps']:,.0f} FPS",
        f"≤ {t['estimated_latency_us_upper_bound']:,.2f} µs",
        f"{sim['latency_us']:,.2f} µs",
        "Fits the board",
        "Fits (Yosys synthesis)",
        "Verification (C-sim)",
        "Verification (rtlsim)",
        f"{tfc['verification']['n']} inputs against the QONNX reference",
    ):
        assert text in card, text
    assert card.count("bit-exact") == 2
    assert card.count('<span class="badge estimated">') == 3  # FPS, latency, fit
    assert card.count('<span class="badge measured">') == 5


def test_cycles_chart_has_every_stage_and_marks_the_bottleneck(tfc, tfc_page):
    sec = section(tfc_page, "cycles")
    (svg,) = svgs(sec)
    for lay in tfc["layers"]:
        assert f">{lay['name']}<" in svg
    worst = tfc["totals"]["bottleneck_cycles"]  # tfc's slowest stage is the DMA input edge
    assert ">DMA input<" in svg and f">{worst}  ◀ bottleneck<" in svg
    assert "fill: #c00000" in svg  # the bottleneck's bar
    cpi = tfc["rtlsim"]["cycles_per_image"]
    assert f"measured by rtlsim: {cpi:,.0f} cycles/image" in svg
    assert "(estimated: cycle model" in svg
    assert "The slowest stage is <b>DMA input</b>" in sec


def test_dataflow_graph_draws_layers_folding_widths_and_fifo_depths(tfc, tfc_page):
    (svg,) = svgs(section(tfc_page, "dataflow"))
    assert 'class="graph"' in svg
    for lay in tfc["layers"]:
        assert f">{lay['name']}<" in svg and f">{lay['kind']}<" in svg
        assert f">{folding_text(lay)} · {lay['cycles']:,} cyc<" in svg
    occ = tfc["rtlsim"]["fifo_max_occupancy"]
    for e in tfc["fifos"]["edges"]:
        assert f">{e['width']} b<" in svg
        assert f">depth {e['depth']}, max {occ[e['stream']]}<" in svg
    assert svg.count("<polyline") == len(tfc["fifos"]["edges"])
    assert svg.count("<g><title>") == len(tfc["layers"]) + 2  # and the two DMA ends
    assert svg.count('stroke="#C00000"') == 1  # the bottleneck's box


def test_resources_with_synth_show_estimate_and_yosys_against_the_budget(tfc, tfc_page):
    sec = section(tfc_page, "resources")
    budget, per_layer = svgs(sec)
    t = tfc["totals"]
    est = t["resources_with_shell"]["LUT"]
    syn = tfc["synth"]["fits"]["LUT"]
    assert f"estimated: {est:,} of {t['board_budget']['LUT']:,}" in budget
    assert f"synthesized (Yosys): {syn['used'] + syn['shell']:,} of {syn['available']:,}" in budget
    assert ">board budget<" in budget and ">FF<" in budget  # FF: Yosys only
    assert ">DSP<" not in budget  # no DSP anywhere, shell included: no empty bar
    mm0 = next(lay for lay in tfc["layers"] if lay["name"] == "MatMul_0")
    cells = tfc["synth"]["layers"]["MatMul_0"]
    assert f">{mm0['resources']['LUT']:,}<" in per_layer
    assert f">{cells['LUT'] + cells['LUTRAM'] + cells['SRL']:,}<" in per_layer
    assert ">LUT<" in per_layer and ">BRAM18<" not in per_layer and ">DSP<" not in per_layer
    assert "Not drawn per layer, zero in every layer: BRAM18, DSP." in sec
    assert "The estimate is off by LUT +3.0%" in sec
    assert '<span class="badge measured">' in sec


def test_resources_without_synth_show_the_estimate_alone(tfc):
    del tfc["synth"]
    sec = section(render_html(tfc, VERSIONS), "resources")
    budget, per_layer = svgs(sec)
    assert "synthesized" not in budget + per_layer and ">FF<" not in budget
    assert "Run bitfab synth BUILD_DIR" in sec
    assert '<span class="badge measured">' not in sec


def test_rtlsim_section_shows_busy_starved_and_back_pressured_per_layer(tfc, tfc_page):
    sec = section(tfc_page, "rtlsim")
    (svg,) = svgs(sec)
    for row in tfc["rtlsim"]["layers"]:
        assert f">{row['name']}<" in svg
        if row["starved"] > 0:
            assert f">{100 * row['starved']:.0f}%<" in svg
    assert ">busy<" in svg and ">starved (input empty)<" in svg
    assert ">back-pressured (output full)<" in svg
    assert "(measured: rtlsim, Verilator)" in svg
    assert "Measured by verilator 5.48.0" in sec and "<b>pass</b>" in sec


def test_verification_is_said_in_words(tfc, tfc_page):
    sec = section(tfc_page, "verification")
    assert "C-simulation (HLS C++ via g++): <b>Bit-exact</b> on 5 inputs" in sec
    assert "RTL simulation (Verilator): <b>Bit-exact</b> on 2 inputs" in sec
    assert "QONNX reference" in sec and "{" not in sec  # words, not a JSON dump


def test_a_failed_verification_names_the_first_layer_that_differs():
    v = {
        "n": 3,
        "compared": "outputs",
        "csim_vs_dataflow_mismatches": 1,
        "reference_mismatches": 2,
        "reference_rounding": 1,
        "status": "mismatch",
        "first_mismatch": {"sample": 1, "layer": "MatMul_2"},
    }
    text = str(verification_words(v, "C-simulation"))
    assert text.startswith("<b>Failed</b> on 3 inputs: 2 differ from the QONNX reference")
    assert "1 of the C-simulation&#39;s outputs differ" in text
    assert "input 1, first layer that differs: <b>MatMul_2</b>" in text
    assert "1 of the inputs differed from the float32 reference only by its rounding" in text


def test_tool_versions_list_the_packages_and_the_tools_that_measured(tfc, tfc_page):
    sec = section(tfc_page, "versions")
    for name, version in VERSIONS.items():
        assert f"<td>{name}</td><td>{version}</td>" in sec
    assert "<td>verilator 5.48.0</td>" in sec
    assert "<td>Yosys 0.70</td>" in sec
    assert "matplotlib (this page&#39;s charts)" in sec


def test_a_build_without_verify_rtlsim_or_synth_renders_without_them(tfc):
    for key in ("rtlsim", "synth", "verification"):
        del tfc[key]
    page = render_html(tfc, VERSIONS)
    assert section_ids(page) == ["summary", "cycles", "dataflow", "resources", "layers", "versions"]
    charts = re.findall(r'<svg[^>]*class="chart"', page)
    assert len(charts) == 3  # cycles, budget, per-layer: no rtlsim chart
    assert "rtlsim" not in section(page, "cycles") and "starved" not in page
    assert "synthesized" not in section(page, "resources") and "synth</th>" not in page
    card = section(page, "summary")
    assert ">not run<" in card and "(rtlsim)" not in card and "Yosys" not in card


def test_a_layer_name_from_the_model_file_is_escaped(tfc):
    bad = "<img src=x onerror=alert(1)>"
    old = tfc["layers"][0]["name"]
    tfc["layers"][0]["name"] = bad
    for e in tfc["fifos"]["edges"]:
        e["writer"] = bad if e["writer"] == old else e["writer"]
        e["reader"] = bad if e["reader"] == old else e["reader"]
    page = render_html(tfc, VERSIONS)
    assert "<img" not in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_report_html_renders_the_residual_fork_and_join(residual):
    (svg,) = svgs(section(render_html(residual, VERSIONS), "dataflow"))
    fork = next(e for e in residual["fifos"]["edges"] if e["writer"].startswith("Fork"))
    assert f">{fork['writer']}<" in svg and ">StreamFork<" in svg and ">StreamAdd<" in svg
    writers = [e["writer"] for e in residual["fifos"]["edges"]]
    assert writers.count(fork["writer"]) == 2


# ---- the drawing's layout ---------------------------------------------------------------


def _segments(points):
    return list(zip(points, points[1:], strict=False))


def _cross(a, b) -> bool:
    """Whether two axis-parallel segments cross at a point inside both."""
    (p, q), (r, s) = a, b
    if (p[0] == q[0]) == (r[0] == s[0]):
        return False  # parallel: overlapping runs would be a separate defect
    v, h = (a, b) if p[0] == q[0] else (b, a)
    x, (y0, y1) = v[0][0], sorted((v[0][1], v[1][1]))
    y, (x0, x1) = h[0][1], sorted((h[0][0], h[1][0]))
    return x0 < x < x1 and y0 < y < y1


def _check(nodes, edges):
    lay = layout(nodes, edges)
    boxes = list(lay.boxes.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert abs(a.x - b.x) >= NODE_W or abs(a.y - b.y) >= NODE_H, (a, b)
    for (s, d), route in zip(edges, lay.routes, strict=True):
        assert route.points[0][0] == lay.boxes[s].x + NODE_W  # leaves the writer's right side
        assert route.points[-1][0] == lay.boxes[d].x  # enters the reader's left side
        for p, q in _segments(route.points):
            assert p[0] == q[0] or p[1] == q[1]
            assert 0 <= min(p[0], q[0]) and max(p[0], q[0]) <= lay.width
    for i, r1 in enumerate(lay.routes):
        for r2 in lay.routes[i + 1 :]:
            for a in _segments(r1.points):
                for b in _segments(r2.points):
                    assert not _cross(a, b), (a, b)
    return lay


def test_a_40_layer_chain_wraps_into_rows_of_four():
    nodes = ["in"] + [f"layer_{i}" for i in range(40)] + ["out"]
    lay = _check(nodes, list(zip(nodes, nodes[1:], strict=False)))
    assert len(lay.rows) == math.ceil(42 / 4)
    assert lay.width < 1400  # the page scales it by less than 1.3: 12 px names stay legible


def _fork_join(main: int) -> tuple[list[str], list[tuple[str, str]]]:
    path = [f"conv_{i}" for i in range(main)]
    nodes = ["in", "pre", "fork", *path, "add", "post", "out"]
    edges = [("in", "pre"), ("pre", "fork"), ("fork", path[0])]
    edges += list(zip(path, path[1:], strict=False))
    edges += [(path[-1], "add"), ("fork", "add"), ("add", "post"), ("post", "out")]
    return nodes, edges


def test_a_residual_block_keeps_its_skip_wire_in_a_lane_of_its_own():
    nodes, edges = _fork_join(2)
    lay = _check(nodes, edges)
    skip = lay.routes[edges.index(("fork", "add"))]
    main_y = lay.boxes["conv_0"].y + NODE_H / 2
    assert max(y for _, y in skip.points) > main_y + NODE_H  # runs below the main path
    fork_row = next(i for i, r in enumerate(lay.rows) if 2 in r)
    assert 2 + 2 + 1 in lay.rows[fork_row]  # the block stays in one row: its add too


def test_a_residual_block_longer_than_a_row_wraps_without_crossing_wires():
    nodes, edges = _fork_join(9)
    lay = _check(nodes, edges)
    assert len(lay.rows) >= 3
    for r in lay.routes:  # every label lies on its wire
        assert r.label_at in r.points or any(
            min(p[0], q[0]) <= r.label_at[0] <= max(p[0], q[0]) and p[1] == q[1] == r.label_at[1]
            for p, q in _segments(r.points)
        )


# ---- re-rendering, determinism ------------------------------------------------------------


def _finished_dir(tmp_path: Path, rep: dict) -> Path:
    d = tmp_path / "build"
    d.mkdir()
    (d / "report.json").write_text(json.dumps(rep))
    (d / "manifest.json").write_text(json.dumps({"versions": {"qonnx": "9.9.9"}}))
    return d


def test_adding_a_section_re_renders_the_page_with_it(tfc, tmp_path):
    sim = tfc.pop("rtlsim")
    d = _finished_dir(tmp_path, tfc)
    add_section(d, "rtlsim", sim)
    page = (d / "report.html").read_text()
    assert "rtlsim" in section_ids(page) and "<td>qonnx</td><td>9.9.9</td>" in page
    assert json.loads((d / "report.json").read_text())["rtlsim"] == sim


_RENDER = (
    "import json, sys; from flows.report_html import render_html; "
    "sys.stdout.write(render_html(json.load(open(sys.argv[1])), {'bitfab': '0.1.0'}))"
)


def test_the_same_report_gives_the_same_bytes_in_another_process(residual):
    """Another interpreter, another hash seed: the same bytes (no date, no random ids)."""
    env = {**os.environ, "PYTHONHASHSEED": "12345", "PYTHONPATH": str(REPO_ROOT)}
    cmd = [sys.executable, "-c", _RENDER, str(REPORTS / "residual.json")]
    other = subprocess.run(cmd, capture_output=True, env=env, check=True).stdout
    here = render_html(residual, {"bitfab": "0.1.0"}).encode()
    assert here == other and here.count(b"<svg") == 5
    assert b"<metadata>" not in here  # and no address a browser would fetch:
    links = set(re.findall(rb"https?://[^\s\"']+", here))
    assert links == {b"http://www.w3.org/2000/svg", b"http://www.w3.org/1999/xlink"}  # XML names


@pytest.mark.csim
def test_bitfab_verify_writes_its_result_into_the_page(built, tmp_path):
    d = tmp_path / "tfc"
    shutil.copytree(built("tfc-w1a1"), d, symlinks=True)
    r = run_cli(["verify", d, "--n", "2"])
    assert r.exit_code == 0, r.stderr
    assert json.loads((d / "report.json").read_text())["verification"]["n"] == 2
    page = (d / "report.html").read_text()
    assert "C-simulation (HLS C++ via g++): <b>Bit-exact</b> on 2 inputs" in page


# ---- in a browser -------------------------------------------------------------------------


@pytest.mark.slow
def test_report_html_renders_in_headless_chromium(tfc, tmp_path):
    """The page as a browser draws it, with no network: not blank, in colour, the bottleneck's
    red on screen."""
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (Debian: apt-get install chromium)")
    from PIL import Image

    html = tmp_path / "report.html"
    html.write_text(render_html(tfc, VERSIONS))
    png = tmp_path / "shot.png"
    cmd = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    cmd += ["--window-size=1200,4200", f"--screenshot={png}", html.as_uri()]
    subprocess.run(cmd, capture_output=True, check=True, timeout=120)
    img = Image.open(png).convert("RGB")
    pixels = list(img.getdata())
    background = {(255, 255, 255), (244, 245, 247)}  # the cards and the page
    inked = sum(p not in background for p in pixels)
    assert inked > 0.05 * len(pixels), inked
    assert len(set(pixels)) > 50  # charts, badges, text: not a single-colour page
    assert (192, 0, 0) in set(pixels)  # the bottleneck's bar and box
