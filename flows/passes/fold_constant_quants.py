"""Fold quantizers of constants that are not layer weights (quantized biases) into values."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.custom_op.registry import getCustomOp
from qonnx.transformation.base import Transformation

from flows.quantizers import is_quantizer

WEIGHT_CONSUMERS = {"MatMul", "Conv", "Gemm"}


class FoldConstantQuants(Transformation):
    """``initializer -> Quant -> Add`` (hls4ml/QKeras and Brevitas' quantized biases) becomes
    ``initializer' -> Add`` with initializer' = the Quant's output, computed by qonnx's own
    Quant, so the value is the one the reference uses, bit for bit.

    Weight quantizers stay: the layer passes read the integers and scale from them.
    Ensures: no quantizer whose inputs are all constant feeds anything but a layer weight.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in list(model.graph.node):
            if not is_quantizer(node):
                continue
            if any(model.get_initializer(t) is None for t in node.input):
                continue
            consumers = model.find_consumers(node.output[0]) or []
            if not consumers or any(
                c.op_type in WEIGHT_CONSUMERS and list(c.input).index(node.output[0]) == 1
                for c in consumers
            ):
                continue
            ctx = {t: model.get_initializer(t) for t in node.input}
            getCustomOp(node).execute_node(ctx, model.graph)
            value = ctx[node.output[0]]
            model.graph.node.remove(node)
            model.set_initializer(node.output[0], value)
            return model, True
        return model, False
