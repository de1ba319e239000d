"""InferThresholding: a MultiThreshold on an integer tensor, not after a MatMul, becomes a
standalone Thresholding layer (e.g. the input quantizer of an integer image)."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flows.graph import replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer, integer_input, pixels
from flows.layers.mvau.infer import activation_attrs


class InferThresholding(InferLayer):
    """Requires: integer inputs to the MultiThreshold (InputQuantToThresholds applied).
    Ensures: the MultiThreshold is replaced by a Thresholding computing the same integers;
    one after a MatMul is left for InferMVAU to absorb."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type != "MultiThreshold":
            return False
        prod = model.find_producer(node.input[0])
        if prod is not None and prod.op_type == "MatMul":
            return False
        idt = integer_input(model, node.input[0], node.name)
        t = model.get_initializer(node.input[1])
        shape = model.get_tensor_shape(node.input[0])
        t_name = model.make_new_valueinfo_name()
        model.set_initializer(t_name, np.asarray(t, np.int64))
        new = helper.make_node(
            "Thresholding",
            [node.input[0], t_name],
            [node.output[0]],
            domain=DOMAIN,
            name=node.name,
            C=int(shape[-1]),
            PE=1,
            idt=idt.name,
            n_thres=int(t.shape[1]),
            shared=int(t.shape[0] == 1),
            pixels=pixels(shape),
            **activation_attrs(node),
        )
        replace_nodes(model, [node], [new])
        return True
