"""Width converter estimates."""

from __future__ import annotations

from flows.layers.dwc.spec import DwcSpec


def cycles(s: DwcSpec) -> int:
    return (s.total // min(s.in_elems, s.out_elems)) * s.reps


def resources(s: DwcSpec) -> dict[str, int]:
    bits = (s.in_elems + s.out_elems) * s.dtype.bitwidth()
    return {"LUT": int(bits * 2 + 20), "BRAM18": 0, "DSP": 0}
