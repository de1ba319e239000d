"""MVAU parameters: typed, validated, built once from the ONNX node's attributes."""

from __future__ import annotations

from dataclasses import dataclass

from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.errors import LayerError


@dataclass(frozen=True)
class MvauSpec:
    """One matrix-vector-activation layer.

    ``x [pixels, MW] @ W [MW, MH]`` per image; with ``n_thres > 0`` each output is
    ``out_bias + out_step * count(acc >= T[c])``, otherwise the accumulator itself.
    """

    name: str
    mw: int
    mh: int
    simd: int
    pe: int
    idt: DataType
    wdt: DataType
    odt: DataType
    acc_dt: DataType
    n_thres: int
    out_bias: int
    out_step: int
    pixels: int = 1
    requant: str = "thresholds"  # or "shift": same function, cheaper hardware
    shift: int = -1
    rne: bool = False

    @property
    def xnor(self) -> bool:
        """Both operands bipolar: the dot product is 2*popcount(xnor) - MW."""
        return self.idt == BIPOLAR and self.wdt == BIPOLAR

    @property
    def sf(self) -> int:
        return self.mw // self.simd

    @property
    def nf(self) -> int:
        return self.mh // self.pe

    def validate(self) -> None:
        where = f"MVAU '{self.name}'"
        if self.mw % self.simd:
            raise LayerError(f"{where}: MW={self.mw} not divisible by SIMD={self.simd}")
        if self.mh % self.pe:
            raise LayerError(f"{where}: MH={self.mh} not divisible by PE={self.pe}")
        if self.simd < 1 or self.pe < 1:
            raise LayerError(f"{where}: SIMD and PE must be at least 1")
        for what, d in (("input", self.idt), ("weight", self.wdt), ("output", self.odt)):
            if not d.is_integer():
                raise LayerError(f"{where}: {what} datatype {d.name} is not an integer type")
        if self.requant not in ("thresholds", "shift"):
            raise LayerError(f"{where}: unknown requantization '{self.requant}'")
        if self.acc_dt.bitwidth() > 32:
            raise LayerError(
                f"{where}: the accumulator needs {self.acc_dt.bitwidth()} bits; at most 32 are "
                "supported: use narrower weights/activations or a smaller layer"
            )
