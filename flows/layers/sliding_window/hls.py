"""What the codegen template needs for one sliding window."""

from __future__ import annotations

from dataclasses import dataclass

from flows.layers.sliding_window.spec import SlidingWindowSpec


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


def build(s: SlidingWindowSpec) -> SlidingWindowHls:
    b = s.dtype.bitwidth()
    return SlidingWindowHls(s.name, s, b, 1, s.simd * b, s.simd * b, b, b)
