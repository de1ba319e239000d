"""MVAU parameters: typed, validated, built once from the ONNX node's attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.datatypes import BIPOLAR
from flows.errors import LayerError
from flows.layers.base import memory_map
from flows.layers.common import divisors

RAM_STYLES = ("auto", "block")


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
    # where the weight ROM goes: "auto" (synthesis decides: LUTs for a wide, shallow ROM) or
    # "block" (block RAM); a folding axis, since which is cheaper depends on the board
    ram_style: str = "auto"

    FOLD: ClassVar[tuple[str, ...]] = ("SIMD", "PE", "ram_style")

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

    @property
    def mac(self) -> str:
        """Which resource the multiply-accumulate maps to: XNOR, LUT or DSP."""
        if self.xnor:
            return "XNOR"
        if self.wdt.bitwidth() >= 4 and self.idt.bitwidth() >= 4:
            return "DSP"
        return "LUT"

    def stream_elems(self) -> tuple[int, int]:
        return self.simd, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        """Every (SIMD, PE) whose input and output words fit; fewest lanes first, then the
        wider input word (SIMD) before the wider output (PE) at equal lanes."""
        ib, ob = self.idt.bitwidth(), max(self.odt.bitwidth(), 1)
        cands = [
            (si, pe)
            for si in divisors(self.mw)
            for pe in divisors(self.mh)
            if si * ib <= max_bits and pe * ob <= max_bits
        ]
        cands.sort(key=lambda c: (c[0] * c[1], -c[0]))
        out = []
        for si, pe in cands:
            out.append({"SIMD": si, "PE": pe, "ram_style": "auto"})
            # block RAM is an option where synthesis would otherwise build the ROM in LUTs
            tiles = (self.mh // pe) * (self.mw // si)  # NF * SF at this folding
            wrom = memory_map(si * pe * self.wdt.bitwidth(), tiles, rom=True)
            if wrom.kind == "logic":
                out.append({"SIMD": si, "PE": pe, "ram_style": "block"})
        return out

    def requant_summary(self) -> str:
        """How the accumulator becomes the output, in words for the report."""
        if self.n_thres == 0:
            return "none (accumulator out)"
        if self.requant == "shift":
            rnd = "round half to even" if self.rne else "floor"
            return f"shift by {self.shift}, {rnd}, clip (exact: equals the thresholds)"
        return f"thresholds ({self.n_thres} per channel, {self.n_thres * self.mh} in all)"

    def input_burst(self) -> int:
        """The input vector is read in one burst of SF words while the first neuron fold is
        computed, then held for the other NF-1 folds: with NF > 1 a whole vector waits."""
        return self.sf if self.nf > 1 else 1

    def report(self) -> dict[str, Any]:
        return {
            "MW": self.mw,
            "MH": self.mh,
            "SIMD": self.simd,
            "PE": self.pe,
            "weight_dtype": self.wdt.name,
            "acc_dtype": self.acc_dt.name,
            "mac": self.mac,
            "ram_style": self.ram_style,
            "requant": self.requant_summary(),
            "thresholds_per_channel": self.n_thres,
        }

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
        if self.ram_style not in RAM_STYLES:
            raise LayerError(
                f"{where}: ram_style '{self.ram_style}' unknown; one of {', '.join(RAM_STYLES)}"
            )
        if self.requant not in ("thresholds", "shift"):
            raise LayerError(f"{where}: unknown requantization '{self.requant}'")
        if self.acc_dt.bitwidth() > 32:
            raise LayerError(
                f"{where}: the accumulator needs {self.acc_dt.bitwidth()} bits; at most 32 are "
                "supported: use narrower weights/activations or a smaller layer"
            )
