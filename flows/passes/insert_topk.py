"""Append a TopK(k=1) to a graph that outputs scores (FINN's InsertTopK)."""

from __future__ import annotations

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.errors import UnsupportedError
from flows.ops import SELECT_OPS


class InsertTopK(Transformation):
    """Make the graph output the index of the largest score, as FINN users add a TopK before
    building a label select: the accelerator then returns one small word an image.

    Requires: one graph output whose labels lie along one axis (all others 1 but the batch).
    Ensures: the graph output is the int64 index [N, 1] of the first largest score (TopK
    k=1 along that axis: ties go to the lowest index); a graph whose output already comes
    from a TopK or ArgMax is left as it is.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        out = model.graph.output[0]
        producer = model.find_producer(out.name)
        if producer is not None and producer.op_type in SELECT_OPS:
            return model, False
        shape = list(model.get_tensor_shape(out.name))
        labels = int(np.prod(shape[1:])) if len(shape) > 1 else 0
        axes = [a for a in range(1, len(shape)) if shape[a] == labels]
        if not axes or labels < 1:
            raise UnsupportedError(
                f"graph output '{out.name}' of shape {shape} has no axis holding all of an "
                "image's scores; a label select needs a (N, labels) output"
            )
        name = "TopK_label"
        while any(n.name == name for n in model.graph.node):
            name += "_"
        k = model.make_new_valueinfo_name()
        model.set_initializer(k, np.array([1], np.int64))
        values, indices = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
        model.graph.node.append(
            helper.make_node(
                "TopK",
                [out.name, k],
                [values, indices],
                name=name,
                axis=axes[-1],
                largest=1,
                sorted=1,
            )
        )
        idx_shape = [*shape[: axes[-1]], 1, *shape[axes[-1] + 1 :]]
        model.graph.output.remove(out)
        model.graph.value_info.append(out)  # the scores, now an inner tensor
        model.graph.output.append(
            helper.make_tensor_value_info(indices, TensorProto.INT64, idx_shape)
        )
        return model, False
