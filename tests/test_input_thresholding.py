"""An integer-annotated input (UINT8 pixels) gets its quantizer as a hardware Thresholding."""

from __future__ import annotations

import json

import numpy as np
import pytest
from qonnx.core.datatype import DataType
from qonnx.core.onnx_exec import execute_onnx

from flows.frontend import import_model
from flows.passes.absorb_into_thresholds import AbsorbIntoThresholds
from flows.passes.input_quant_to_thresholds import InputQuantToThresholds
from flows.verify import verify_build
from tests import qonnx_factory as qf


def _uint8_model(tmp_path):
    m = qf.FACTORIES["preproc_mlp_muladd"](0)
    m.set_tensor_datatype(m.graph.input[0].name, DataType["UINT8"])
    path = tmp_path / "uint8_in.onnx"
    m.save(str(path))
    return path


def test_pass_structure_and_outputs(tmp_path):
    m0 = import_model(_uint8_model(tmp_path))
    m1 = m0.transform(AbsorbIntoThresholds())
    m2 = m1.transform(InputQuantToThresholds())
    mts = m2.get_nodes_by_op_type("MultiThreshold")
    first = m2.find_consumers(m2.graph.input[0].name)[0]
    assert first.op_type == "MultiThreshold" and first in mts
    assert m2.get_initializer(first.input[1]).shape[0] == 1  # scalar preprocessing: shared
    iname = m0.graph.input[0].name
    for v in range(256):  # every possible pixel value, on all inputs at once
        x = np.full(m0.get_tensor_shape(iname), v, np.float32)
        a = execute_onnx(m1, {iname: x})[m1.graph.output[0].name]
        b = execute_onnx(m2, {iname: x})[m2.graph.output[0].name]
        assert np.array_equal(a, b), v


@pytest.mark.csim
def test_build_has_thresholding_layer_and_verifies(tmp_path, built):
    d = built(str(_uint8_model(tmp_path)))
    report = json.loads((d / "report.json").read_text())
    assert report["layers"][0]["kind"] == "Thresholding"
    assert report["layers"][0]["shared_thresholds"] is True
    v = verify_build(d, 300)
    assert v["status"] == "pass", v
