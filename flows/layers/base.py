"""What every dataflow layer kind shares: the spec protocol, the CustomOp base, memory costs.

A kind answers for itself (stream words, folding axes and options, report fields), so fold,
codegen and report never branch on ``op_type``: they ask the spec through this protocol.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Protocol, runtime_checkable

import numpy as np
from qonnx.core.datatype import DataType
from qonnx.custom_op.base import CustomOp

from flows.layers.common import divisors

# Widest stream word a folding may produce (bits); wider words are never offered.
MAX_STREAM_BITS = 1024
# Vitis HLS' default hls::stream depth, and the least a FIFO between two kernels gets
MIN_FIFO_DEPTH = 2
# FIFO depths of every layer, FINN's names: one per stream input, one per stream output
FIFO_ATTRS = {"inFIFODepths": ("ints", False, []), "outFIFODepths": ("ints", False, [])}


@runtime_checkable
class DataflowSpec(Protocol):
    """The typed, validated parameters of one layer (a frozen dataclass per kind)."""

    name: str
    # Folding axes the kind has, in folding.json order: ("SIMD", "PE"), ("PE",), ("SIMD",), ()
    FOLD: ClassVar[tuple[str, ...]]

    def validate(self) -> None:
        """Raise LayerError naming the layer when the parameters cannot be built."""

    def stream_elems(self) -> tuple[int, int]:
        """(elements per input word, elements per output word), the same on every port."""

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        """Legal foldings (``{axis: value}`` over FOLD), cheapest first."""

    def report(self) -> dict[str, Any]:
        """Kind-specific report.json fields (shapes, types and costs are added generically)."""

    def input_burst(self) -> int:
        """Input words the kernel may leave waiting while it is busy with other work: the
        depth its input FIFO needs so the producer never stalls on it (1 = reads steadily)."""


def _attr_value(v: Any) -> int | str:
    """A folding value as its node attribute holds it: a string, else an integer."""
    if isinstance(v, bytes):
        return v.decode()
    return v if isinstance(v, str) else int(v)


def fifo_depth_for(burst: int) -> int:
    """A FIFO depth holding ``burst`` words: the next power of two, at least the minimum."""
    return max(MIN_FIFO_DEPTH, 1 << max(burst - 1, 0).bit_length())


def lane_options(n: int, bits: int, max_bits: int) -> list[int]:
    """Divisors of ``n`` whose word of that many ``bits``-bit lanes stays within ``max_bits``."""
    return [d for d in divisors(n) if d * bits <= max_bits]


# How Yosys ``synth_xilinx`` maps a memory (``memory_libmap`` with the xc7 libraries
# lutrams_xc5v.txt and brams_xc4v.txt, as synth_xilinx calls it: ``-logic-cost-rom 1/64``,
# ``-D HAS_SIZE_36 -D HAS_CASCADE -D HAS_MIXWIDTH_SDP``). Every candidate gets a cost and the
# cheapest wins: soft logic costs 1 per bit for a RAM and 1/64 per bit for a ROM (one LUT6 per
# 64 bits); LUTRAM (RAM32M/RAM64M, never for ROMs: the library prunes them) 8 per primitive,
# 7/8 of it scaled by the width used; block RAM 129 per RAMB18, 257 per RAMB36, 513 per
# cascaded pair, in the geometry (width, depth) that costs least; address bits a primitive does
# not decode cost 0.5 per output bit (read mux) and 0.5 per replica (write demux); a port
# feature the primitive lacks (the ROM's enable-less registered read) costs 2.
# The rule was read off Yosys 0.70's memory_libmap and checked against synthesized memories
# (bench/calibrate.py records them in flows/layers/calibration.json; tests/test_calibration.py).
LOGIC_COST_ROM = 1 / 64
LOGIC_COST_RAM = 1.0
_MUX, _DEMUX, _EMU = 0.5, 0.5, 2.0
# (BRAM18 halves, cost, address bits, widths) of each block-RAM mode, true and simple dual port
_BRAM_TDP = (
    (1, 129, 14, (1, 2, 4, 9, 18)),
    (2, 257, 15, (1, 2, 4, 9, 18, 36)),
    (4, 513, 16, (1, 2, 4, 9)),
)
_BRAM_SDP = ((1, 129, 14, (1, 2, 4, 9, 18, 36)), (2, 257, 15, (1, 2, 4, 9, 18, 36, 72)))
# (LUTs a primitive occupies, address bits, data bits) of the simple-dual-port LUTRAMs
_LUTRAM_SDP = ((4, 5, 6), (4, 6, 3))  # RAM32M, RAM64M
_LUTRAM_COST, _LUTRAM_WIDTHSCALE = 8, 7


@dataclass(frozen=True)
class MemoryMap:
    """Where synthesis puts one ``width`` x ``depth`` memory, and what it takes.

    ``kind`` is "logic" (a ROM as LUTs, a RAM as flip-flops), "lutram" or "bram";
    ``luts`` are logic LUTs (ROM contents, read muxes), ``lutram`` LUTs used as distributed
    RAM, ``bram18`` block RAM in 18 Kib halves (a RAMB36E1 counts 2).
    """

    kind: str
    cost: float
    luts: int = 0
    lutram: int = 0
    ffs: int = 0
    bram18: int = 0


def _bram_options(width: int, depth: int, rom: bool) -> list[MemoryMap]:
    out = []
    for modes in (_BRAM_TDP, _BRAM_SDP):
        for halves, cost, abits, widths in modes:
            for i, w in enumerate(widths):
                mult_a = math.ceil(depth / (1 << (abits - i)))
                repl = mult_a * math.ceil(width / w)
                c = cost * repl + _MUX * (mult_a - 1) * width + _EMU
                if not rom and mult_a > 1:
                    c += _DEMUX * mult_a
                mux = math.ceil((mult_a - 1) * width / 2)  # 4:1 per LUT6 and MUXF7
                out.append(MemoryMap("bram", c, luts=mux, bram18=halves * repl))
    return out


def _lutram_options(width: int, depth: int) -> list[MemoryMap]:
    out = []
    for luts, abits, w in _LUTRAM_SDP:
        mult_a = math.ceil(depth / (1 << abits))
        prims = mult_a * math.ceil(width / w)
        c = (_LUTRAM_COST - _LUTRAM_WIDTHSCALE) * prims
        c += _LUTRAM_WIDTHSCALE * mult_a * width / w + _MUX * (mult_a - 1) * width
        if mult_a > 1:
            c += _DEMUX * mult_a
        mux = math.ceil((mult_a - 1) * width / 2)
        out.append(MemoryMap("lutram", c, luts=mux, lutram=luts * prims))
    return out


def memory_map(
    width: int, depth: int, rom: bool, async_read: bool = False, block: bool = False
) -> MemoryMap:
    """The mapping Yosys chooses for a ``width`` x ``depth`` memory: a ROM (``rom``, one
    registered read port, contents from $readmemh) or a RAM (one write port, one read port,
    registered, or combinational with ``async_read``: block RAM cannot do that).

    Logic LUTs of a ROM are one LUT6 per 64 bits of each column (random contents: structured
    ones fold smaller); a RAM in logic is one flip-flop per bit and a read mux. ``block``: the
    memory carries ``rom_style``/``ram_style = "block"``, which Yosys honours: block RAM in
    its cheapest shape, whatever the cost rule would choose.
    """
    if block and not async_read:
        return min(_bram_options(width, depth, rom), key=lambda m: (m.bram18, m.cost))
    bits = width * depth
    if rom:
        logic = MemoryMap("logic", bits * LOGIC_COST_ROM, luts=width * math.ceil(depth / 64))
        cands = [logic, *_bram_options(width, depth, rom)]
    else:
        logic = MemoryMap("logic", bits * LOGIC_COST_RAM, luts=math.ceil(bits / 4), ffs=bits)
        cands = [logic, *_lutram_options(width, depth)]
        if not async_read:
            cands += _bram_options(width, depth, rom)
    return min(cands, key=lambda m: m.cost)


def bram18_for(width: int, depth: int) -> int:
    """BRAM18s of a ``width`` x ``depth`` RAM when synthesis puts it in block RAM."""
    return min(m.bram18 for m in _bram_options(width, depth, rom=False))


def memory_cost(width: int, depth: int, rom: bool = False) -> tuple[int, int]:
    """(LUTs, BRAM18s) of one ``width`` x ``depth`` memory as ``memory_map`` maps it
    (LUTs: distributed RAM plus logic)."""
    m = memory_map(width, depth, rom)
    return m.luts + m.lutram, m.bram18


class DataflowOp(CustomOp):
    """Base of every dataflow layer's qonnx CustomOp: the ONNX edge of one kind.

    A subclass declares ``ATTRS`` (qonnx nodeattr types), ``PARAMS`` (names of the
    initializer inputs after the stream inputs, in input order), ``OUT_DTYPE_ATTR`` (the
    attribute holding the output datatype) and implements ``spec()`` and ``execute_node``.
    """

    ATTRS: ClassVar[dict[str, tuple]] = {}
    STREAM_INPUTS: ClassVar[int] = 1
    PARAMS: ClassVar[tuple[str, ...]] = ()
    OUT_DTYPE_ATTR: ClassVar[str] = "dtype"

    def get_nodeattr_types(self):
        return {**self.ATTRS, **FIFO_ATTRS}

    def spec(self) -> DataflowSpec:
        raise NotImplementedError

    def dtype_attr(self, name: str) -> DataType:
        """A datatype attribute, parsed once at the ONNX edge."""
        return DataType[self.get_nodeattr(name)]

    def stream_inputs(self) -> list[str]:
        return list(self.onnx_node.input[: self.STREAM_INPUTS])

    def params(self, model) -> dict[str, np.ndarray]:
        """The layer's initializers by role name (e.g. weights, thresholds), as int64."""
        out = {}
        for name, tensor in zip(self.PARAMS, self.onnx_node.input[self.STREAM_INPUTS :]):
            value = model.get_initializer(tensor)
            if value is not None:
                out[name] = np.asarray(value, np.int64)
        return out

    def folding(self) -> dict[str, int | str]:
        """The current folding, ``{axis: value}`` in the spec's FOLD order (parallelism
        axes are integers; a choice such as the MVAU's ``ram_style`` is a string)."""
        return {axis: _attr_value(self.get_nodeattr(axis)) for axis in self.spec().FOLD}

    def set_folding(self, folding: dict[str, int | str]) -> None:
        """Set folding attributes; axes the kind does not have are ignored."""
        for axis in self.spec().FOLD:
            if axis in folding:
                self.set_nodeattr(axis, _attr_value(folding[axis]))

    def fifo_depths(self) -> dict[str, list[int]]:
        """The FIFO depths set on this layer (only the attributes that are set)."""
        return {
            k: [int(d) for d in self.get_nodeattr(k)] for k in FIFO_ATTRS if self.get_nodeattr(k)
        }

    def infer_node_datatype(self, model):
        model.set_tensor_datatype(self.onnx_node.output[0], self.dtype_attr(self.OUT_DTYPE_ATTR))

    def verify_node(self):
        self.spec().validate()
        return []
