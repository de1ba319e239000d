"""Shift requantization: chosen only where it equals the exact thresholds; C-sim agrees."""

from __future__ import annotations

import json

import numpy as np
import pytest

from flows.layers.mvau.requant import shift_encoding, shift_level
from flows.verify import verify_build
from tests.int_factory import shift_mlp

ROUNDERS = {
    "ROUND": np.round,  # half to even, like qonnx's ROUND
    "FLOOR": np.floor,
    "CEIL": np.ceil,
    "HALF_UP": lambda x: np.floor(x + 0.5),
}


def _thresholds(q: np.ndarray, acc: np.ndarray, levels: range) -> np.ndarray:
    return np.array([[acc[np.argmax(q >= v)] if (q >= v).any() else acc[-1] + 1 for v in levels]])


@pytest.mark.parametrize("mode", sorted(ROUNDERS))
@pytest.mark.parametrize("k", [0, 1, 3, 6])
@pytest.mark.parametrize("offset", [0, 5, -37])
def test_shift_encoding_reproduces_rounding(mode, k, offset):
    acc = np.arange(-3000, 3001)
    q = np.clip(ROUNDERS[mode]((acc + offset) / 2**k), -8, 7).astype(np.int64)
    t = _thresholds(q, acc, range(-7, 8))
    enc = shift_encoding(t, np.array([acc[0]]), np.array([acc[-1]]), -8)
    assert enc is not None and enc.shift == k
    assert np.array_equal(shift_level(acc, enc, -8, 7), q)


def test_non_power_of_two_spacing_keeps_thresholds():
    acc = np.arange(-3000, 3001)
    q = np.clip(np.round(acc / 3.3), -8, 7).astype(np.int64)
    t = _thresholds(q, acc, range(-7, 8))
    assert shift_encoding(t, np.array([acc[0]]), np.array([acc[-1]]), -8) is None


@pytest.mark.csim
@pytest.mark.parametrize("rounding", ["ROUND", "FLOOR", "HALF_UP"])
def test_fixed_point_mlp_uses_shift_and_verifies(tmp_path, built, rounding):
    p = tmp_path / f"shift_{rounding}.onnx"
    shift_mlp(0, rounding).save(str(p))
    d = built(str(p))
    layers = [
        lay
        for lay in json.loads((d / "report.json").read_text())["layers"]
        if lay["kind"] == "MVAU"
    ]
    assert layers[0]["requant"].startswith("shift by 9")
    assert ("round half to even" in layers[0]["requant"]) == (rounding == "ROUND")
    assert layers[0]["mac"] == "DSP" and layers[0]["resources"]["DSP"] > 0
    v = verify_build(d, 300)
    assert v["status"] == "pass" and v["reference_rounding"] == 0, v


@pytest.mark.csim
def test_brevitas_fixed_point_quantizers_give_shift_requantization(tmp_path, built):
    from tests.brevitas_factory import fixed_point_mlp

    d = built(str(fixed_point_mlp(tmp_path / "fp.onnx")))
    layers = [
        lay
        for lay in json.loads((d / "report.json").read_text())["layers"]
        if lay["kind"] == "MVAU"
    ]
    assert all(lay["requant"].startswith("shift") for lay in layers[:-1])
    v = verify_build(d, 300)
    assert v["status"] == "pass" and v["reference_rounding"] == 0, v
