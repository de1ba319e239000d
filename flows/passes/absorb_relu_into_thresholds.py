"""Fold a Relu that follows a thresholded layer into its thresholds."""

from __future__ import annotations

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation
from qonnx.util.basic import get_by_name

from flows.ops import DTYPE_PRESERVING_OPS
from flows.passes.infer_shapes import InferShapes


class AbsorbReluIntoThresholds(Transformation):
    """``MultiThreshold(out_bias=b < 0, step 1) -> Relu`` is ``max(b + count, 0)``: the same as
    a MultiThreshold without its first ``-b`` thresholds and with ``out_bias=0`` (thresholds are
    ascending per channel). This is how ``Quant -> Relu`` activations (Relu after the
    quantizer) enter the dataflow design; after a conv the Relu follows the thresholds'
    transpose back to NCHW, which it commutes with.

    Requires: AbsorbIntoThresholds and RemoveScaleRoundTrips applied.
    Ensures: no Relu directly after a MultiThreshold; outputs unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for relu in model.get_nodes_by_op_type("Relu"):
            mt = model.find_producer(relu.input[0])
            # a conv's thresholds are followed by the transpose back to NCHW (Relu commutes)
            tr = mt if mt is not None and mt.op_type == "Transpose" else None
            if tr is not None:
                if len(model.find_consumers(tr.output[0])) != 1:
                    continue
                mt = model.find_producer(tr.input[0])
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
            if tr is not None:
                tr.output[0] = relu.output[0]
                model.set_tensor_datatype(mt.output[0], dt)
            else:
                mt.output[0] = relu.output[0]
            # provenance: this layer now reproduces the reference's Relu output
            ref = get_by_name(mt.attribute, "ref_tensor")
            if ref is not None:
                ref.s = relu.output[0].encode()
            model.graph.node.remove(relu)
            model.set_tensor_datatype(relu.output[0], dt)
            _propagate_datatype(model, relu.output[0], dt)
            return model.transform(InferShapes()), True
        return model, False


def _propagate_datatype(model: ModelWrapper, tensor: str, dt) -> None:
    """The Relu narrowed ``tensor`` to ``dt`` (e.g. INT8 -> UINT7): re-annotate the layout
    ops after it too (their outputs carry the producer's datatype, as AbsorbIntoThresholds
    annotated them), or the next layer's stream and the sliding window before it would
    disagree on the element width."""
    cur = tensor
    while True:
        cons = model.find_consumers(cur)
        if len(cons) != 1 or cons[0].op_type not in DTYPE_PRESERVING_OPS:
            return
        cur = cons[0].output[0]
        model.set_tensor_datatype(cur, dt)
