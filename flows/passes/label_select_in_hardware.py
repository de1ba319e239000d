"""Put a tail TopK(k=1)/ArgMax on the accelerator's integers, for a label select in hardware."""

from __future__ import annotations

import logging

import numpy as np
from onnx import NodeProto
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from boards.driver.host_graph import OPS, HostOp
from flows.errors import UnsupportedError
from flows.layers.label_select.infer import mark, marked, why_not_top1
from flows.ops import AFFINE_OPS, ORDERED_AFFINE_OPS, RESHAPE_OPS, SELECT_OPS

log = logging.getLogger(__name__)

# What may stand between the integers and the select: affine ops with one constant for every
# label (checked to keep every pair of integers in order), and ops that move no value.
VALUE_KEEPING_OPS = RESHAPE_OPS | {"Identity"}
# Integers evaluated to prove the chain keeps their order (a 2^24-value range: 16M float32s)
MAX_CHECKED_VALUES = 1 << 24
CHUNK = 1 << 20


class LabelSelectInHardware(Transformation):
    """Make each TopK(k=1)/ArgMax whose values are the accelerator's integers after
    order-keeping ops read those integers, so InferLabelSelect puts it in hardware.

    The ops in between must be Reshape/Flatten/Identity or Mul/Div by, Add/Sub of, one
    constant for every label (a per-channel scale or bias changes which label is largest),
    and, evaluated in the graph's float32 over the integers' whole datatype range, map
    larger integers to strictly larger values: then the first largest integer is the first
    largest value (ties included, as float32 rounding could otherwise make new ones).

    Requires: integerized (the last layer writes an integer tensor; its dequantizing Mul
    and the graph's affine tail follow on the host).
    Ensures: each such select reads the integer tensor, the ops in between are gone, and it is
    named in the ``bitfab.label_select`` metadata; the indices are unchanged for every input.
    Any other select stays on the host, or with ``force`` raises UnsupportedError naming it and
    why (and when the graph has no TopK/ArgMax at all).
    """

    def __init__(self, force: bool = False):
        super().__init__()
        self.force = force

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        selects = [n for n in model.graph.node if n.op_type in SELECT_OPS]
        if self.force and not selects:
            raise UnsupportedError(
                "the graph has no TopK/ArgMax to select the label in hardware; its output is "
                f"'{model.graph.output[0].name}' (bitfab build --label-select hardware adds "
                "a TopK(k=1) to a graph that outputs scores)"
            )
        for node in selects:
            if node.name in marked(model):
                continue
            found = _integer_source(model, node)
            if isinstance(found, str):
                if self.force:
                    raise UnsupportedError(
                        f"node '{node.name}' ({node.op_type}): cannot select the label in "
                        f"hardware: {found}; keep it on the host (--label-select auto or host)"
                    )
                log.info("node '%s' stays on the host: %s", node.name, found)
                continue
            source, chain = found
            node.input[0] = source
            for n in chain:
                model.graph.node.remove(n)
            mark(model, node)
        return model, False


def _integer_source(model: ModelWrapper, node: NodeProto) -> tuple[str, list] | str:
    """(the integer tensor, the ops from it to ``node``) or why there is none to use."""
    why = why_not_top1(model, node)
    if why is not None:
        return why
    t, chain = node.input[0], []
    while not model.get_tensor_datatype(t).is_integer():
        p = model.find_producer(t)
        if p is None:
            return f"its input '{t}' is the graph input, not an accelerator output"
        why = _why_not_order_keeping(model, p, t)
        if why is not None:
            return why
        chain.insert(0, p)
        t = _data_input(model, p)
    if model.find_producer(t) is None:
        return f"its input '{t}' is the graph input, not an accelerator output"
    for tensor in [t, *(n.output[0] for n in chain)]:
        if len(model.find_consumers(tensor)) != 1:
            return f"'{tensor}' is also read by another node, which needs the values"
    why = _why_not_increasing(model, chain, t)
    return why if why is not None else (t, chain)


