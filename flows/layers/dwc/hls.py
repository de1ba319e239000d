"""What the codegen template needs for one width converter."""

from __future__ import annotations

from dataclasses import dataclass

from flows.layers.dwc.spec import DwcSpec


@dataclass(frozen=True)
class DwcHls:
    name: str
    in_elems: int
    out_elems: int
    bits: int
    total: int
    reps: int
    in_width: int
    out_width: int


def build(s: DwcSpec) -> DwcHls:
    b = s.dtype.bitwidth()
    return DwcHls(
        s.name, s.in_elems, s.out_elems, b, s.total, s.reps, s.in_elems * b, s.out_elems * b
    )
