"""Remove ``Mul(s) -> Div(s)`` pairs between integer layers."""

from __future__ import annotations

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.graph import is_graph_output, rewire
from flows.passes.infer_shapes import InferShapes


class RemoveScaleRoundTrips(Transformation):
    """Connect integer layers directly where one scales its integers to float and the next
    divides them back by the same scale.

    Requires: AbsorbIntoThresholds applied.
    Ensures: no Div whose input is a Mul by the same constant (except one writing the graph
    output); integer tensors flow from one layer into the next. A Mul read by several such
    Divs serves them all; one that something else also reads stays for that reader.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for div in model.get_nodes_by_op_type("Div"):
            mul = model.find_producer(div.input[0])
            if mul is None or mul.op_type != "Mul":
                continue
            s_div = model.get_initializer(div.input[1])
            s_mul = model.get_initializer(mul.input[1])
            if s_div is None or s_mul is None:
                continue
            # one scale, or the same per-channel scales in the same layout
            same_shape = s_div.size == s_mul.size == 1 or s_div.shape == s_mul.shape
            if not same_shape or not np.array_equal(s_div.ravel(), s_mul.ravel()):
                continue
            if is_graph_output(model, div.output[0]) or is_graph_output(model, mul.output[0]):
                continue  # nothing reads it to rewire: the pair stays for the host tail
            # a residual block's input is read by its main path and its 1x1 downsample path:
            # each Div goes; the Mul goes once nothing else reads it
            rewire(model, div.output[0], mul.input[0])
            model.graph.node.remove(div)
            if not model.find_consumers(mul.output[0]):
                model.graph.node.remove(mul)
            return model.transform(InferShapes()), True
        return model, False
