"""Fold a Relu that follows a thresholded layer into its thresholds."""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes


class AbsorbReluIntoThresholds(Transformation):
    """``MultiThreshold(out_bias=b < 0, step 1) -> Relu`` is ``max(b + count, 0)``: the same as
    a MultiThreshold without its first ``-b`` thresholds and with ``out_bias=0`` (thresholds are
    ascending per channel). This is how ``Quant -> Relu`` activations (Relu after the
    quantizer) enter the dataflow design.

    Requires: AbsorbIntoThresholds and RemoveScaleRoundTrips applied.
    Ensures: no Relu directly after a MultiThreshold; outputs unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for relu in model.get_nodes_by_op_type("Relu"):
            mt = model.find_producer(relu.input[0])
            if mt is None or mt.op_type != "MultiThreshold":
                continue
            if len(model.find_consumers(mt.output[0])) != 1:
                continue
            inst = getCustomOp(mt)
            bias, step = inst.get_nodeattr("out_bias"), inst.get_nodeattr("out_scale")
            if step != 1 or bias != int(bias):
                continue
            t = model.get_initializer(mt.input[1])
            drop = max(0, -int(bias))
            if drop >= t.shape[1]:
                continue  # a constant zero layer: leave it to the host
            t_name = model.make_new_valueinfo_name()
            model.set_initializer(t_name, np.ascontiguousarray(t[:, drop:]))
            mt.input[1] = t_name
            inst.set_nodeattr("out_bias", float(max(int(bias), 0)))
            levels = t.shape[1] - drop
            dt = DataType[f"UINT{max(1, int(levels).bit_length())}"]
            inst.set_nodeattr("out_dtype", dt.name)
            mt.output[0] = relu.output[0]
            # provenance: this layer now reproduces the reference's Relu output
            for a in mt.attribute:
                if a.name == "ref_tensor":
                    a.s = relu.output[0].encode()
            model.graph.node.remove(relu)
            model.set_tensor_datatype(relu.output[0], dt)
            return model.transform(InferShapes()), True
        return model, False
