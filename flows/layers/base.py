"""What every dataflow layer kind shares: the spec protocol, the CustomOp base, memory costs.

A kind answers for itself (stream words, folding axes and options, report fields), so fold,
codegen and report never branch on ``op_type``: they ask the spec through this protocol.
"""

from __future__ import annotations

import math
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


def fifo_depth_for(burst: int) -> int:
    """A FIFO depth holding ``burst`` words: the next power of two, at least the minimum."""
    return max(MIN_FIFO_DEPTH, 1 << max(burst - 1, 0).bit_length())


def lane_options(n: int, bits: int, max_bits: int) -> list[int]:
    """Divisors of ``n`` whose word of that many ``bits``-bit lanes stays within ``max_bits``."""
    return [d for d in divisors(n) if d * bits <= max_bits]


# BRAM18 aspect ratios (data width, depth) of the 7-series/UltraScale block RAM
BRAM18_SHAPES = ((1, 16384), (2, 8192), (4, 4096), (9, 2048), (18, 1024), (36, 512))
# Memories up to this many bits go to LUTRAM (64 bits per LUT), larger ones to BRAM18.
LUTRAM_MAX_BITS = 4096


def bram18_for(width: int, depth: int) -> int:
    """Fewest BRAM18s holding a ``width`` x ``depth`` memory in one aspect ratio."""
    return min(math.ceil(width / w) * math.ceil(depth / d) for w, d in BRAM18_SHAPES)


def memory_cost(width: int, depth: int) -> tuple[int, int]:
    """(LUTs, BRAM18s) of one ``width`` x ``depth`` memory: LUTRAM when small, else BRAM18."""
    bits = width * depth
    if bits <= LUTRAM_MAX_BITS:
        return math.ceil(bits / 64), 0
    return 0, bram18_for(width, depth)


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

    def folding(self) -> dict[str, int]:
        """The current folding, ``{axis: value}`` in the spec's FOLD order."""
        return {axis: int(self.get_nodeattr(axis)) for axis in self.spec().FOLD}

    def set_folding(self, folding: dict[str, int]) -> None:
        """Set folding attributes; axes the kind does not have are ignored."""
        for axis in self.spec().FOLD:
            if axis in folding:
                self.set_nodeattr(axis, int(folding[axis]))

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
