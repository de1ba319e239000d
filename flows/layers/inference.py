"""The shape every kind's inference pass shares: rewrite one ONNX pattern into one layer.

A kind's ``infer.py`` subclasses ``InferLayer`` and implements ``rewrite(model, node)``: look
at one node, and either leave the graph alone (False) or replace the pattern that starts there
by the kind's node (True). ``InferLayer.apply`` runs it over the graph; the build's
``InferDataflowLayers`` tries every registered kind on each node in graph order instead, so
new tensors are named in the same order whatever the set of kinds.
"""

from __future__ import annotations

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.errors import UnsupportedError
from flows.graph import attr
from flows.passes.infer_shapes import InferShapes


class InferLayer(Transformation):
    """Base of the per-kind inference passes (one rewrite at a time, to a fixpoint)."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        """Replace the pattern starting at ``node``; True if the graph changed."""
        raise NotImplementedError

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        for node in list(model.graph.node):
            if self.rewrite(model, node):
                return model.transform(InferShapes()), True
        return model, False


def integer_input(model: ModelWrapper, tensor: str, where: str):
    """The datatype of ``tensor``, which must be an integer type (else a clear error)."""
    d = model.get_tensor_datatype(tensor)
    if not d.is_integer():
        raise UnsupportedError(
            f"node '{where}': input '{tensor}' is {d.name}, not an integer tensor; the layer "
            "before it was not integerized"
        )
    return d


def ref_tensor(node: NodeProto) -> str:
    """The reference tensor a thresholded layer reproduces (provenance for verification)."""
    return attr(node, "ref_tensor", "")


def pixels(shape) -> int:
    """Pixels per image of a channels-last tensor (1 for a flat one)."""
    return int(np.prod(shape[1:-1])) if len(shape) > 2 else 1
