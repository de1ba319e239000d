"""Sliding-window parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.base import lane_options


@dataclass(frozen=True)
class SlidingWindowSpec:
    """Per output pixel (row-major) the K_H x K_W window, element order (ky, kx, c)."""

    name: str
    ifm_ch: int
    ifm_h: int
    ifm_w: int
    k_h: int
    k_w: int
    stride_h: int
    stride_w: int
    pads: tuple[int, int, int, int]  # top, left, bottom, right
    simd: int
    dtype: DataType

    FOLD: ClassVar[tuple[str, ...]] = ("SIMD",)

    @property
    def ofm_h(self) -> int:
        return (self.ifm_h + self.pads[0] + self.pads[2] - self.k_h) // self.stride_h + 1

    @property
    def ofm_w(self) -> int:
        return (self.ifm_w + self.pads[1] + self.pads[3] - self.k_w) // self.stride_w + 1

    def stream_elems(self) -> tuple[int, int]:
        return self.simd, self.simd

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        return [{"SIMD": si} for si in lane_options(self.ifm_ch, self.dtype.bitwidth(), max_bits)]

    def input_burst(self) -> int:
        """Rows are freed whole, at the end of each output row: the input takes STRIDE_H rows
        at full rate, then stalls while that row of windows is emitted; at an image boundary
        it takes up to K_H rows at once (hls/rtl/bitfab_sliding_window.v), so that many input
        rows (IFM_W pixels of IFM_CH/SIMD words each) may wait in front of it."""
        return max(self.stride_h, self.k_h) * self.ifm_w * (self.ifm_ch // self.simd)

    def report(self) -> dict[str, Any]:
        return {
            "SIMD": self.simd,
            "kernel": [self.k_h, self.k_w],
            "stride": [self.stride_h, self.stride_w],
            "pads": list(self.pads),
        }

    def validate(self) -> None:
        where = f"SlidingWindow '{self.name}'"
        if self.ifm_ch % self.simd:
            raise LayerError(f"{where}: IFM_CH={self.ifm_ch} not divisible by SIMD={self.simd}")
        if self.ofm_h < 1 or self.ofm_w < 1:
            raise LayerError(f"{where}: the {self.k_h}x{self.k_w} window does not fit the input")
