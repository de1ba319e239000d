"""Max-pool parameters."""

from __future__ import annotations

from dataclasses import dataclass

from qonnx.core.datatype import DataType

from flows.errors import LayerError


@dataclass(frozen=True)
class MaxPoolSpec:
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

    @property
    def ofm_h(self) -> int:
        return (self.ifm_h - self.k_h) // self.stride_h + 1

    @property
    def ofm_w(self) -> int:
        return (self.ifm_w - self.k_w) // self.stride_w + 1

    def validate(self) -> None:
        where = f"MaxPool '{self.name}'"
        if self.channels % self.pe:
            raise LayerError(f"{where}: CH={self.channels} not divisible by PE={self.pe}")
        if self.ofm_h < 1 or self.ofm_w < 1:
            raise LayerError(f"{where}: the {self.k_h}x{self.k_w} window does not fit the input")