def _data_input(model: ModelWrapper, node: NodeProto) -> str:
    return next(i for i in node.input if model.get_initializer(i) is None)


def _why_not_order_keeping(model: ModelWrapper, node: NodeProto, out: str) -> str | None:
    where = f"node '{node.name}' ({node.op_type}) before it"
    if node.op_type in VALUE_KEEPING_OPS:
        return None
    if node.op_type not in AFFINE_OPS:
        return (
            f"{where} is not an order-keeping op (Mul/Div by or Add/Sub of a constant, "
            "Reshape, Flatten, Identity)"
        )
    consts = [model.get_initializer(i) for i in node.input]
    if sum(c is None for c in consts) != 1:
        return f"{where} combines two computed tensors"
    if node.op_type in ORDERED_AFFINE_OPS and consts[0] is not None:
        return f"{where} has the constant first (c - x, c / x reverse the order)"
    c = np.asarray(next(c for c in consts if c is not None))
    data = _data_input(model, node)
    if list(model.get_tensor_shape(out)) != list(model.get_tensor_shape(data)):
        return f"{where} broadcasts its input to a new shape"
    if c.size and not np.all(c == c.ravel()[0]):
        return (
            f"{where} applies a per-label constant (values {c.min():g} .. {c.max():g}), which "
            "changes which label is largest: the select must see its output"
        )
    if node.op_type in ("Mul", "Div") and not float(c.ravel()[0]) > 0:
        return f"{where} scales by {float(c.ravel()[0]):g}, which does not keep the order"
    return None


def _why_not_increasing(model: ModelWrapper, chain: list, source: str) -> str | None:
    """Whether the chain maps every pair of integers of ``source``'s type to float32 values
    in the same strict order: evaluated on every integer, as the host runs it."""
    if all(n.op_type in VALUE_KEEPING_OPS for n in chain):
        return None  # nothing changes a value: the select sees the integers themselves
    dt = model.get_tensor_datatype(source)
    lo, hi = int(dt.min()), int(dt.max())
    if hi - lo + 1 > MAX_CHECKED_VALUES:
        return (
            f"its integers '{source}' are {dt.name}, too wide to check that the ops after them "
            f"keep their order (at most {MAX_CHECKED_VALUES} values)"
        )
    prev = None
    for start in range(lo, hi + 1, CHUNK):
        x = np.arange(start, min(start + CHUNK, hi + 1), dtype=np.int64)
        y = _run_chain(model, chain, x.astype(np.float32))
        if prev is not None:
            x, y = np.concatenate([[x[0] - 1], x]), np.concatenate([[prev], y])
        bad = np.flatnonzero(~(np.diff(y) > 0))
        if len(bad):
            i = int(bad[0])
            a, b = float(y[i]), float(y[i + 1])
            what = (
                f"both to {a!r} (a tie the host breaks by index, the hardware by the integers)"
                if a == b
                else f"to {a!r} and {b!r}, in reverse order"
            )
            names = " -> ".join(f"'{n.name}'" for n in chain)
            return (
                f"in the graph's float32, {names} maps the {dt.name} integers {x[i]} and "
                f"{x[i + 1]} {what}"
            )
        prev = y[-1]
    return None


def _run_chain(model: ModelWrapper, chain: list, x: np.ndarray) -> np.ndarray:
    """The chain on values ``x`` (one per label alike: every constant is one value), with
    the host driver's float32 ops in the graph's operand order."""
    for n in chain:
        if n.op_type in VALUE_KEEPING_OPS:
            continue
        args = []
        for i in n.input:
            c = model.get_initializer(i)
            args.append(x if c is None else np.asarray(c).ravel()[:1].reshape(()))
        (x,) = OPS[n.op_type](HostOp(n.op_type, list(n.input), list(n.output)), args)
    return x
