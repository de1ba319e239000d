"""SlidingWindow, StreamingMaxPool and StreamingDWC roles: validation, folding, cost, refs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from qonnx.core.datatype import DataType

from flows.errors import LayerError
from flows.layers.dwc import cost as dwc_cost
from flows.layers.dwc.spec import DwcSpec
from flows.layers.maxpool import cost as mp_cost
from flows.layers.maxpool import ref as mp_ref
from flows.layers.maxpool.spec import MaxPoolSpec
from flows.layers.sliding_window import cost as swg_cost
from flows.layers.sliding_window import ref as swg_ref
from flows.layers.sliding_window.spec import SlidingWindowSpec

SWG = SlidingWindowSpec("conv0", 4, 5, 6, 3, 3, 1, 2, (1, 1, 1, 1), 2, DataType["INT4"])
POOL = MaxPoolSpec("pool0", 4, 6, 6, 2, 2, 2, 2, 2, DataType["UINT3"])
DWC = DwcSpec("dwc0", 2, 4, DataType["UINT3"], 8, 5)


def test_sliding_window_spec():
    assert (SWG.ofm_h, SWG.ofm_w) == (5, 3)
    with pytest.raises(LayerError, match="SlidingWindow 'conv0': IFM_CH=4 not divisible by SIMD=3"):
        dataclasses.replace(SWG, simd=3).validate()
    with pytest.raises(LayerError, match="the 7x7 window does not fit the input"):
        dataclasses.replace(SWG, k_h=7, k_w=7, pads=(0, 0, 0, 0)).validate()
    assert SWG.fold_options(1024) == [{"SIMD": s} for s in (1, 2, 4)]
    assert SWG.fold_options(8) == [{"SIMD": 1}, {"SIMD": 2}]


def test_sliding_window_cycles_are_output_or_input_bound():
    out_words = 5 * 3 * 9 * (4 // 2)
    assert swg_cost.cycles(SWG) == max(out_words, 5 * 6 * 2)
    assert swg_cost.resources(SWG)["DSP"] == 0


def test_sliding_window_ref_equals_a_loop():
    x = np.random.default_rng(0).integers(-8, 8, (2, 5, 6, 4))
    y = swg_ref.sliding_window(x, SWG)
    xp = np.pad(x, ((0, 0), (1, 1), (1, 1), (0, 0)))
    for n, oy, ox in np.ndindex(2, 5, 3):
        win = xp[n, oy : oy + 3, ox * 2 : ox * 2 + 3, :]
        np.testing.assert_array_equal(y[n, oy, ox], win.reshape(-1))


def test_maxpool_spec_cost_and_ref():
    with pytest.raises(LayerError, match="MaxPool 'pool0': CH=4 not divisible by PE=3"):
        dataclasses.replace(POOL, pe=3).validate()
    assert POOL.fold_options(1024) == [{"PE": p} for p in (1, 2, 4)]
    assert mp_cost.cycles(POOL) == 6 * 6 * 2
    x = np.random.default_rng(1).integers(0, 8, (2, 6, 6, 4))
    y = mp_ref.maxpool(x, POOL)
    for n, oy, ox, c in np.ndindex(y.shape):
        assert y[n, oy, ox, c] == x[n, 2 * oy : 2 * oy + 2, 2 * ox : 2 * ox + 2, c].max()


def test_dwc_spec_and_cost():
    assert DWC.stream_elems() == (2, 4) and DWC.fold_options(1024) == []
    with pytest.raises(LayerError, match="DWC 'dwc0': 8 elements are not a multiple"):
        dataclasses.replace(DWC, out_elems=3).validate()
    assert dwc_cost.cycles(DWC) == (8 // 2) * 5
