"""What the codegen template needs for one max pool."""

from __future__ import annotations

from dataclasses import dataclass

from flows.layers.maxpool.spec import MaxPoolSpec
from flows.layers.mvau.hls import kind


@dataclass(frozen=True)
class MaxPoolHls:
    name: str
    spec: MaxPoolSpec
    bits: int
    kind: str
    reps: int
    in_width: int
    out_width: int
    in_bits: int
    out_bits: int


def build(s: MaxPoolSpec) -> MaxPoolHls:
    b = s.dtype.bitwidth()
    return MaxPoolHls(s.name, s, b, kind(s.dtype), 1, s.pe * b, s.pe * b, b, b)
