"""InferLabelSelect: a TopK(k=1) or ArgMax that reads the accelerator's integers becomes a
LabelSelect, as FINN's InferLabelSelectLayer does."""

from __future__ import annotations

import numpy as np
from onnx import NodeProto, TensorProto, helper
from qonnx.core.modelwrapper import ModelWrapper

from flows.graph import attr, replace_nodes
from flows.layers.common import DOMAIN
from flows.layers.inference import InferLayer
from flows.layers.label_select.spec import index_dtype
from flows.ops import SELECT_OPS

INT64 = TensorProto.INT64
# Model metadata naming the TopK/ArgMax nodes a pass chose to select in hardware (one name a
# line): a label select on the host stays there even when it reads integers.
IN_HARDWARE = "bitfab.label_select"


def marked(model: ModelWrapper) -> list[str]:
    """The node names in the ``IN_HARDWARE`` metadata."""
    return [n for n in (model.get_metadata_prop(IN_HARDWARE) or "").splitlines() if n]


def mark(model: ModelWrapper, node: NodeProto) -> None:
    """Record that ``node`` is to be selected in hardware."""
    model.set_metadata_prop(IN_HARDWARE, "\n".join(sorted({*marked(model), node.name})))


def why_not_top1(model: ModelWrapper, node: NodeProto) -> str | None:
    """Why ``node`` is not a top-1 select over an image's values that the LabelSelect
    computes (the first largest value's index), or None when it is one."""
    shape = model.get_tensor_shape(node.input[0])
    axis = attr(node, "axis", -1 if node.op_type == "TopK" else 0)
    if not shape or len(shape) < 2 or axis % len(shape) == 0:
        return f"it selects along axis {axis} of a {shape} tensor, not along the labels"
    if int(np.prod(shape[1:])) != shape[axis]:
        return (
            f"it selects along axis {axis} of a {list(shape)} tensor: the label select takes "
            "the largest of all of an image's values, so that axis must hold all of them"
        )
    if node.op_type == "ArgMax":
        if attr(node, "select_last_index", 0):
            return "select_last_index=1 picks the last of equal maxima; hardware picks the first"
        return None
    k = model.get_initializer(node.input[1])
    if k is None or int(np.asarray(k).ravel()[0]) != 1:
        return f"it keeps the k={'?' if k is None else int(np.asarray(k).ravel()[0])} largest"
    if not attr(node, "largest", 1):
        return "it selects the smallest value (largest=0)"
    values = node.output[0]
    graph_outs = {o.name for o in model.graph.output}
    if values in graph_outs or model.find_consumers(values):
        return (
            f"the graph uses its values output '{values}'; the accelerator returns the index "
            "alone, so only a TopK whose indices are all the graph uses can run in hardware"
        )
    return None


class InferLabelSelect(InferLayer):
    """Requires: a pass (LabelSelectInHardware) made the TopK/ArgMax read the integers and
    named it in the ``bitfab.label_select`` metadata. Ensures: it is a LabelSelect (output
    datatype the narrowest UINT holding every index, a FLOAT tensor like every dataflow
    tensor) and a Cast to the int64 indices the graph had, which the host tail runs."""

    def rewrite(self, model: ModelWrapper, node: NodeProto) -> bool:
        if node.op_type not in SELECT_OPS or node.name not in marked(model):
            return False
        idt = model.get_tensor_datatype(node.input[0])
        if not idt.is_integer() or why_not_top1(model, node) is not None:
            return False
        labels = int(np.prod(model.get_tensor_shape(node.input[0])[1:]))
        out = node.output[1] if node.op_type == "TopK" else node.output[0]
        odt = index_dtype(labels)
        index = model.make_new_valueinfo_name()
        select = helper.make_node(
            "LabelSelect",
            [node.input[0]],
            [index],
            domain=DOMAIN,
            name=node.name,
            Labels=labels,
            PE=1,
            idt=idt.name,
            odt=odt.name,
            keepdims=1 if node.op_type == "TopK" else int(attr(node, "keepdims", 1)),
        )
        cast = helper.make_node("Cast", [index], [out], name=f"{node.name}_int64", to=INT64)
        replace_nodes(model, [node], [select, cast])
        model.set_tensor_datatype(index, odt)
        return True
