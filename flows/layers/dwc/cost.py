"""Width converter estimates: features of hls/rtl/bitfab_dwc.v x coefficients fitted to its
Yosys synthesis (bench/calibrate.py)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from flows.layers import calibration
from flows.layers.dwc.spec import DwcSpec


def cycles(s: DwcSpec) -> int:
    return (s.total // min(s.in_elems, s.out_elems)) * s.reps


@dataclass(frozen=True)
class Layout:
    """How bitfab_dwc.v builds a converter: in chunks of gcd(in, out) elements, as an upsizer
    (the input size divides the output's: a shift register with no logic per bit), a
    downsizer (the reverse: a load-or-shift mux per bit) or the general case (a placement
    shifter ORing each word in above what is left)."""

    chunk_bits: int
    in_chunks: int
    out_chunks: int

    @classmethod
    def of(cls, s: DwcSpec) -> Layout:
        g = math.gcd(s.in_elems, s.out_elems)
        return cls(g * s.dtype.bitwidth(), s.in_elems // g, s.out_elems // g)

    @property
    def kind(self) -> str:
        if self.in_chunks == 1:
            return "up"
        return "down" if self.out_chunks == 1 else "any"

    @property
    def buffer_chunks(self) -> int:
        return {"up": self.out_chunks, "down": self.in_chunks}.get(
            self.kind, self.in_chunks + self.out_chunks - 1
        )

    @property
    def count_bits(self) -> int:
        return max(1, math.ceil(math.log2(self.in_chunks + self.out_chunks)))

    @property
    def offset_bits(self) -> int:
        """The registered landing offset's bits (0 .. out_chunks-1)."""
        return max(1, math.ceil(math.log2(self.out_chunks)))

    def sources(self, chunk: int) -> int:
        """How many input chunks the general case's shifter can place into buffer chunk
        ``chunk``: the synthesizer sees every offset the offset register can hold, not only
        those below out_chunks."""
        return sum(1 for at in range(1 << self.offset_bits) if 0 <= chunk - at < self.in_chunks)

    def place_luts_per_bit(self, chunk: int) -> int:
        """LUT6s for one bit of a general-case buffer chunk: its sources, their offset
        selects, the kept bit (one more when a pop shifts a later chunk down) and the push."""
        kept = 2 if chunk < self.buffer_chunks - self.out_chunks else 1
        return math.ceil((self.sources(chunk) + kept + self.offset_bits + 1) / 5)


def lut_features(s: DwcSpec) -> dict[str, float]:
    lay = Layout.of(s)
    buf = lay.buffer_chunks * lay.chunk_bits
    general = lay.kind == "any"
    return {
        "base": 1.0,
        "count_bits": float(lay.count_bits),
        # a downsizer's bits below its top chunk load or shift: a 2:1 choice each (the top
        # chunk loads or clears, which the flip-flop's enable and reset absorb)
        "down_shift_bits": float(buf - lay.chunk_bits if lay.kind == "down" else 0),
        # bits a pop shifts down: their next value is a choice of two
        "any_kept_bits": float(
            (lay.buffer_chunks - lay.out_chunks) * lay.chunk_bits if general else 0
        ),
        "any_place_luts": float(
            lay.chunk_bits * sum(lay.place_luts_per_bit(c) for c in range(lay.buffer_chunks))
            if general
            else 0
        ),
        "ff_buf_bits": float(buf),
    }


def resources(s: DwcSpec) -> dict[str, int]:
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("dwc", "LUT", f),
        "BRAM18": 0,
        "DSP": 0,
    }
