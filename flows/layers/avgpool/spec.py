"""Accumulating-pool parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.errors import LayerError
from flows.layers.base import lane_options

MAX_SUM_BITS = 24  # widest window sum: graphs carry integers in float32, exact to 2^24


@dataclass(frozen=True)
class AvgPoolSpec:
    """K_H x K_W sum pool over an NHWC image, no padding, floor mode; PE channels a word.

    The output is the exact integer sum of each window (``odt`` holds every sum); the division
    and truncation of an average pool follow it as a Thresholding layer."""

    name: str
    channels: int
    ifm_h: int
    ifm_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pe: int
    idt: DataType
    odt: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    @property
    def ofm_h(self) -> int:
        return (self.ifm_h - self.k_h) // self.stride_h + 1

    @property
    def ofm_w(self) -> int:
        return (self.ifm_w - self.k_w) // self.stride_w + 1

    @property
    def window(self) -> int:
        return self.k_h * self.k_w

    def sum_bounds(self) -> tuple[int, int]:
        """The least and greatest window sum."""
        return self.window * int(self.idt.min()), self.window * int(self.idt.max())

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        bits = max(self.idt.bitwidth(), self.odt.bitwidth())
        return [{"PE": pe} for pe in lane_options(self.channels, bits, max_bits)]

    def input_burst(self) -> int:
        return 1  # reads one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {
            "PE": self.pe,
            "pool": [self.k_h, self.k_w],
            "stride": [self.stride_h, self.stride_w],
        }

    def validate(self) -> None:
        where = f"AvgPool '{self.name}'"
        if self.channels % self.pe:
            raise LayerError(f"{where}: CH={self.channels} not divisible by PE={self.pe}")
        if min(self.k_h, self.k_w, self.stride_h, self.stride_w) < 1:
            raise LayerError(f"{where}: window and stride must be at least 1")
        if self.ofm_h < 1 or self.ofm_w < 1:
            raise LayerError(f"{where}: the {self.k_h}x{self.k_w} window does not fit the input")
        if not self.idt.is_integer() or self.idt == BIPOLAR:
            raise LayerError(
                f"{where}: input datatype {self.idt.name} is not a signed or unsigned integer "
                "type; an average pool sums INTn/UINTn values"
            )
        lo, hi = self.sum_bounds()
        if not (self.odt.is_integer() and self.odt.allowed(lo) and self.odt.allowed(hi)):
            raise LayerError(
                f"{where}: output datatype {self.odt.name} does not hold the window sums "
                f"{lo} .. {hi}"
            )
        if self.odt.bitwidth() > MAX_SUM_BITS or self.odt.signed() != self.idt.signed():
            raise LayerError(
                f"{where}: output datatype {self.odt.name} must be a "
                f"{'signed' if self.idt.signed() else 'unsigned'} type of at most "
                f"{MAX_SUM_BITS} bits"
            )


def sum_dtype(idt: DataType, window: int) -> DataType:
    """The narrowest type of ``idt``'s signedness holding every sum of ``window`` values."""
    lo, hi = window * int(idt.min()), window * int(idt.max())
    if idt.signed():
        return DataType[f"INT{max(hi.bit_length(), (-lo - 1).bit_length()) + 1}"]
    return DataType[f"UINT{max(1, hi.bit_length())}"]
