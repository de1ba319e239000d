"""StreamReshape as a qonnx CustomOp: reference = numpy reshape; no kernel."""

from __future__ import annotations

import numpy as np
from qonnx.custom_op.base import CustomOp

from flows.layers.common import dt


class StreamReshape(CustomOp):
    def get_nodeattr_types(self):
        return {"out_shape": ("ints", True, []), "dtype": ("s", True, "")}  # without batch

    def make_shape_compatible_op(self, model):
        shape = model.get_tensor_shape(self.onnx_node.input[0])
        n = shape[0] if shape else 1
        return super().make_const_shape_op([n, *self.get_nodeattr("out_shape")])

    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], dt(self.get_nodeattr("dtype")))

    def execute_node(self, context, graph):
        x = np.asarray(context[self.onnx_node.input[0]])
        context[self.onnx_node.output[0]] = x.reshape(x.shape[0], *self.get_nodeattr("out_shape"))

    def verify_node(self):
        return []
