"""StreamReshape as a qonnx CustomOp: reference = numpy reshape; no kernel."""

from __future__ import annotations

import numpy as np

from flows.layers.base import DataflowOp
from flows.layers.reshape.spec import ReshapeSpec


class StreamReshape(DataflowOp):
    ATTRS = {"out_shape": ("ints", True, []), "dtype": ("s", True, "")}  # without batch

    def spec(self) -> ReshapeSpec:
        return ReshapeSpec(
            self.onnx_node.name,
            tuple(int(d) for d in self.get_nodeattr("out_shape")),
            self.dtype_attr("dtype"),
        )

    def make_shape_compatible_op(self, model):
        shape = model.get_tensor_shape(self.onnx_node.input[0])
        n = shape[0] if shape else 1
        return super().make_const_shape_op([n, *self.get_nodeattr("out_shape")])

    def execute_node(self, context, graph):
        x = np.asarray(context[self.onnx_node.input[0]])
        context[self.onnx_node.output[0]] = x.reshape(x.shape[0], *self.get_nodeattr("out_shape"))
