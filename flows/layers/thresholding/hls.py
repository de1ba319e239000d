"""What the codegen template needs for one Thresholding layer."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from flows.codegen.hls_types import FieldKind
from flows.codegen.param_files import ParamTable
from flows.datatypes import BIPOLAR, signed_type_holding
from flows.layers.thresholding.spec import ThresholdingSpec

TEMPLATE = Path(__file__).with_name("thresholding.h.j2")


@dataclass(frozen=True)
class ThresholdingHls:
    name: str
    channels: int  # channels as the kernel sees them (PE when thresholds are shared)
    pe: int
    in_bits: int
    in_kind: str
    out_bits: int
    out_kind: str
    t_bits: int
    n_thres: int
    out_bias: int
    thresholds: list[list[list[int]]]  # [PE][C/PE][n]
    reps: int
    in_width: int
    out_width: int

    @property
    def widest_word(self) -> int:
        return max(self.in_width, self.out_width)

    def param_tables(self) -> dict[str, ParamTable]:
        """The table C-simulation loads from ``<layer>.thresholds.bin``."""
        return {"thresholds": ParamTable.ints(self.thresholds, self.t_bits)}


def context(s: ThresholdingSpec, params: dict[str, np.ndarray]) -> ThresholdingHls:
    """Shared thresholds: the kernel sees PE channels and C/PE times as many repetitions."""
    t = params["thresholds"]
    if s.shared:
        t = np.broadcast_to(t[:1], (s.pe, t.shape[1]))
        channels, reps = s.pe, s.pixels * (s.channels // s.pe)
    else:
        channels, reps = s.channels, s.pixels
    lo, hi = int(s.idt.min()), int(s.idt.max())
    t_bits = signed_type_holding(min(lo, int(t.min())), max(hi + 1, int(t.max()))).bitwidth()
    nf = channels // s.pe
    thr = [[t[f * s.pe + p].tolist() for f in range(nf)] for p in range(s.pe)]
    out_bits = s.odt.bitwidth()
    return ThresholdingHls(
        name=s.name,
        channels=channels,
        pe=s.pe,
        in_bits=s.idt.bitwidth(),
        in_kind=FieldKind.from_dtype(s.idt).cxx,
        out_bits=out_bits,
        out_kind=FieldKind.of_output(s.odt).cxx,
        t_bits=t_bits,
        n_thres=s.n_thres,
        out_bias=0 if s.odt == BIPOLAR else s.out_bias,
        thresholds=thr,
        reps=reps,
        in_width=s.pe * s.idt.bitwidth(),
        out_width=s.pe * out_bits,
    )
