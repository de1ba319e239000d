"""Put the input quantizer of an integer-input graph on the accelerator as thresholds."""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
from onnx import NodeProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.chains import Chain, follow_chain
from flows.graph import TO_NCHW, TO_NHWC, replace_nodes
from flows.ops import HEAD_LAYOUT_OPS
from flows.passes.infer_shapes import InferShapes
from flows.quantizers import Quantizer, read_quantizer
from flows.thresholds import ChainEvaluator, ThresholdResult, compute_thresholds

log = logging.getLogger(__name__)
MAX_INPUT_LEVELS = 1 << 16  # wider integer inputs stay on the host


class InputQuantToThresholds(Transformation):
    """``int input -> [Reshape] -> affine/Relu chain -> Quant`` becomes
    ``int input -> [Reshape] -> MultiThreshold -> Mul(s)`` (FINN's standalone Thresholding).

    Applies only when the graph input carries an integer QONNX datatype (e.g. UINT8 pixels):
    then the preprocessing and input quantizer are a monotone step function of each input
    integer, and its thresholds are found by evaluating the graph's own nodes. Decreasing
    channels or per-element constants leave the head on the host. The thresholds are found
    (which can reject the chain) before the graph is changed.

    Requires: AbsorbIntoThresholds applied (the quantizer's consumers are integer layers).
    Ensures: the first quantizer of an integer-input graph is a MultiThreshold; outputs equal.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        inp = model.graph.input[0].name
        idt = model.get_tensor_datatype(inp)
        if not idt.is_integer() or int(idt.max()) - int(idt.min()) >= MAX_INPUT_LEVELS:
            return model, False
        head = find_head(model, inp)
        if head is None:
            return model, False
        q = read_quantizer(model, head.chain.quantizer)
        if np.any(q.zeropt != 0):
            return model, False
        res = head_thresholds(model, head, q, idt)
        if np.any(res.negate):
            log.info("input head stays on the host: the input quantizer decreases")
            return model, False
        thresholds_on_accelerator(model, head, q, res, idt)
        return model.transform(InferShapes()), True


@dataclass(frozen=True)
class Head:
    """The integer graph input's way to its quantizer."""

    tensor: str  # where the chain starts, after the reshapes
    reshapes: list[NodeProto]  # HEAD_LAYOUT_OPS from the graph input to ``tensor``
    chain: Chain  # the affine/Relu chain and the quantizer ending it
    nchw: bool  # an image input: channels on axis 1, thresholds channels last
    channels: int


def find_head(model: ModelWrapper, inp: str) -> Head | None:
    """The reshapes and the chain from ``inp`` to its quantizer, if thresholds can take them."""
    t = inp
    reshapes = []
    while True:
        cons = model.find_consumers(t)
        if len(cons) != 1 or cons[0].op_type not in HEAD_LAYOUT_OPS:
            break
        reshapes.append(cons[0])
        t = cons[0].output[0]
    chain = follow_chain(model, t)
    if chain.quantizer is None or chain.quantizer.op_type == "MultiThreshold":
        return None
    shape = model.get_tensor_shape(t)
    nchw = len(shape) == 4
    channels = int(shape[1] if nchw else shape[-1])
    if not _constants_per_channel(model, chain.nodes, channels, nchw):
        return None
    return Head(t, reshapes, chain, nchw, channels)


def _constants_per_channel(model: ModelWrapper, nodes: list, channels: int, nchw: bool) -> bool:
    """Whether every constant of the chain is a scalar or one value per channel (shaped
    ``[C, 1, 1]``-broadcastable on an image): thresholds are per channel, not per element."""
    for n in nodes:
        for i in n.input[1:]:
            c = model.get_initializer(i)
            per_channel = c is not None and c.size == channels
            # BatchNormalization's [C] parameters are per channel along axis 1 by definition
            if nchw and per_channel and c.size > 1 and n.op_type != "BatchNormalization":
                per_channel = c.ndim >= 3 and c.shape[-2:] == (1, 1)
            if c is not None and c.size != 1 and not per_channel:
                log.info("input head stays on the host: '%s' has per-element constants", n.name)
                return False
    return True


def head_thresholds(
    model: ModelWrapper, head: Head, q: Quantizer, idt: DataType
) -> ThresholdResult:
    """Thresholds over the input integers, one row per channel (one shared row if equal)."""
    ev = ChainEvaluator(
        model=model,
        nodes=head.chain.nodes,
        quantizer_node=head.chain.quantizer,
        quant=q,
        in_tensor=head.tensor,
        channels=head.channels,
        to_float=np.ones(head.channels),
        layout_shape=(head.channels, 1, 1) if head.nchw else None,
    )
    lo = np.full(head.channels, int(idt.min()), np.int64)
    hi = np.full(head.channels, int(idt.max()), np.int64)
    return compute_thresholds(ev, lo, hi, f"node '{head.chain.quantizer.name}'")


def thresholds_on_accelerator(
    model: ModelWrapper, head: Head, q: Quantizer, res: ThresholdResult, idt: DataType
) -> None:
    """Replace the chain and quantizer by ``[Transpose] -> MultiThreshold -> [Transpose] ->
    Mul(s)``; an image is transposed on the host, so the thresholds run channels last."""
    thr = res.thresholds
    if np.all(thr == thr[:1]):
        thr = thr[:1]  # one shared row: the hardware stores it once
    t_name = model.make_new_valueinfo_name()
    model.set_initializer(t_name, thr.astype(np.float64))
    y_int = model.make_new_valueinfo_name()
    s_name = model.make_new_valueinfo_name()
    model.set_initializer(s_name, q.scale.astype(np.float32))
    quantizer = head.chain.quantizer
    out = quantizer.output[0]
    mt_in, mt_out, new = head.tensor, y_int, []
    if head.nchw:
        mt_in, mt_out = model.make_new_valueinfo_name(), model.make_new_valueinfo_name()
        new.append(helper.make_node("Transpose", [head.tensor], [mt_in], perm=list(TO_NHWC)))
    new.append(
        helper.make_node(
            "MultiThreshold",
            [mt_in, t_name],
            [mt_out],
            domain="qonnx.custom_op.general",
            name=quantizer.name + "_thresholds",
            out_dtype=q.dtype.name,
            out_scale=float(res.out_step),
            out_bias=float(res.out_bias),
            ref_tensor=out,
            data_layout="NHWC" if head.nchw else "",
        )
    )
    if head.nchw:
        new.append(helper.make_node("Transpose", [mt_out], [y_int], perm=list(TO_NCHW)))
    new.append(helper.make_node("Mul", [y_int, s_name], [out], name=quantizer.name + "_scale"))
    replace_nodes(model, [*head.chain.nodes, quantizer], new)
    model.set_tensor_datatype(y_int, q.dtype)
    if head.nchw:
        model.set_tensor_datatype(mt_in, idt)
        model.set_tensor_datatype(mt_out, q.dtype)
    for n in head.reshapes:
        model.set_tensor_datatype(n.output[0], idt)
