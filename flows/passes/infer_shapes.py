"""qonnx's InferShapes, run on the graph without its weights.

Why: ONNX shape inference serialises the whole model, weights included, and the passes call it
after every rewrite. On MobileNet-v1 (4.2 M weights) that was 629 calls and 85 s of a build's
170 s up to folding. Shapes never depend on a weight's values, only on small constant inputs
(a Reshape's shape, a Pad's pads, axes), so every initializer with more than ``LARGE``
elements is replaced by a graph input of the same type and shape for the inference, and the
inferred value_info and output types are copied back. Every tensor then has the shape and type
qonnx's InferShapes gives it, and every large initializer a standard op reads gets the
value_info entry ONNX's inference would have given it (``tests/test_infer_shapes.py`` compares
them on every step of two builds and on a graph with 512-channel batch norms).
"""

from __future__ import annotations

import numpy as np
from onnx import ModelProto, ValueInfoProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation
from qonnx.transformation.infer_shapes import InferShapes as QonnxInferShapes

#: Initializers above this many elements go into the inference as shapes only. Constants whose
#: values decide a shape (shape, pads, axes, repeats, sizes) are a handful of int64s.
LARGE = 256
#: Domains of the ops ONNX's inference and onnxruntime know (qonnx hides all others).
STANDARD_DOMAINS = ("", "ai.onnx")


def _without_weights(model: ModelProto) -> ModelProto:
    """A copy of ``model`` whose large initializers are graph inputs of their type and shape
    (or left to the value_info that already declares them)."""
    src = model.graph
    light = ModelProto()
    light.ir_version = model.ir_version
    light.opset_import.extend(model.opset_import)
    g = light.graph
    g.name = src.name
    g.node.extend(src.node)
    g.input.extend(src.input)
    g.output.extend(src.output)
    g.value_info.extend(src.value_info)
    declared = {vi.name for vi in src.input} | {vi.name for vi in src.value_info}
    for init in src.initializer:
        if int(np.prod(init.dims)) > LARGE:
            if init.name not in declared:
                g.input.append(helper.make_tensor_value_info(init.name, init.data_type, init.dims))
        else:
            g.initializer.append(init)
    return light


class InferShapes(Transformation):
    """Every tensor's shape in value_info, as qonnx's InferShapes sets it (custom ops hidden
    behind shape-compatible standard ops the same way), without serialising the weights."""

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        inferred, _ = QonnxInferShapes().apply(ModelWrapper(_without_weights(model.model)))
        graph = model.graph
        del graph.value_info[:]
        graph.value_info.extend(inferred.graph.value_info)
        graph.value_info.extend(_weight_value_info(model, inferred))
        del graph.output[:]
        graph.output.extend(inferred.graph.output)
        return model, False


def _weight_value_info(model: ModelWrapper, inferred: ModelWrapper) -> list[ValueInfoProto]:
    """The value_info ONNX's inference gives an initializer that a standard op reads, for the
    large ones it saw as graph inputs: qonnx's execute_onnx declares a standard node's inputs
    from value_info when it hands the node to onnxruntime."""
    have = {vi.name for vi in inferred.graph.value_info} | {i.name for i in model.graph.input}
    read = {t for n in model.graph.node if n.domain in STANDARD_DOMAINS for t in n.input}
    return [
        helper.make_tensor_value_info(init.name, init.data_type, init.dims)
        for init in model.graph.initializer
        if init.name in read and init.name not in have and int(np.prod(init.dims)) > LARGE
    ]
