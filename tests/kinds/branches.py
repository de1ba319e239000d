"""Test-only stand-ins for the stream fork and the elementwise add, the two kinds that make a
design a graph: ``TestFork`` writes its input to two streams, ``TestAdd`` adds two streams
lane by lane. Compact on purpose (spec, node, ref, cost and hls context side by side): they
exist to exercise the graph-shaped Design and backend until the real kinds land."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace
from typing import Any, ClassVar

import numpy as np
from onnx import TensorProto, helper
from qonnx.core.datatype import DataType
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.util.basic import qonnx_make_model

from flows.codegen.rtl_types import RtlInstance
from flows.errors import LayerError
from flows.layers.base import DataflowOp, lane_options
from flows.layers.common import DOMAIN
from flows.layers.registry import LayerKind


@dataclass(frozen=True)
class LanesSpec:
    """C channels a pixel, ``pixels`` pixels an image, PE lanes a word."""

    name: str
    channels: int
    pixels: int
    pe: int
    idt: DataType
    odt: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    @property
    def words(self) -> int:
        return self.pixels * self.channels // self.pe

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return [{"PE": p} for p in lane_options(self.channels, self.odt.bitwidth(), max_bits)]

    def input_burst(self) -> int:
        return 1  # reads one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {"PE": self.pe}

    def validate(self) -> None:
        if self.channels % self.pe:
            raise LayerError(f"'{self.name}': C={self.channels} not divisible by PE={self.pe}")


class _LanesOp(DataflowOp):
    ATTRS = {
        "C": ("i", True, 0),
        "pixels": ("i", False, 1),
        "PE": ("i", False, 1),
        "idt": ("s", True, ""),
        "odt": ("s", True, ""),
    }
    OUT_DTYPE_ATTR = "odt"

    def spec(self) -> LanesSpec:
        g = self.get_nodeattr
        return LanesSpec(
            self.onnx_node.name,
            g("C"),
            g("pixels"),
            g("PE"),
            self.dtype_attr("idt"),
            self.dtype_attr("odt"),
        )

    def make_shape_compatible_op(self, model):
        node = self.onnx_node
        return helper.make_node("Identity", [node.input[0]], [node.output[0]])

    def infer_node_datatype(self, model):
        for t in self.onnx_node.output:
            model.set_tensor_datatype(t, self.dtype_attr("odt"))


class TestFork(_LanesOp):
    """One stream in, the same words out on two streams."""

    def execute_node(self, context, graph):
        x = context[self.onnx_node.input[0]]
        for t in self.onnx_node.output:
            context[t] = np.array(x, copy=True)


class TestAdd(_LanesOp):
    """Two streams in, their lane-wise sum out (unsigned lanes)."""

    STREAM_INPUTS = 2

    def execute_node(self, context, graph):
        a, b = (context[t] for t in self.onnx_node.input)
        context[self.onnx_node.output[0]] = (np.asarray(a) + np.asarray(b)).astype(np.float32)


@dataclass(frozen=True)
class LanesHls:
    name: str
    pe: int
    in_bits: int
    out_bits: int
    words: int

    @property
    def widest_word(self) -> int:
        return self.pe * max(self.in_bits, self.out_bits)


def _hls_role(template: str) -> SimpleNamespace:
    def context(s: LanesSpec, params: dict[str, np.ndarray]) -> LanesHls:
        return LanesHls(s.name, s.pe, s.idt.bitwidth(), s.odt.bitwidth(), s.words)

    return SimpleNamespace(TEMPLATE=Path(__file__).with_name(template), context=context)


def _rtl_role(module: str, params) -> SimpleNamespace:
    def context(s: LanesSpec, _params: dict[str, np.ndarray]) -> RtlInstance:
        return RtlInstance(
            module,
            params(s),
            in_width=s.pe * s.idt.bitwidth(),
            out_width=s.pe * s.odt.bitwidth(),
            sources=(Path(__file__).with_name(f"{module}.v"),),
        )

    return SimpleNamespace(context=context)


_FORK_RTL = _rtl_role("test_fork", lambda s: {"W": s.pe * s.idt.bitwidth()})
_ADD_RTL = _rtl_role(
    "test_add", lambda s: {"PE": s.pe, "IN_BITS": s.idt.bitwidth(), "OUT_BITS": s.odt.bitwidth()}
)

_COST = SimpleNamespace(
    cycles=lambda s: s.words, resources=lambda s: {"LUT": 10, "BRAM18": 0, "DSP": 0}
)
FORK = LayerKind(TestFork, None, _COST, {"hls": _hls_role("test_fork.h.j2"), "rtl": _FORK_RTL})
ADD = LayerKind(TestAdd, None, _COST, {"hls": _hls_role("test_add.h.j2"), "rtl": _ADD_RTL})


# --- a fork -> two branches -> add design built from them ------------------------------

PIXELS, C = 4, 16


def _thresholding(name: str, src: str, dst: str, t_name: str, pe: int, c: int, pixels: int):
    return helper.make_node(
        "Thresholding",
        [src, t_name],
        [dst],
        domain=DOMAIN,
        name=name,
        C=c,
        PE=pe,
        idt="UINT4",
        odt="UINT2",
        n_thres=3,
        pixels=pixels,
    )


def fork_join_model(pe_a: int = 4, pe_b: int = 8, c: int = C, pixels: int = PIXELS) -> ModelWrapper:
    """x (UINT4) -> fork -> Thresholding A (PE pe_a) / Thresholding B (PE pe_b) -> add; the
    fork and the add move 4 lanes a word, so a branch of another PE gets width converters."""
    rng = np.random.default_rng(0)
    lanes = dict(domain=DOMAIN, C=c, pixels=pixels, PE=4)
    nodes = [
        helper.make_node(
            "TestFork", ["x"], ["xa", "xb"], name="Fork_0", idt="UINT4", odt="UINT4", **lanes
        ),
        _thresholding("Thr_a", "xa", "ya", "Ta", pe_a, c, pixels),
        _thresholding("Thr_b", "xb", "yb", "Tb", pe_b, c, pixels),
        helper.make_node(
            "TestAdd", ["ya", "yb"], ["y"], name="Add_0", idt="UINT2", odt="UINT3", **lanes
        ),
    ]
    shape = [1, pixels, c]
    vi = [
        helper.make_tensor_value_info(t, TensorProto.FLOAT, shape) for t in ("xa", "xb", "ya", "yb")
    ]
    g = helper.make_graph(
        nodes,
        "fork_join",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        value_info=vi,
    )
    m = ModelWrapper(qonnx_make_model(g))
    for name in ("Ta", "Tb"):
        m.set_initializer(name, np.sort(rng.integers(0, 16, (c, 3)), axis=1).astype(np.int64))
    for t, dt in (
        ("x", "UINT4"),
        ("xa", "UINT4"),
        ("xb", "UINT4"),
        ("ya", "UINT2"),
        ("yb", "UINT2"),
        ("y", "UINT3"),
    ):
        m.set_tensor_datatype(t, DataType[dt])
    return m
