"""--label-select end to end: the class index computed in hardware verifies bit-exactly (C-sim
and rtlsim) against the QONNX reference; a tail that is not order-preserving is kept on the
host, or refused naming the node when the option is forced."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest
from onnx import TensorProto
from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.accelerator import Accelerator
from flows.verify import draw_inputs, run_reference, verify_build
from tests import qonnx_factory as qf
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


def _factory(tmp_path, name: str):
    path = tmp_path / f"{name}.onnx"
    qf.FACTORIES[name](0).save(str(path))
    return path


def _kinds(build_dir) -> list[str]:
    return [lay["kind"] for lay in json.loads((build_dir / "report.json").read_text())["layers"]]


def _check_index_output(d, n: int = 64) -> None:
    """The driver returns the graph's int64 index [N, 1]: the first largest of the scores the
    reference computes before its TopK, for every input."""
    ref = ModelWrapper(str(d / "reference.onnx"))
    (topk,) = ref.get_nodes_by_op_type("TopK")
    x = draw_inputs(ref, n, seed=3)
    scores = run_reference(ref, x, full=True)[topk.input[0]]
    y = Accelerator.from_build(d).execute(x)
    assert y.dtype == np.int64 and y.shape == (n, 1)
    np.testing.assert_array_equal(y[:, 0], np.argmax(scores, axis=1))
    cfg = json.loads((d / "deploy" / "accel.json").read_text())
    assert [op["op_type"] for op in cfg["tail"]["ops"]] == ["Cast"]
    assert cfg["stream_out"]["elems"] == cfg["stream_out"]["words"] == 1


def test_a_foreign_net_selects_its_label_in_hardware(tmp_path, built):
    """relu_then_quant's tail is its last layer's scale alone: the label select moves."""
    d = built(str(_factory(tmp_path, "relu_then_quant")), label_select="hardware")
    assert _kinds(d)[-1] == "LabelSelect"
    v = verify_build(d, 200)
    assert v["status"] == "pass" and v["compared"] == "outputs", v
    assert v["reference_mismatches"] == 0 and v["csim_vs_dataflow_mismatches"] == 0
    _check_index_output(d)


def test_forced_on_a_per_label_bias_names_the_node_and_why(tmp_path):
    out = tmp_path / "b"
    src = _factory(tmp_path, "gemm_bias")
    r = run_cli(["build", src, "--out", out, "--label-select", "hardware", "--to-step", "dataflow"])
    assert r.exit_code == 1
    assert (
        "error: node 'TopK_0' (TopK): cannot select the label in hardware: node 'Add_2' (Add) "
        "before it applies a per-label constant (values -0.0886258 .. 0.12745), which changes "
        "which label is largest: the select must see its output; keep it on the host "
        "(--label-select auto or host)"
    ) in r.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["status"] == "failed" and manifest["steps"]["integerize"] == "failed"


def test_auto_keeps_a_per_label_tail_on_the_host(tmp_path):
    out = tmp_path / "b"
    src = _factory(tmp_path, "gemm_bias")
    r = run_cli(["build", src, "--out", out, "--label-select", "auto", "--to-step", "dataflow"])
    assert r.exit_code == 0, r.stderr
    m = ModelWrapper(str(out / "steps" / "03_dataflow.onnx"))
    assert [n.domain for n in m.get_nodes_by_op_type("TopK")] == [""]
    assert not m.get_nodes_by_op_type("LabelSelect")
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["label_select"] == "auto"


def test_by_default_a_net_that_outputs_scores_keeps_them(tmp_path):
    out = tmp_path / "b"
    src = _factory(tmp_path, "relu_then_quant")
    assert run_cli(["build", src, "--out", out, "--to-step", "import"]).exit_code == 0
    ref = ModelWrapper(str(out / "reference.onnx"))
    assert not ref.get_nodes_by_op_type("TopK")
    assert ref.graph.output[0].type.tensor_type.elem_type == TensorProto.FLOAT
    assert json.loads((out / "manifest.json").read_text())["config"]["label_select"] == "host"


@pytest.fixture(scope="module")
def tfc_select(tmp_path_factory):
    """tfc-w1a1 built with --label-select hardware and verified on 100 inputs (C-sim)."""
    d = tmp_path_factory.mktemp("label_select") / "tfc"
    r = run_cli(["build", "tfc-w1a1", "--out", d, "--label-select", "hardware", "--verify", 100])
    assert r.exit_code == 0, r.stderr
    assert "verify: 100 inputs, pass" in r.stdout
    return d


@pytest.mark.slow
def test_tfc_w1a1_selects_its_label_in_hardware(tfc_select):
    d = tfc_select
    manifest = json.loads((d / "manifest.json").read_text())
    assert manifest["config"]["label_select"] == "hardware"
    assert manifest["verification"] == {"n": 100, "status": "pass"}
    assert _kinds(d)[-1] == "LabelSelect" and _kinds(d).count("MVAU") == 4
    ref = ModelWrapper(str(d / "reference.onnx"))
    assert ref.graph.output[0].type.tensor_type.elem_type == TensorProto.INT64
    _check_index_output(d, 200)


@pytest.mark.slow
def test_tfc_w1a1_label_select_passes_rtlsim(tfc_select, tmp_path):
    d = tmp_path / "tfc"
    shutil.copytree(tfc_select, d)
    r = run_cli(["rtlsim", d, "--n", 16])
    assert r.exit_code == 0, r.output
    s = json.loads((d / "report.json").read_text())["rtlsim"]
    assert s["status"] == "pass" and s["verification"]["reference_mismatches"] == 0
    assert s["verification"]["rtlsim_vs_dataflow_mismatches"] == 0
    assert s["cycles_per_image"] == s["estimated_cycles_per_image"]
