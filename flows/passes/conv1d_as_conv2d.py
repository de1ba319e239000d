"""Run a 1-D convolutional net (tensors N, C, L) as a 2-D one of height 1 (N, C, 1, L)."""

from __future__ import annotations

import copy

import numpy as np
from onnx import helper
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.base import Transformation

from flows.errors import UnsupportedError
from flows.graph import attr
from flows.ops import CHAIN_OPS, QUANT_OPS, RESHAPE_OPS, TRUNC_OPS
from flows.passes.infer_shapes import InferShapes

# Sliding-window ops: their 1-D attributes gain a leading height entry.
WINDOW_OPS = frozenset({"Conv", "MaxPool", "AveragePool"})
# Pools over the whole length: (N, C, L) -> (N, C, 1) becomes (N, C, 1, L) -> (N, C, 1, 1).
GLOBAL_POOL_OPS = frozenset({"GlobalAveragePool", "GlobalMaxPool"})
# Elementwise: the output has the input's shape; constants broadcast against it (numpy rules).
ELEMENTWISE_OPS = QUANT_OPS | TRUNC_OPS | CHAIN_OPS
# Host tail ops with an axis: they see the 3-D tensor again (a Reshape back in front of them).
TAIL_OPS = frozenset({"TopK", "ArgMax", "Softmax"})
LIFTABLE = WINDOW_OPS | GLOBAL_POOL_OPS | ELEMENTWISE_OPS


class Conv1dAsConv2d(Transformation):
    """Every 1-D Conv/MaxPool/AveragePool becomes the 2-D op with height 1 (kernel [1, k],
    strides [1, s], dilations [1, d], pads [0, b, 0, e]; Conv weights, and the Quant scales
    and zero points behind them, reshaped [O, I, 1, k]), and every 3-D activation tensor of
    the 1-D part becomes (N, C, 1, L): one Reshape right after the graph input (the host head
    runs it), the ops between the windows (Quant, BatchNorm, Mul/Add, Relu, residual Adds)
    with their 2-D and 3-D constants given the extra axis, and Reshape/Flatten after them
    giving the same elements in the same order (H = 1). A Reshape back to 3-D stands only
    where a 3-D tensor must be seen again (a graph output, a TopK/ArgMax/Softmax on the host).

    Requires: shapes inferred (the frontend's cleanup), constant quantizers of biases folded.
    Ensures: no Conv/MaxPool/AveragePool with a 3-D input; outputs identical (the same float
    ops on the same values in the same order). A 1-D net it cannot rewrite raises
    UnsupportedError naming the node, and leaves the model unchanged.
    """

    def apply(self, model: ModelWrapper) -> tuple[ModelWrapper, bool]:
        if not any(_is_1d(model, n) for n in model.graph.node):
            return model, False
        lifted = copy.deepcopy(model)  # ``model`` stays as it is if the rewrite fails
        _Lifter(lifted, model).run()
        lifted.graph.ClearField("value_info")
        return lifted.transform(InferShapes()), False


def _is_1d(model: ModelWrapper, node) -> bool:
    shape = model.get_tensor_shape(node.input[0]) if node.input else None
    return node.op_type in WINDOW_OPS and shape is not None and len(shape) == 3


def _lift_shape(shape) -> list[int]:
    """(N, C, L) -> (N, C, 1, L)."""
    return [int(shape[0]), int(shape[1]), 1, int(shape[2])]


def _lift_const(value: np.ndarray) -> np.ndarray:
    """A constant that broadcast against (N, C, L) broadcasts the same way against
    (N, C, 1, L): its last axis stays L's and the one before it gets the new height axis."""
    return np.expand_dims(value, value.ndim - 1) if value.ndim >= 2 else value


