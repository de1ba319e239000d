"""Max-pool parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.base import lane_options


@dataclass(frozen=True)
class MaxPoolSpec:
    """K_H x K_W max pool over an NHWC image, no padding, floor mode; PE channels a word."""

    name: str
    channels: int
    ifm_h: int
    ifm_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pe: int
    dtype: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    @property
    def ofm_h(self) -> int:
        return (self.ifm_h - self.k_h) // self.stride_h + 1

    @property
    def ofm_w(self) -> int:
        return (self.ifm_w - self.k_w) // self.stride_w + 1

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return [{"PE": pe} for pe in lane_options(self.channels, self.dtype.bitwidth(), max_bits)]

    def input_burst(self) -> int:
        return 1  # reads one word a cycle, steadily

    def report(self) -> dict[str, Any]:
        return {
            "PE": self.pe,
            "pool": [self.k_h, self.k_w],
            "stride": [self.stride_h, self.stride_w],
        }

    def validate(self) -> None:
        where = f"MaxPool '{self.name}'"
        if self.channels % self.pe:
            raise LayerError(f"{where}: CH={self.channels} not divisible by PE={self.pe}")
        if self.ofm_h < 1 or self.ofm_w < 1:
            raise LayerError(f"{where}: the {self.k_h}x{self.k_w} window does not fit the input")
