"""VVAU parameters: typed, validated, built once from the ONNX node's attributes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.common import divisors
from flows.layers.mvau.spec import MvauSpec


@dataclass(frozen=True)
class VvauSpec:
    """One depthwise layer: per channel c, ``acc[c] = sum_k x[k, c] * W[k, c]`` over the K_H*K_W
    kernel positions k of a window (the sliding window's element order (ky, kx, c)), then the
    activation of an MVAU: with ``n_thres > 0`` ``out_bias + out_step * count(acc >= T[c])``,
    otherwise the accumulator.

    Folding: PE channels and SIMD kernel positions a clock. The kernel walks the kernel
    positions outermost and the channel groups inside them, in the order the window streams
    its elements, so it needs no reordering sliding window; SIMD*PE elements a word are then
    SIMD kernel positions of PE channels only when they are consecutive in that order: PE = C
    when SIMD > 1. The accumulators of all C channels are kept (one bank of NF words).

    The MVAU's threshold machinery takes a VVAU as it is: ``mw`` (the dot product's length,
    K_H*K_W) and ``mh`` (the channels) name the same quantities, and weights are stored as the
    [K_H*K_W, C] matrix whose column c is channel c's kernel.
    """

    name: str
    ch: int
    k_h: int
    k_w: int
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
    requant: str = "thresholds"  # or "shift" (flows/layers/mvau/requant.py)
    shift: int = -1
    rne: bool = False
    # the weight ROM is left to synthesis (no block-RAM option: a depthwise ROM is small)
    ram_style: str = "auto"

    FOLD: ClassVar[tuple[str, ...]] = ("SIMD", "PE")

    # the MVAU's rules, which read only the fields both kinds share
    xnor = MvauSpec.xnor
    mac = MvauSpec.mac
    requant_summary = MvauSpec.requant_summary

    @property
    def kk(self) -> int:
        """Kernel positions, the length of each channel's dot product."""
        return self.k_h * self.k_w

    @property
    def mw(self) -> int:
        return self.kk

    @property
    def mh(self) -> int:
        return self.ch

    @property
    def sf(self) -> int:
        return self.kk // self.simd

    @property
    def nf(self) -> int:
        return self.ch // self.pe

    def stream_elems(self) -> tuple[int, int]:
        return self.simd * self.pe, self.pe

    def fold_options(self, max_bits: int) -> list[dict[str, int]]:
        """(SIMD 1, PE | C) and (SIMD | K_H*K_W, PE = C) whose words fit; fewest lanes first."""
        ib, ob = self.idt.bitwidth(), max(self.odt.bitwidth(), 1)
        cands = [(1, pe) for pe in divisors(self.ch)]
        cands += [(si, self.ch) for si in divisors(self.kk) if si > 1]
        return [
            {"SIMD": si, "PE": pe}
            for si, pe in sorted(cands, key=lambda c: c[0] * c[1])
            if si * pe * ib <= max_bits and pe * ob <= max_bits
        ]

    def input_burst(self) -> int:
        """One input word a tile, every tile: the input is read steadily."""
        return 1

    def report(self) -> dict[str, Any]:
        return {
            "channels": self.ch,
            "kernel": [self.k_h, self.k_w],
            "SIMD": self.simd,
            "PE": self.pe,
            "weight_dtype": self.wdt.name,
            "acc_dtype": self.acc_dt.name,
            "mac": self.mac,
            "requant": self.requant_summary(),
            "thresholds_per_channel": self.n_thres,
        }

    def validate(self) -> None:
        where = f"VVAU '{self.name}'"
        if self.simd < 1 or self.pe < 1:
            raise LayerError(f"{where}: SIMD and PE must be at least 1")
        if self.ch % self.pe:
            raise LayerError(f"{where}: channels={self.ch} not divisible by PE={self.pe}")
        if self.kk % self.simd:
            raise LayerError(
                f"{where}: {self.k_h}x{self.k_w}={self.kk} kernel positions not divisible by "
                f"SIMD={self.simd}"
            )
        if self.simd > 1 and self.pe != self.ch:
            raise LayerError(
                f"{where}: SIMD={self.simd} needs PE={self.ch} (all channels): the window "
                "streams each kernel position's channels together, so only a word of whole "
                f"positions holds several; use SIMD=1 with PE={self.pe}, or PE={self.ch}"
            )
        for what, d in (("input", self.idt), ("weight", self.wdt), ("output", self.odt)):
            if not d.is_integer():
                raise LayerError(f"{where}: {what} datatype {d.name} is not an integer type")
        if self.requant not in ("thresholds", "shift"):
            raise LayerError(f"{where}: unknown requantization '{self.requant}'")
        if self.acc_dt.bitwidth() > 32:
            raise LayerError(
                f"{where}: the accumulator needs {self.acc_dt.bitwidth()} bits; at most 32 are "
                "supported: use narrower weights/activations"
            )
