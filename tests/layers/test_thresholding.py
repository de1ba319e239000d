"""Thresholding roles: spec validation, folding options, cost, the numpy reference."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers import calibration
from flows.layers.thresholding import cost, ref
from flows.layers.thresholding.spec import ThresholdingSpec

SPEC = ThresholdingSpec(
    name="in0",
    channels=6,
    pe=2,
    idt=DataType["UINT8"],
    odt=DataType["UINT2"],
    n_thres=3,
    out_bias=0,
    out_step=1,
    shared=False,
    pixels=4,
)


def test_validate():
    with pytest.raises(LayerError, match="Thresholding 'in0': C=6 not divisible by PE=4"):
        dataclasses.replace(SPEC, pe=4).validate()
    with pytest.raises(LayerError, match="input datatype FLOAT32 is not an integer type"):
        dataclasses.replace(SPEC, idt=DataType["FLOAT32"]).validate()


def test_fold_options_are_pe_divisors_within_the_word_limit():
    assert SPEC.fold_options(1024) == [{"PE": p} for p in (1, 2, 3, 6)]
    assert SPEC.fold_options(16) == [{"PE": 1}, {"PE": 2}]  # 8-bit input lanes
    assert SPEC.stream_elems() == (2, 2)


def test_cycles_and_resources():
    assert cost.cycles(SPEC) == 3 * 4
    r = cost.resources(SPEC)
    # the fitted coefficients (flows/layers/calibration.json) times the kernel's features
    f = cost.lut_features(SPEC)
    assert f["cmp_inputs"] == 2 * 3 * (8 + 2)  # PE x N, each of the field and 2 address bits
    assert f["rom_bits"] == 3 * 2 * 3 * 10  # NF words of PE x N x T_BITS
    assert r["DSP"] == 0 and r["BRAM18"] == 0  # 3 words of 2 x 3 x 10 bits: a ROM in LUTs
    assert r["LUT"] == calibration.estimate("thresholding", "LUT", f) > 0


def test_ref_counts_thresholds_reached():
    rng = np.random.default_rng(0)
    x = rng.integers(0, 256, (3, 4, 6))
    t = np.sort(rng.integers(0, 256, (6, 3)), axis=1)
    y = ref.thresholding(x, t, out_bias=1, out_step=3)
    expect = np.empty_like(y)
    for idx in np.ndindex(x.shape):
        expect[idx] = 1 + 3 * sum(int(x[idx]) >= int(v) for v in t[idx[-1]])
    np.testing.assert_array_equal(y, expect)
    shared = ref.thresholding(x, t[:1], 0, 1)
    np.testing.assert_array_equal(shared, (x[..., None] >= t[0]).sum(-1))
