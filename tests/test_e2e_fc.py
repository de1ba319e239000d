"""End to end: zoo FC models and foreign QONNX files build and verify bit-exactly."""

from __future__ import annotations

import json

import pytest

from flows.verify import verify_build
from tests import qonnx_factory as qf
from tests.helpers import in_ci, run_cli

pytestmark = pytest.mark.csim


def test_tfc_w1a1_cli_build_and_verify_500(tmp_path):
    out = tmp_path / "t"
    r = run_cli(["build", "tfc-w1a1", "--board", "pynq-z2", "--out", out])
    assert r.exit_code == 0, r.stderr
    r = run_cli(["verify", out, "--n", "500"])
    assert r.exit_code == 0, r.stderr
    assert "500 inputs, pass" in r.stdout
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "done"
    report = json.loads((out / "report.json").read_text())
    assert [lay["kind"] for lay in report["layers"]].count("MVAU") == 4
    assert all(lay["mac"] == "XNOR" for lay in report["layers"][1:] if lay["kind"] == "MVAU")


@pytest.mark.parametrize(
    "name", in_ci(["tfc-w2a2", "sfc-w1a2", "tfc-w1a2", "sfc-w1a1", "sfc-w2a2"], 2)
)
def test_fc_zoo_verifies(built, name):
    v = verify_build(built(name), 300)
    assert v["status"] == "pass", v
    assert v["reference_mismatches"] == 0 and v["csim_vs_dataflow_mismatches"] == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", ["lfc-w1a1", "lfc-w1a2", "lfc-w2a2"])
def test_lfc_zoo_verifies(built, name):
    v = verify_build(built(name), 500)
    assert v["status"] == "pass", v


# Multi-output graphs are rejected with a clear error; every other kind must verify.
FOREIGN = sorted(k for k in qf.FACTORIES if k != "gemm_bias_topk_both")
# CI builds every third one (a spread of rounding modes and graph shapes); test-all every one
FOREIGN = FOREIGN[::3] + FOREIGN[1::3] + FOREIGN[2::3]


@pytest.mark.parametrize("kind", in_ci(FOREIGN, (len(FOREIGN) + 2) // 3))
def test_foreign_qonnx_builds_and_verifies(tmp_path, built, kind):
    path = tmp_path / f"{kind}.onnx"
    qf.FACTORIES[kind](0).save(str(path))
    v = verify_build(built(str(path)), 300)
    assert v["status"] == "pass", v


def test_folding_file_is_applied_and_still_exact(tmp_path, built):
    d = built("tfc-w1a1")
    folding = json.loads((d / "folding.json").read_text())
    # refold the MVAUs; width converters (and their FIFO entries) follow the new folding
    folding["layers"] = {
        name: {"SIMD": 16, "PE": 2} for name, e in folding["layers"].items() if "SIMD" in e
    }
    f = tmp_path / "fold.json"
    f.write_text(json.dumps(folding))
    d2 = built("tfc-w1a1", folding=f)
    report = json.loads((d2 / "report.json").read_text())
    mvaus = [lay for lay in report["layers"] if lay["kind"] == "MVAU"]
    assert all(lay["SIMD"] == 16 and lay["PE"] == 2 for lay in mvaus)
    assert any(lay["kind"] == "StreamingDWC" for lay in report["layers"])
    assert verify_build(d2, 200)["status"] == "pass"


def test_run_command_reports_agreement_and_throughput(built):
    d = built("tfc-w1a1")
    r = run_cli(["run", d, "--backend", "csim", "--batch", "64"])
    assert r.exit_code == 0, r.stderr
    assert "64/64 bit-identical" in r.stdout
    assert "throughput (csim backend, wall time, batch 64, median of 5)" in r.stdout
    assert "images/s in compute" in r.stdout and "latency of one image (50 runs): p50" in r.stdout


def test_to_step_then_from_step_with_new_folding(tmp_path, zoo_onnx):
    from flows.build import run_build
    from flows.config import BuildConfig

    out = tmp_path / "fs"
    run_build(BuildConfig(model=str(zoo_onnx("tfc-w1a1")), out=out, to_step="fold"))
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "stopped after fold"
    assert not (out / "hls").exists()
    folding = json.loads((out / "folding.json").read_text())
    folding["layers"] = {
        name: {"SIMD": 16, "PE": 2} for name, e in folding["layers"].items() if "SIMD" in e
    }
    f = tmp_path / "fold.json"
    f.write_text(json.dumps(folding))
    run_build(
        BuildConfig(
            model=str(zoo_onnx("tfc-w1a1")), out=out, from_step="fold", folding=f, verify_n=50
        )
    )
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "done" and manifest["steps"]["import"] == "reused"
    assert manifest["verification"]["status"] == "pass"
    written = json.loads((out / "folding.json").read_text())["layers"]
    assert {
        name: {k: e[k] for k in ("SIMD", "PE")} for name, e in written.items() if "SIMD" in e
    } == (folding["layers"])
