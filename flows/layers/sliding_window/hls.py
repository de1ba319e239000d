"""What the HLS template needs for one sliding window."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.layers.sliding_window.spec import SlidingWindowSpec

TEMPLATE = Path(__file__).with_name("sliding_window.h.j2")


@dataclass(frozen=True)
class SlidingWindowHls:
    name: str
    spec: SlidingWindowSpec
    bits: int
    reps: int
    in_width: int
    out_width: int
    in_bits: int
    out_bits: int

    @property
    def widest_word(self) -> int:
        return max(self.in_width, self.out_width)


def context(s: SlidingWindowSpec, params: dict[str, np.ndarray]) -> SlidingWindowHls:
    b = s.dtype.bitwidth()
    return SlidingWindowHls(s.name, s, b, 1, s.simd * b, s.simd * b, b, b)
