"""C-simulation of avgpool.hpp (the exact window sums) against the kind's numpy reference."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from boards.driver.packing import pack_words_as_hex
from flows.codegen.hls_types import FieldKind
from flows.layers.avgpool import ref
from flows.layers.avgpool.hls import context
from flows.layers.avgpool.spec import AvgPoolSpec, sum_dtype
from flows.layers.common import dt as parse_dt
from tests.hls_tb import S, Tb, U, check_tb, code_paths, random_fields


@dataclass(frozen=True)
class AvgCase:
    ch: int
    h: int
    w: int
    k: tuple[int, int]
    stride: tuple[int, int]
    pe: int
    kind: FieldKind
    bits: int
    reps: int = 1
    hw: bool = False

    def spec(self) -> AvgPoolSpec:
        idt = parse_dt(f"{'INT' if self.kind is S else 'UINT'}{self.bits}")
        odt = sum_dtype(idt, self.k[0] * self.k[1])
        s = AvgPoolSpec("p", self.ch, self.h, self.w, *self.k, *self.stride, self.pe, idt, odt)
        s.validate()
        return s

    @property
    def name(self) -> str:
        return (
            f"{self.h}x{self.w}x{self.ch}-k{self.k[0]}x{self.k[1]}-s{self.stride[0]}x"
            f"{self.stride[1]}-pe{self.pe}-{self.kind.name[0]}{self.bits}-r{self.reps}"
        )


AVG_CASES = [
    AvgCase(8, 6, 6, (2, 2), (2, 2), pe=4, kind=U, bits=4, hw=True),  # Brevitas TruncAvgPool2d
    AvgCase(6, 5, 5, (5, 5), (1, 1), pe=3, kind=S, bits=3, reps=2, hw=True),  # global pool
    AvgCase(4, 5, 6, (3, 2), (1, 2), pe=2, kind=S, bits=5, hw=True),  # overlapping rows
    AvgCase(3, 7, 4, (2, 3), (3, 1), pe=1, kind=U, bits=8, reps=2, hw=True),  # S > K, drops
    AvgCase(24, 4, 4, (4, 4), (4, 4), pe=24, kind=U, bits=7, hw=True),  # 264-bit output words
]


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(AVG_CASES, lambda c: c.name))
def test_avgpool(case: AvgCase, path: str, tmp_path: Path, pch: list[str]) -> None:
    s = case.spec()
    rng = np.random.default_rng(7)
    x = random_fields(case.kind, rng, case.bits, (case.reps, case.h, case.w, case.ch))
    y = ref.sumpool(x, s)
    assert y.shape == (case.reps, s.ofm_h, s.ofm_w, case.ch)
    h = context(s, {})
    assert h.kind == case.kind.cxx
    fields = {
        "CH": case.ch, "IFM_H": case.h, "IFM_W": case.w, "K_H": case.k[0], "K_W": case.k[1],
        "STRIDE_H": case.stride[0], "STRIDE_W": case.stride[1], "OFM_H": s.ofm_h,
        "OFM_W": s.ofm_w, "PE": case.pe, "BITS": h.in_bits, "OBITS": h.out_bits, "KIND": case.kind,
    }  # fmt: skip
    tb = Tb(
        fields=fields,
        reps=case.reps,
        in_width=h.in_width,
        in_words=pack_words_as_hex(x.reshape(-1), h.in_bits, case.pe),
        out_width=h.out_width,
        out_words=pack_words_as_hex(y.reshape(-1), h.out_bits, case.pe),
        config_base="bitfab::avgpool_config",
    )
    check_tb(tmp_path, "tb_avgpool", tb, path, pch)


def test_ref_matches_direct_loops() -> None:
    """The strided-slice reference against a plain loop over windows."""
    s = AvgCase(3, 7, 6, (3, 2), (2, 3), pe=1, kind=S, bits=4).spec()
    x = np.random.default_rng(1).integers(-8, 8, (2, 7, 6, 3))
    want = np.zeros((2, s.ofm_h, s.ofm_w, 3), np.int64)
    for oy in range(s.ofm_h):
        for ox in range(s.ofm_w):
            win = x[:, oy * 2 : oy * 2 + 3, ox * 3 : ox * 3 + 2, :]
            want[:, oy, ox, :] = win.sum(axis=(1, 2))
    np.testing.assert_array_equal(ref.sumpool(x, s), want)