class _Lifter:
    """One rewrite of ``model`` (the copy) in graph order; ``orig`` holds the original shapes."""

    def __init__(self, model: ModelWrapper, orig: ModelWrapper) -> None:
        self.m = model
        self.orig = orig
        self.lifted: set[str] = set()  # tensors now (N, C, 1, L) under their own name
        self.alias: dict[str, str] = {}  # 3-D tensor -> its (N, C, 1, L) copy (a Reshape's)
        self.out: list = []
        self.replaced: set[str] = set()  # initializers a lifted copy replaced

    def shape(self, name: str):
        return self.orig.get_tensor_shape(name)

    def rank3(self, name: str) -> bool:
        s = self.shape(name)
        return s is not None and len(s) == 3 and self.m.get_initializer(name) is None

    def run(self) -> None:
        m = self.m
        nodes = list(m.graph.node)
        inp = m.graph.input[0].name
        readers = m.find_consumers(inp) or []
        if self.rank3(inp) and any(r.op_type in LIFTABLE for r in readers):
            self.lift(inp)  # the host head reshapes the input once
        for node in nodes:
            self.visit(node)
        for o in m.graph.output:
            if o.name in self.lifted:
                self.squeeze_output(o.name)
        m.graph.ClearField("node")
        m.graph.node.extend(self.out)
        used = {t for n in m.graph.node for t in n.input}
        for name in self.replaced - used:
            m.graph.initializer.remove(next(i for i in m.graph.initializer if i.name == name))

    # ---- tensors ----------------------------------------------------------------------------
    def reshape_node(self, src: str, dst: str, shape, name: str):
        shape_name = self.m.make_new_valueinfo_name()
        self.m.set_initializer(shape_name, np.asarray(shape, np.int64))
        self.out.append(helper.make_node("Reshape", [src, shape_name], [dst], name=name))
        dt = self.m.get_tensor_datatype(src)
        if dt is not None:
            self.m.set_tensor_datatype(dst, dt)

    def lift(self, name: str) -> str:
        """The (N, C, 1, L) form of 3-D activation ``name`` (a Reshape the first time)."""
        if name in self.lifted:
            return name
        if name not in self.alias:
            self.alias[name] = self.m.make_new_valueinfo_name()
            self.reshape_node(name, self.alias[name], _lift_shape(self.shape(name)), name + "_2d")
        return self.alias[name]

    def is_lifted(self, name: str) -> bool:
        return name in self.lifted or name in self.alias

    def squeeze(self, name: str) -> str:
        """A 3-D copy of lifted tensor ``name`` (for a reader that must see the 3-D tensor)."""
        flat = self.m.make_new_valueinfo_name()
        self.reshape_node(name, flat, list(self.shape(name)), name + "_1d")
        return flat

    def squeeze_output(self, name: str) -> None:
        """Graph output ``name`` is (N, C, 1, L) inside: its producer writes a new tensor and a
        Reshape at the end gives the output its 3-D shape back under its own name."""
        inner = self.m.make_new_valueinfo_name()
        for n in self.out:
            for i, t in enumerate(n.output):
                if t == name:
                    n.output[i] = inner
            for i, t in enumerate(n.input):
                if t == name:
                    n.input[i] = inner
        dt = self.m.get_tensor_datatype(name)
        if dt is not None:
            self.m.set_tensor_datatype(inner, dt)
        self.reshape_node(inner, name, list(self.shape(name)), name + "_1d")

    def lift_const(self, node, idx: int) -> None:
        """Input ``idx`` of ``node``, a constant, as a lifted copy (others may share it)."""
        name = node.input[idx]
        value = self.m.get_initializer(name)
        if value.ndim < 2:
            return
        new = self.m.make_new_valueinfo_name()
        self.m.set_initializer(new, _lift_const(value))
        dt = self.m.get_tensor_datatype(name)
        if dt is not None:
            self.m.set_tensor_datatype(new, dt)
        node.input[idx] = new
        self.replaced.add(name)

    # ---- nodes ------------------------------------------------------------------------------
    def visit(self, node) -> None:
        op = node.op_type
        if op in WINDOW_OPS and self.rank3(node.input[0]):
            node.input[0] = self.lift(node.input[0])
            _window_attrs(node)
            if op == "Conv":
                self.lift_weights(node)
            self.lifted.update(t for t in node.output if t)
        elif op in GLOBAL_POOL_OPS and self.is_lifted(node.input[0]):
            node.input[0] = self.lift(node.input[0])
            self.lifted.update(node.output)
        elif op in ELEMENTWISE_OPS and any(self.is_lifted(t) for t in node.input):
            self.lift_elementwise(node)
        elif op in RESHAPE_OPS and (node.input[0] in self.lifted or self.feeds_1d(node)):
            self.reshape(node)
        elif op in TAIL_OPS and node.input[0] in self.lifted:
            node.input[0] = self.squeeze(node.input[0])
        elif any(t in self.lifted for t in node.input):
            t = next(t for t in node.input if t in self.lifted)
            raise UnsupportedError(
                f"node '{node.name}' ({op}) reads '{t}' {list(self.shape(t))}, a tensor of a 1-D "
                "conv net, which bitfab runs as a 2-D net of height 1; between and after 1-D "
                "convs and pools it can rewrite quantizers, BatchNorm, Mul/Add/Sub/Div, Relu, "
                "global pools and Reshape/Flatten, not a "
                f"{op}: flatten the tensor (Flatten/Reshape) before the {op}, or express it with "
                "those ops"
            )
        self.out.append(node)

    def feeds_1d(self, node) -> bool:
        """A Reshape to (N, C, L) that 1-D ops read (and nothing that needs it 3-D)."""
        out = node.output[0]
        readers = {r.op_type for r in self.orig.find_consumers(out) or []}
        return (
            node.op_type == "Reshape"
            and self.rank3(out)
            and bool(readers & LIFTABLE)
            and readers <= LIFTABLE | RESHAPE_OPS | TAIL_OPS
        )

    def lift_weights(self, node) -> None:
        """Conv weights [O, I, k] -> [O, I, 1, k]: the initializer itself, or the initializers
        behind its Quant/BipolarQuant (per-channel scales [O, 1, 1] -> [O, 1, 1, 1])."""
        w = node.input[1]
        if self.m.get_initializer(w) is not None:
            self.lift_const(node, 1)
            return
        q = self.m.find_producer(w)
        if (
            q is None
            or q.op_type not in QUANT_OPS
            or any(self.m.get_initializer(t) is None for t in q.input)
            or len(self.m.find_consumers(w)) != 1
        ):
            raise UnsupportedError(
                f"node '{node.name}' (Conv): a 1-D conv's weights must be a constant or a "
                "quantizer (Quant/BipolarQuant) of constants read by this conv only, to be "
                "reshaped [O, I, 1, k]; export the layer with Brevitas QuantConv1d"
            )
        for i in range(len(q.input)):
            self.lift_const(q, i)

    def lift_elementwise(self, node) -> None:
        """Lifted activations in, lifted out; constants given the height axis (BatchNorm's
        per-channel vectors index axis 1 whatever the rank: they stay)."""
        for i, t in enumerate(node.input):
            if not t or t in self.lifted:
                continue
            if self.m.get_initializer(t) is not None:
                if node.op_type != "BatchNormalization":
                    self.lift_const(node, i)
            elif self.rank3(t):
                node.input[i] = self.lift(t)
            elif len(self.shape(t) or []) >= 2:
                raise UnsupportedError(
                    f"node '{node.name}' ({node.op_type}): its input '{t}' "
                    f"{list(self.shape(t))} is computed, not a constant, and broadcasts over a "
                    "1-D conv net's tensors; make it a constant (initializer)"
                )
        self.lifted.update(node.output)

    def reshape(self, node) -> None:
        """Reshape/Flatten of a lifted tensor: the same elements in the same order, to the
        original output shape (written out: a 0 or -1 in the target refers to the input's
        axes), or to its (N, C, 1, L) form when that output is 3-D again."""
        out = node.output[0]
        shape = list(self.shape(out))
        if node.op_type == "Flatten":
            axis = attr(node, "axis", 1)
            axis += 3 if axis < 0 else 0  # of the 3-D input: 0..3
            for a in [a for a in node.attribute if a.name == "axis"]:
                node.attribute.remove(a)
            # the axes before ``axis`` (0, 1, 2) or all three (3) multiply into the first
            node.attribute.append(helper.make_attribute("axis", 4 if axis == 3 else axis))
            return
        if len(shape) == 3:
            shape = _lift_shape(shape)
            self.lifted.add(out)
        shape_name = self.m.make_new_valueinfo_name()
        self.m.set_initializer(shape_name, np.asarray(shape, np.int64))
        if self.m.get_initializer(node.input[1]) is not None:
            self.replaced.add(node.input[1])
        node.input[1] = shape_name
        for a in [a for a in node.attribute if a.name == "allowzero"]:
            node.attribute.remove(a)


def _window_attrs(node) -> None:
    """1-D kernel_shape/strides/dilations [v] -> [1, v], pads [b, e] -> [0, b, 0, e]."""
    for a in node.attribute:
        if a.name in ("kernel_shape", "strides", "dilations") and len(a.ints) == 1:
            a.ints[:] = [1, a.ints[0]]
        elif a.name == "pads" and len(a.ints) == 2:
            a.ints[:] = [0, a.ints[0], 0, a.ints[1]]
