"""1-D convolutional nets (radio/audio style): Brevitas QuantConv1d/MaxPool1d exports build as
2-D nets of height 1, verify bit-exact against the original 1-D model and pass rtlsim."""

from __future__ import annotations

import json

import pytest
from qonnx.core.modelwrapper import ModelWrapper

from tests import brevitas_factory
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


@pytest.fixture(scope="module")
def conv1d(tmp_path_factory):
    return brevitas_factory.conv1d_net(tmp_path_factory.mktemp("c1d") / "conv1d.onnx")


@pytest.fixture(scope="module")
def conv1d_build(conv1d, tmp_path_factory):
    out = tmp_path_factory.mktemp("c1d_build") / "b"
    r = run_cli(["build", conv1d, "--out", out, "--verify", "30"])
    assert r.exit_code == 0, r.stderr
    return out


def test_brevitas_conv1d_net_builds_and_verifies_bit_exact(conv1d_build):
    report = json.loads((conv1d_build / "report.json").read_text())
    v = report["verification"]
    assert v["status"] == "pass" and v["n"] == 30, v
    assert v["reference_mismatches"] == 0 and v["csim_vs_dataflow_mismatches"] == 0, v
    kinds = [lay["kind"] for lay in report["layers"]]
    assert kinds.count("SlidingWindow") == 2 and kinds.count("StreamingMaxPool") == 1
    assert kinds.count("MVAU") == 3
    # the reference stays the original 1-D model
    ref = ModelWrapper(str(conv1d_build / "reference.onnx"))
    assert ref.get_tensor_shape(ref.graph.input[0].name) == [1, 2, 64]
    for node in ref.get_nodes_by_op_type("Conv") + ref.get_nodes_by_op_type("MaxPool"):
        assert len(ref.get_tensor_shape(node.input[0])) == 3


def test_brevitas_conv1d_net_passes_rtlsim(conv1d_build):
    r = run_cli(["rtlsim", conv1d_build, "--n", "3"])
    assert r.exit_code == 0, r.stderr


def test_radio1d_zoo_entry_is_listed_and_builds_bit_exact(tmp_path):
    r = run_cli(["models"])
    line = next(x for x in r.stdout.splitlines() if x.startswith("radio1d-w4a4 "))
    assert line.split() == ["radio1d-w4a4", "radio1d", "W4A4", "in=8b", "radioml", "input"] + [
        "(1,",
        "2,",
        "128)",
    ]
    r = run_cli(["build", "radio1d-w4a4", "--out", tmp_path / "b", "--verify", "20"])
    assert r.exit_code == 0, r.stderr
    v = json.loads((tmp_path / "b" / "report.json").read_text())["verification"]
    assert v["status"] == "pass" and v["n"] == 20 and v["reference_mismatches"] == 0, v
