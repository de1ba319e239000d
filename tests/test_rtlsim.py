"""bitfab rtlsim: the RTL top of a build, simulated with Verilator, verified bit-exactly
through the driver's packing and beats, measured, and its FIFOs sized by simulation."""

from __future__ import annotations

import json
import shutil
import signal
import subprocess
import time

import numpy as np
import pytest

from boards.driver.accelerator import Accelerator
from flows.build import check_finished
from tests.helpers import BITFAB, run_cli

pytestmark = pytest.mark.csim


@pytest.fixture(scope="module")
def tfc(built, tmp_path_factory):
    """A private copy of a tfc-w1a1 build (rtlsim writes into its build directory)."""
    d = tmp_path_factory.mktemp("rtlsim") / "tfc"
    shutil.copytree(built("tfc-w1a1"), d)
    return d


def test_rtlsim_passes_and_measures_the_design(tfc):
    r = run_cli(["rtlsim", tfc, "--n", 12])
    assert r.exit_code == 0, r.output
    assert "12 images, pass" in r.stdout
    rep = json.loads((tfc / "report.json").read_text())
    s = rep["rtlsim"]
    assert s["status"] == "pass" and s["n"] == 12 and s["simulator"].startswith("verilator")
    assert s["verification"]["rtlsim_vs_dataflow_mismatches"] == 0
    assert s["verification"]["reference_mismatches"] == 0
    # the steady state is the slowest stage of the cost model for this RTL: exactly
    assert s["cycles_per_image"] == s["estimated_cycles_per_image"], s
    assert s["measured_vs_estimate"] == 0
    # both backends' edge adapters overlap beats and words: the report's estimate is the RTL's
    assert s["cycles_per_image"] == rep["totals"]["bottleneck_cycles"]
    assert s["latency_cycles"] >= s["cycles_per_image"] * 0.5
    assert s["fps"] == pytest.approx(s["clock_mhz"] * 1e6 / s["cycles_per_image"], rel=1e-3)
    assert len(s["fifo_depths"]) == len(s["fifo_max_occupancy"]) >= 2
    for row in s["layers"]:  # tfc has no layer whose two sides run independently
        assert row["busy"] + row["starved"] + row["back_pressured"] == pytest.approx(1, abs=1e-3)
        # shares of the cycles from the first input beat on: the set-up before it is not
        # starving (it was: DWC_MatMul_0 starved for 105% of the run)
        assert all(0 <= row[k] <= 1 for k in ("busy", "starved", "back_pressured")), row
    page = (tfc / "report.html").read_text()  # re-rendered with the measured section
    assert 'id="rtlsim"' in page and f"Measured by {s['simulator']}" in page


def test_driver_rtlsim_backend_reports_simulated_cycles(tfc):
    run_cli(["rtlsim", tfc, "--n", 4])  # compiles (cached) and records the model
    acc = Accelerator.from_build(tfc, backend="rtlsim")
    x = np.random.default_rng(3).uniform(-1, 1, (5, *acc.input_shape[1:])).astype(np.float32)
    csim = Accelerator.from_build(tfc, backend="csim")
    np.testing.assert_array_equal(acc.execute(x), csim.execute(x))
    t = acc.throughput_test(batch=6)
    assert t["backend"] == "rtlsim" and t["measured"] == "simulated cycles"
    assert t["fps"] > 0 and t["latency_cycles"] > 0
    r = run_cli(["run", tfc, "--backend", "rtlsim", "--batch", 8])
    assert r.exit_code == 0, r.output
    assert "simulated cycles" in r.stdout and "8/8 bit-identical" in r.stdout


def test_rtlsim_refuses_a_build_without_rtl(tfc, tmp_path):
    d = tmp_path / "old"
    shutil.copytree(tfc, d)
    shutil.rmtree(d / "rtl")
    r = run_cli(["rtlsim", d])
    assert r.exit_code == 1 and "no rtl/design.json" in r.output and "rebuild" in r.output
    (d / "rtl").mkdir()
    (d / "rtl" / "design.json").write_text("{not json")
    r = run_cli(["rtlsim", d])
    assert r.exit_code == 1 and "unreadable" in r.output


def test_rtlsim_refuses_a_foreign_directory(tmp_path):
    r = run_cli(["rtlsim", tmp_path])
    assert r.exit_code == 1 and "manifest" in r.output


def test_an_rtl_mismatch_names_the_image_and_output(tfc, tmp_path):
    d = tmp_path / "bad"
    shutil.copytree(tfc, d)
    mem = sorted((d / "rtl").glob("*weight_file.mem"))[-1]  # the last layer's weights
    lines = mem.read_text().splitlines()
    flipped = format(int(lines[0], 16) ^ 1, f"0{len(lines[0])}x")
    mem.write_text("\n".join([flipped, *lines[1:]]) + "\n")
    r = run_cli(["rtlsim", d, "--n", 8])
    assert r.exit_code == 3, r.output
    assert "rtlsim mismatch at image" in r.output and "output element" in r.output
    assert json.loads((d / "report.json").read_text())["rtlsim"]["status"] == "mismatch"


