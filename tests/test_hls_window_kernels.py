"""C-simulation of the window kernels (sliding_window.hpp, maxpool.hpp) against numpy models.

Same harness as tests/test_hls_kernels.py: each case writes a generated ``tb_config.h`` into its
own tmp dir, compiles the generic testbench in ``hls/tests`` with g++, checks that it prints
PASS and that it fails once an expected word is corrupted. Cases marked ``hw`` also run the
synthesizable code path (``-DBITFAB_NO_FAST_CSIM``), which for sliding_window is a different
schedule from the g++ fast path (reads overlapped with writes in one II=1 loop).
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from boards.driver.packing import pack_words_as_hex
from flows.codegen.hls_types import FieldKind
from tests.hls_tb import (
    B,
    S,
    Tb,
    U,
    build_tb,
    check_tb,
    code_paths,
    random_fields,
    run_tb,
    storage,
)

log = logging.getLogger(__name__)


# --- Sliding window -----------------------------------------------------------------------------


@dataclass(frozen=True)
class SwuCase:
    ch: int
    h: int
    w: int
    k: tuple[int, int]  # (K_H, K_W)
    simd: int
    bits: int
    stride: tuple[int, int] = (1, 1)
    pad: tuple[int, int, int, int] = (0, 0, 0, 0)  # (top, left, bottom, right)
    kind: FieldKind = U  # the kernel moves words; the kind only picks the random values
    reps: int = 1
    hw: bool = False

    @property
    def out_hw(self) -> tuple[int, int]:
        t, left, b, r = self.pad
        return (
            (self.h + t + b - self.k[0]) // self.stride[0] + 1,
            (self.w + left + r - self.k[1]) // self.stride[1] + 1,
        )

    @property
    def name(self) -> str:
        pad = "" if not any(self.pad) else "-p" + "".join(map(str, self.pad))
        return (
            f"{self.h}x{self.w}x{self.ch}-k{self.k[0]}x{self.k[1]}-s{self.stride[0]}x"
            f"{self.stride[1]}{pad}-simd{self.simd}-{self.kind.name[0]}{self.bits}-r{self.reps}"
        )


# CNV layer 0 (8-bit image) and layer 1 (bipolar activations stored as bits).
CNV0 = SwuCase(3, 32, 32, (3, 3), simd=3, bits=8, hw=True)
CNV1 = SwuCase(64, 30, 30, (3, 3), simd=32, bits=1, kind=B, hw=True)
SWU_CASES = [
    CNV0,
    CNV1,
    SwuCase(4, 9, 9, (3, 3), simd=2, bits=4, stride=(2, 2), reps=2, hw=True),
    SwuCase(4, 6, 6, (3, 3), simd=4, bits=2, pad=(1, 1, 1, 1), hw=True),
    SwuCase(2, 7, 5, (3, 3), simd=1, bits=3, pad=(2, 0, 1, 3), hw=True),  # asymmetric, P_R = K_W
    SwuCase(8, 5, 5, (1, 1), simd=4, bits=3, reps=2, hw=True),  # K=1
    SwuCase(3, 5, 7, (3, 2), simd=1, bits=6, stride=(1, 2), reps=2, hw=True),  # non-square
    SwuCase(2, 9, 9, (7, 7), simd=2, bits=2, pad=(3, 3, 3, 3), hw=True),  # 7x7 "same"
    SwuCase(2, 8, 11, (2, 1), simd=2, bits=5, stride=(3, 4), pad=(0, 1, 1, 0), hw=True),  # S > K
    SwuCase(32, 6, 6, (3, 3), simd=16, bits=8, pad=(1, 1, 1, 1), hw=True),  # 128-bit words
]


def sliding_window_ref(
    x: np.ndarray, k: tuple[int, int], stride: tuple[int, int], pad: tuple[int, int, int, int]
) -> np.ndarray:
    """im2col of NHWC ``x`` [N, H, W, C] -> [N, OH, OW, K_H, K_W, C], zero padding."""
    t, left, b, r = pad
    xp = np.pad(x, ((0, 0), (t, b), (left, r), (0, 0)))
    oh = (xp.shape[1] - k[0]) // stride[0] + 1
    ow = (xp.shape[2] - k[1]) // stride[1] + 1
    rows = (np.arange(oh) * stride[0])[:, None] + np.arange(k[0])  # [OH, K_H]
    cols = (np.arange(ow) * stride[1])[:, None] + np.arange(k[1])  # [OW, K_W]
    return xp[:, rows[:, None, :, None], cols[None, :, None, :], :]


def _swu_tb(case: SwuCase, rng: np.random.Generator) -> Tb:
    x = storage(
        case.kind, random_fields(case.kind, rng, case.bits, (case.reps, case.h, case.w, case.ch))
    )
    y = sliding_window_ref(x, case.k, case.stride, case.pad)
    oh, ow = case.out_hw
    assert y.shape == (case.reps, oh, ow, *case.k, case.ch)
    t, left, b, r = case.pad
    fields = {
        "IFM_CH": case.ch, "IFM_H": case.h, "IFM_W": case.w, "K_H": case.k[0], "K_W": case.k[1],
        "STRIDE_H": case.stride[0], "STRIDE_W": case.stride[1],
        "PAD_T": t, "PAD_L": left, "PAD_B": b, "PAD_R": r,
        "OFM_H": oh, "OFM_W": ow, "SIMD": case.simd, "BITS": case.bits,
    }  # fmt: skip
    return Tb(
        fields=fields,
        reps=case.reps,
        in_width=case.simd * case.bits,
        in_words=pack_words_as_hex(x.reshape(-1), case.bits, case.simd),
        out_width=case.simd * case.bits,
        out_words=pack_words_as_hex(y.reshape(-1), case.bits, case.simd),
        config_base="bitfab::sliding_window_config",
    )


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(SWU_CASES, lambda c: c.name))
def test_sliding_window(case: SwuCase, path: str, tmp_path: Path, pch: list[str]) -> None:
    check_tb(tmp_path, "tb_sliding_window", _swu_tb(case, np.random.default_rng(4)), path, pch)


def test_sliding_window_ref_matches_direct_loops() -> None:
    """The numpy oracle itself, against the definition written as loops (padding, stride)."""
    rng = np.random.default_rng(5)
    x = rng.integers(1, 9, size=(1, 4, 5, 2))
    k, stride, pad = (3, 2), (2, 1), (1, 0, 2, 1)
    y = sliding_window_ref(x, k, stride, pad)
    for oy in range(y.shape[1]):
        for ox in range(y.shape[2]):
            for ky in range(k[0]):
                for kx in range(k[1]):
                    iy, ix = oy * stride[0] + ky - pad[0], ox * stride[1] + kx - pad[1]
                    inside = 0 <= iy < 4 and 0 <= ix < 5
                    want = x[0, iy, ix] if inside else np.zeros(2)
                    np.testing.assert_array_equal(y[0, oy, ox, ky, kx], want)


BENCH_COPIES = 200
# Speed is measured, not asserted: a timed assertion fails on a busy CI machine (speed
# targets belong to bench/). The test checks every copy of the output and records the rate.


@pytest.mark.csim
@pytest.mark.parametrize("case", [CNV0, CNV1], ids=["cnv0", "cnv1"])
def test_sliding_window_throughput(
    case: SwuCase, tmp_path: Path, pch: list[str], record_property
) -> None:
    """The fast path over many copies of CNV's first two sliding windows, every copy checked;
    the measured rate is recorded (junit property and log), not asserted."""
    tb = _swu_tb(case, np.random.default_rng(4))
    exe = build_tb(tmp_path, "tb_sliding_window", tb, "fast", pch)
    result = run_tb(exe, "--bench", str(BENCH_COPIES))
    assert result.returncode == 0 and "PASS" in result.stdout, result.stdout + result.stderr
    us = int(re.search(r"KERNEL_US (\d+)", result.stdout).group(1))
    rate = BENCH_COPIES * case.reps / max(us, 1) * 1e6
    record_property("images_per_s", round(rate))
    log.info("sliding_window %s: %.0f images/s in C-sim", case.name, rate)


# --- Max pool -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PoolCase:
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

    @property
    def out_hw(self) -> tuple[int, int]:
        return (
            (self.h - self.k[0]) // self.stride[0] + 1,
            (self.w - self.k[1]) // self.stride[1] + 1,
        )

    @property
    def name(self) -> str:
        return (
            f"{self.h}x{self.w}x{self.ch}-k{self.k[0]}x{self.k[1]}-s{self.stride[0]}x"
            f"{self.stride[1]}-pe{self.pe}-{self.kind.name[0]}{self.bits}-r{self.reps}"
        )


POOL_CASES = [
    PoolCase(64, 28, 28, (2, 2), (2, 2), pe=16, kind=B, bits=1, hw=True),  # CNV-w1a1 pool 0
    PoolCase(128, 10, 10, (2, 2), (2, 2), pe=8, kind=S, bits=2, hw=True),  # CNV-w2a2 pool 1
    PoolCase(48, 7, 7, (3, 3), (2, 2), pe=24, kind=U, bits=4, hw=True),  # 96-bit words
    PoolCase(4, 5, 6, (2, 2), (1, 1), pe=2, kind=S, bits=3, hw=True),  # overlapping windows
    PoolCase(5, 4, 5, (2, 3), (2, 1), pe=5, kind=S, bits=1, reps=2, hw=True),  # PE = CH, -1/0
    PoolCase(32, 7, 8, (3, 2), (3, 3), pe=16, kind=S, bits=6, reps=2, hw=True),  # fields straddle
]


def maxpool_ref(x: np.ndarray, k: tuple[int, int], stride: tuple[int, int]) -> np.ndarray:
    """ONNX MaxPool (no padding, ceil_mode=0) of NHWC ``x`` [N, H, W, C] -> [N, OH, OW, C]."""
    win = np.lib.stride_tricks.sliding_window_view(x, k, axis=(1, 2))  # [N, H', W', C, KH, KW]
    return win[:, :: stride[0], :: stride[1]].max(axis=(4, 5))


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(POOL_CASES, lambda c: c.name))
def test_maxpool(case: PoolCase, path: str, tmp_path: Path, pch: list[str]) -> None:
    rng = np.random.default_rng(6)
    x = random_fields(case.kind, rng, case.bits, (case.reps, case.h, case.w, case.ch))
    y = maxpool_ref(x, case.k, case.stride)
    oh, ow = case.out_hw
    assert y.shape == (case.reps, oh, ow, case.ch)
    fields = {
        "CH": case.ch, "IFM_H": case.h, "IFM_W": case.w, "K_H": case.k[0], "K_W": case.k[1],
        "STRIDE_H": case.stride[0], "STRIDE_W": case.stride[1], "OFM_H": oh, "OFM_W": ow,
        "PE": case.pe, "BITS": case.bits, "KIND": case.kind,
    }  # fmt: skip
    tb = Tb(
        fields=fields,
        reps=case.reps,
        in_width=case.pe * case.bits,
        in_words=pack_words_as_hex(storage(case.kind, x).reshape(-1), case.bits, case.pe),
        out_width=case.pe * case.bits,
        out_words=pack_words_as_hex(storage(case.kind, y).reshape(-1), case.bits, case.pe),
        config_base="bitfab::maxpool_config",
    )
    check_tb(tmp_path, "tb_maxpool", tb, path, pch)
