"""bitfab_sliding_window against the numpy reference: word order, padding, strides, gaps,
back-pressure, and the steady-state cycles per image against the cost model.

Each distinct parameter set is one Verilator compile (cached by content), so the file keeps
to six: CNV's first layer, a 64-channel 1-bit layer at SIMD 64 and four seeded random shapes.
Every shape runs at full rate (outputs and cycles checked) and with 60 % valid / 50 % ready
gaps on the same compiled model (outputs checked).
"""

from __future__ import annotations

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.layers.sliding_window import cost, rtl
from flows.layers.sliding_window.ref import sliding_window
from flows.layers.sliding_window.spec import SlidingWindowSpec
from tests.rtl_tb import pack, run_kernel, unpack

IMAGES = 3


def _spec(name, ch, h, w, k, stride, pads, simd, dtype) -> SlidingWindowSpec:
    s = SlidingWindowSpec(name, ch, h, w, k[0], k[1], stride[0], stride[1], pads, simd,
                          DataType[dtype])  # fmt: skip
    s.validate()
    return s


def _random_spec(seed: int) -> SlidingWindowSpec:
    rng = np.random.default_rng(seed)
    ch = int(rng.choice([1, 2, 3, 4, 6, 8]))
    simd = int(rng.choice([d for d in range(1, ch + 1) if ch % d == 0]))
    dtype = str(rng.choice(["BIPOLAR", "UINT1", "INT2", "UINT3", "INT4", "UINT8", "INT8"]))
    while True:
        k = (int(rng.integers(1, 4)), int(rng.integers(1, 4)))
        stride = (int(rng.integers(1, 3)), int(rng.integers(1, 3)))
        h, w = int(rng.integers(2, 9)), int(rng.integers(2, 9))
        pads = (0, 0, 0, 0)
        if rng.random() < 0.6:
            pads = tuple(int(rng.integers(0, k[i % 2])) if k[i % 2] > 1 else 0 for i in range(4))
        if h + pads[0] + pads[2] >= k[0] and w + pads[1] + pads[3] >= k[1]:
            return _spec(f"rand{seed}", ch, h, w, k, stride, pads, simd, dtype)


CASES = {
    # CNV's first layer: the 32x32 RGB image, 8-bit, one pixel a word
    "cnv0": _spec("cnv0", 3, 32, 32, (3, 3), (1, 1), (0, 0, 0, 0), 3, "UINT8"),
    # a 64-channel bipolar layer (CNV's second), one pixel a 64-bit word
    "c64b1": _spec("c64b1", 64, 30, 30, (3, 3), (1, 1), (0, 0, 0, 0), 64, "BIPOLAR"),
    # seeded random shapes, seeds picked for coverage: 4 signed 8-bit, stride 2, padding;
    # 9 K=1, stride 2 (input-bound); 18 1-bit, 4 words a pixel, padding (2 on top);
    # 33 non-square kernel, stride (2, 1), asymmetric padding
    **{f"rand{sd}": _random_spec(sd) for sd in (4, 9, 18, 33)},
}


def _images(s: SlidingWindowSpec, rng: np.random.Generator) -> np.ndarray:
    """Stored field values: bipolar as its bits (0 = -1), the padding word is all zero bits."""
    shape = (IMAGES, s.ifm_h, s.ifm_w, s.ifm_ch)
    if s.dtype == DataType["BIPOLAR"]:
        return rng.integers(0, 2, shape)
    return rng.integers(int(s.dtype.min()), int(s.dtype.max()) + 1, shape)


def _run(s: SlidingWindowSpec, seed: int, valid_pct: int, ready_pct: int):
    bits = s.dtype.bitwidth()
    x = _images(s, np.random.default_rng(seed))
    want = sliding_window(x, s).reshape(-1, s.simd)
    inst = rtl.context(s, {})
    assert inst.in_width == inst.out_width == s.simd * bits
    run = run_kernel(
        inst.module,
        inst.params,
        [pack(p, bits) for p in x.reshape(-1, s.simd)],
        len(want),
        seed=seed,
        valid_pct=valid_pct,
        ready_pct=ready_pct,
    )
    assert run.returncode == 0, run.stderr
    signed = s.dtype.signed() and s.dtype != DataType["BIPOLAR"]
    got = np.array([unpack(w, bits, s.simd, signed) for w in run.words])
    np.testing.assert_array_equal(got, want)
    return run, len(want) // IMAGES


@pytest.mark.parametrize("name", list(CASES))
def test_sliding_window_full_rate_matches_ref_and_cost(name: str) -> None:
    s = CASES[name]
    run, per_image = _run(s, seed=1, valid_pct=100, ready_pct=100)
    # steady state: every output word of image 2 comes cost.cycles after the same word of image 1
    period = {run.cycles[2 * per_image + i] - run.cycles[per_image + i] for i in range(per_image)}
    assert period == {cost.cycles(s)}, (s, period)


@pytest.mark.parametrize("name", list(CASES))
def test_sliding_window_with_gaps_and_back_pressure(name: str) -> None:
    _run(CASES[name], seed=7, valid_pct=60, ready_pct=50)
