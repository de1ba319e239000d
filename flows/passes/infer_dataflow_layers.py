"""InferDataflowLayers: every registered kind's inference pass, tried node by node."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.layers.registry import KINDS
from flows.passes.infer_shapes import InferShapes


class InferDataflowLayers(Transformation):
    """Replace integer MatMul (+ MultiThreshold), Im2Col, MaxPool, flattens and lone
    MultiThresholds by dataflow layers, asking each registered kind's ``infer`` in turn.

    Nodes are visited in graph order (one rewrite, then from the start), so new tensor names
    are drawn in the same order whichever kinds are registered.

    Requires: AbsorbIntoThresholds and RemoveScaleRoundTrips applied.
    Ensures: every pattern some kind recognises is replaced by nodes of domain
    ``flows.layers.custom_ops``; outputs are unchanged (the layers' numpy references compute
    exactly what the replaced nodes computed on integers).
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        passes = [k.infer() for k in KINDS if k.infer is not None]
        for node in list(model.graph.node):
            if any(p.rewrite(model, node) for p in passes):
                return model.transform(InferShapes()), True
        return model, False
