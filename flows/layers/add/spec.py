"""Stream add parameters."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.errors import LayerError
from flows.layers.base import lane_options

MAX_SUM_BITS = 32  # widest sum the kernels compute (the accumulator limit of every kind)


def sum_bounds(adt: DataType, bdt: DataType, a_mul: int = 1, b_mul: int = 1) -> tuple[int, int]:
    """Smallest and largest ``a_mul*a + b_mul*b`` over the two types' ranges."""
    ea = sorted((a_mul * int(adt.min()), a_mul * int(adt.max())))
    eb = sorted((b_mul * int(bdt.min()), b_mul * int(bdt.max())))
    return ea[0] + eb[0], ea[1] + eb[1]


@dataclass(frozen=True)
class AddSpec:
    """out = a_mul*a + b_mul*b lane by lane: ``pixels`` pixels of ``channels`` values an image
    on each input, PE lanes a word, the output type holding every sum exactly. The constant
    multipliers put two paths of different scales on one integer scale
    (``flows.dyadic``); both are 1 for paths that share a scale (a plain adder)."""

    name: str
    channels: int
    pixels: int
    pe: int
    adt: DataType
    bdt: DataType
    odt: DataType
    a_mul: int = 1
    b_mul: int = 1

    FOLD: ClassVar[tuple[str, ...]] = ("PE",)

    @property
    def words(self) -> int:
        return self.pixels * self.channels // self.pe

    def stream_elems(self) -> tuple[int, int]:
        return self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        bits = max(self.adt.bitwidth(), self.bdt.bitwidth(), self.odt.bitwidth())
        return [{"PE": p} for p in lane_options(self.channels, bits, max_bits)]

    def input_burst(self) -> int:
        return 1  # one word of each input a cycle, steadily

    def report(self) -> dict[str, Any]:
        r: dict[str, Any] = {"PE": self.pe, "in_dtypes": [self.adt.name, self.bdt.name]}
        if (self.a_mul, self.b_mul) != (1, 1):
            r["multipliers"] = [self.a_mul, self.b_mul]
        return r

    def validate(self) -> None:
        where = f"StreamAdd '{self.name}'"
        if self.channels % self.pe:
            raise LayerError(f"{where}: C={self.channels} not divisible by PE={self.pe}")
        if BIPOLAR in (self.adt, self.bdt, self.odt):
            raise LayerError(f"{where}: bipolar streams cannot be added; use integer activations")
        if self.a_mul == 0 or self.b_mul == 0:
            raise LayerError(f"{where}: a zero multiplier ({self.a_mul}, {self.b_mul})")
        lo, hi = sum_bounds(self.adt, self.bdt, self.a_mul, self.b_mul)
        what = f"{self.a_mul}*{self.adt.name} + {self.b_mul}*{self.bdt.name}"
        if not (self.odt.allowed(lo) and self.odt.allowed(hi)):
            raise LayerError(
                f"{where}: {self.odt.name} cannot hold every sum {what} ({lo} .. {hi})"
            )
        if self.odt.bitwidth() > MAX_SUM_BITS:
            raise LayerError(
                f"{where}: the sums {what} ({lo} .. {hi}) need {self.odt.bitwidth()} bits, "
                f"more than the {MAX_SUM_BITS} the kernels compute"
            )