@pytest.mark.slow  # a rebuild from the fold step and three simulations (~40 s); CI covers sizing
def test_size_fifos_rebuilds_with_the_sized_depths(tfc, tmp_path):  # in test_fifo_sizing.py
    d = tmp_path / "sized"
    shutil.copytree(tfc, d)
    r = run_cli(["rtlsim", d, "--n", 6, "--size-fifos"])
    assert r.exit_code == 0, r.output
    assert "FIFO sizing" in r.stdout
    s = json.loads((d / "report.json").read_text())["rtlsim"]
    fs = s["fifo_sizing"]
    assert fs["throughput_loss"] <= 0.02 and s["status"] == "pass"
    sized = [e["sized_depth"] for e in fs["edges"]]
    assert all(e["verdict"] for e in fs["edges"])
    # the depths are the design's now: folding.json, the RTL top, the HLS top, the report
    # the rebuild names its width converters' tensors afresh: compare edge by edge
    design = json.loads((d / "rtl" / "design.json").read_text())
    assert [f["depth"] for f in design["fifos"]] == sized
    assert sorted(s["fifo_depths"].values()) == sorted(sized)
    top_v = (d / "rtl" / "bitfab_top.v").read_text()
    for i, depth in enumerate(sized):
        assert f"parameter FIFO_DEPTH_{i} = {depth}" in top_v
    hls = (d / "hls" / "top.cpp").read_text()
    assert hls.count("#pragma HLS STREAM") == len(sized)
    folding = json.loads((d / "folding.json").read_text())["layers"]
    assert sorted(d for e in folding.values() for d in e.get("inFIFODepths", [])) == sorted(
        sized[:-1]
    )
    assert json.loads((d / "manifest.json").read_text())["status"] == "done"
    assert not (d.parent / "sized.sizing").exists() and not (d.parent / "sized.old").exists()


def test_a_verilog_error_exits_2_with_verilators_first_error(tfc, tmp_path):
    d = tmp_path / "broken"
    shutil.copytree(tfc, d, ignore=shutil.ignore_patterns("obj"))
    report = (d / "report.json").read_text()
    top = d / "rtl" / "bitfab_top.v"
    top.write_text(top.read_text().replace("endmodule", "endmodul", 1))
    r = run_cli(["rtlsim", d, "--n", 2])
    assert r.exit_code == 2, r.output
    assert "Verilator failed to compile" in r.output and "%Error" in r.output
    assert (d / "report.json").read_text() == report  # nothing half-written
    assert not list((d / "rtl" / "obj").glob(".build-*"))  # no half-built model either


def test_without_verilator_exit_2(tfc, monkeypatch):
    from flows.errors import ToolMissingError
    from flows.sim import verilator as vl

    def missing():
        raise ToolMissingError("Verilator is not installed: it comes with `make install`")

    monkeypatch.setattr(vl, "verilator", missing)
    r = run_cli(["rtlsim", tfc, "--n", 2])
    assert r.exit_code == 2 and "make install" in r.output


@pytest.mark.slow  # ~1 min; the interrupt path of every command: tests/test_interruption.py
def test_an_interrupted_rtlsim_leaves_the_build_valid(tfc, tmp_path):
    d = tmp_path / "term"
    shutil.copytree(tfc, d, ignore=shutil.ignore_patterns("obj"))
    report = (d / "report.json").read_text()
    proc = subprocess.Popen(
        [*BITFAB, "rtlsim", str(d), "--n", "4"], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not list((d / "rtl" / "obj").glob(".build-*")):  # Verilator is at work
        assert proc.poll() is None and time.monotonic() < deadline
        time.sleep(0.02)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 128 + signal.SIGTERM and "Traceback" not in err
    check_finished(d)  # still a finished build
    assert (d / "report.json").read_text() == report
    assert not list((d / "rtl" / "obj").glob(".build-*"))
    assert run_cli(["rtlsim", d, "--n", 4]).exit_code == 0  # and rtlsim works on it next time


def test_the_deadlock_timeout_outlasts_the_first_images_latency(tmp_path):
    """Slow layers one after the other delay the first output beat past 4x the slowest layer
    (FINN's cnv-w1a1 folding: 133,854 cycles of latency at 32,768 an image)."""
    from flows.sim.rtlsim import MIN_IDLE, RtlDesign

    layers = [{"cycles": c} for c in (32_400, 28_224, 28_800, 18_432)]
    assert RtlDesign(tmp_path, {"layers": layers}).max_idle() == 2 * sum(
        layer["cycles"] for layer in layers
    )
    assert RtlDesign(tmp_path, {"layers": [{"cycles": 13}]}).max_idle() == MIN_IDLE
