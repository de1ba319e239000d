"""End to end: a Brevitas conv net ending in a quantized global average pool
(TruncAdaptiveAvgPool2d: ReduceMean + Trunc) and an FC layer builds, verifies bit-exact in
C-simulation and passes RTL simulation."""

from __future__ import annotations

import json

import pytest

from tests.avgpool_factory import brevitas_gap_cnn
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


def _kinds(out):
    report = json.loads((out / "report.json").read_text())
    return [layer["kind"] for layer in report["layers"]]


def test_global_avgpool_net_verifies_exactly(tmp_path):
    """Power-of-two scales: every float32 op of the reference is exact, so the outputs agree
    without any reference rounding."""
    onnx = brevitas_gap_cnn(tmp_path / "gap.onnx", seed=1, fixed_point=True)
    out = tmp_path / "b"
    r = run_cli(["build", onnx, "--out", out, "--verify", 30])
    assert r.exit_code == 0, r.stderr
    assert "reference mismatches 0, reference rounding 0" in r.stdout, r.stdout
    kinds = _kinds(out)
    i = kinds.index("StreamingAvgPool")
    assert kinds[i + 1] == "Thresholding"  # the Trunc, as thresholds on the window sum


@pytest.mark.slow  # an export, a build and a Verilator compile (~40 s)
def test_global_avgpool_net_with_float_scales_passes_rtlsim(tmp_path):
    onnx = brevitas_gap_cnn(tmp_path / "gap.onnx", seed=2, fixed_point=False)
    out = tmp_path / "b"
    r = run_cli(["build", onnx, "--out", out, "--verify", 20])
    assert r.exit_code == 0, r.stderr
    assert "reference mismatches 0" in r.stdout, r.stdout
    assert "StreamingAvgPool" in _kinds(out)
    r = run_cli(["rtlsim", out, "--n", 3])
    assert r.exit_code == 0, r.stderr
    assert "3 images, pass" in r.stdout, r.stdout
