"""Differential fuzzing: fixed-seed random nets and every saved regression build and verify
bit-exactly; the generator and shrinker behave as their docstrings say."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz.builder import build_model
from tests.fuzz.runner import Outcome, run_spec, verify_model_file
from tests.fuzz.shrink import REGRESSIONS, candidates, cost, shrink, valid
from tests.fuzz.spec import NetSpec, draw_spec

N_FIXED = 8  # ~40 s on 2 cores with -n 2 (bench/fuzz.py runs the campaigns)
N_RTLSIM = 1  # of which this many also run through rtlsim (Verilator) on the same inputs
N_INPUTS = 64


def _regressions() -> list:
    params = []
    for meta_path in sorted(REGRESSIONS.glob("*.json")):
        meta = json.loads(meta_path.read_text())
        marks = [pytest.mark.xfail(reason=meta["xfail"], strict=True)] if "xfail" in meta else []
        params.append(
            pytest.param(meta_path.with_suffix(".onnx"), meta, marks=marks, id=meta_path.stem)
        )
    return params


@pytest.mark.csim
@pytest.mark.parametrize("onnx_path,meta", _regressions())
def test_regressions(tmp_path, onnx_path: Path, meta: dict):
    out = verify_model_file(onnx_path, tmp_path / "build", N_INPUTS, meta["seed"])
    assert out.status == "pass", (meta["signature"], out)


@pytest.mark.csim
@pytest.mark.parametrize("seed", range(N_FIXED))
def test_fixed_seed_nets(tmp_path, seed: int):
    """Every net is C-simulated; the first N_RTLSIM also go through the RTL simulation."""
    out = run_spec(draw_spec(seed), tmp_path, N_INPUTS, rtlsim=seed < N_RTLSIM)
    assert out.status == "pass", out


def test_spec_is_a_function_of_the_seed():
    a, b = draw_spec(123), draw_spec(123)
    assert a == b and a != draw_spec(124)
    ma, mb = build_model(a), build_model(b)
    assert ma.model.SerializeToString() == mb.model.SerializeToString()


def test_spec_json_round_trip():
    for seed in range(30):
        s = draw_spec(seed)
        assert NetSpec.from_json(json.loads(json.dumps(s.to_json()))) == s


def test_generator_covers_what_the_compiler_supports():
    specs = [draw_spec(s) for s in range(300)]
    layers = [lay for s in specs for lay in s.layers]
    seen = {
        "conv": any(lay.kind == "conv" for lay in layers),
        "stride2": any(lay.stride == 2 for lay in layers),
        "pad": any(lay.pad for lay in layers),
        "kernel3": any(lay.kernel == 3 for lay in layers),
        "pool": any(lay.pool for lay in layers),
        "gemm": any(lay.gemm for lay in layers),
        "bipolar_w": any(lay.wq.bipolar for lay in layers),
        "w8": any(lay.wq.bits == 8 for lay in layers),
        "per_channel": any(lay.per_channel for lay in layers),
        "non_pow2": any(not lay.wq.pow2 for lay in layers),
        "bn": any(lay.bn for lay in layers),
        "conv_bias_input": any(lay.bias == "input" and lay.kind == "conv" for lay in layers),
        "quant_relu": any(lay.act == "quant_relu" for lay in layers),
        "unsigned_1bit": any(lay.aq and lay.aq.bits == 1 and not lay.aq.signed for lay in layers),
        "rounding_modes": len({lay.aq.rounding for lay in layers if lay.aq}) >= 5,
        "float_last": any(s.layers[-1].act == "none" for s in specs),
        "uint8_input": any(s.int_input for s in specs),
        "preproc": {s.preproc for s in specs} == {"none", "subdiv", "muladd"},
        "tails": {s.tail for s in specs} == {"none", "muladd", "topk", "argmax", "softmax"},
    }
    assert all(seen.values()), [k for k, v in seen.items() if not v]


def test_generator_stays_inside_documented_limits():
    for seed in range(300):
        s = draw_spec(seed)
        assert 1 <= len(s.layers) <= 4 and valid(s), s
        for lay in s.layers:
            assert lay.out <= (8 if lay.kind == "conv" else 64)
            assert lay.aq is None or lay.aq.bits <= 8


def test_model_executes_with_several_activation_levels():
    """The calibration keeps activations alive: a random input batch gives more than one
    level at every hidden activation quantizer of most nets."""
    from qonnx.core.onnx_exec import execute_onnx
    from qonnx.transformation.change_batchsize import ChangeBatchSize
    from qonnx.transformation.infer_shapes import InferShapes

    lively = 0
    for seed in range(20):
        s = draw_spec(seed)
        m = build_model(s).transform(ChangeBatchSize(16)).transform(InferShapes())
        x = np.random.default_rng(seed).uniform(*s.input_range, size=(16, *s.input_shape))
        if s.int_input:
            x = np.floor(x)
        ctx = execute_onnx(m, {m.graph.input[0].name: x.astype(np.float32)}, True)
        quants = [
            n.output[0]
            for n in m.graph.node
            if n.op_type in ("Quant", "BipolarQuant")
            and n.input[0] in ctx
            and m.get_initializer(n.input[0]) is None
        ]
        lively += all(np.unique(ctx[q]).size > 1 for q in quants)
    assert lively >= 17


def _fake_run(spec: NetSpec) -> Outcome:
    """Fails iff some layer has BatchNorm and 8-bit weights (a stand-in for a compiler bug)."""
    bad = any(lay.bn and lay.wq.bits == 8 for lay in spec.layers)
    return Outcome("mismatch", "mismatch:reference") if bad else Outcome("pass", "pass")


def test_shrink_keeps_the_failure_and_reaches_a_small_spec():
    seed = next(
        s for s in range(500) if _fake_run(draw_spec(s)).failed and len(draw_spec(s).layers) >= 3
    )
    spec = draw_spec(seed)
    small, out, tries = shrink(spec, _fake_run, "mismatch:reference", max_tries=400)
    assert out is not None and out.signature == "mismatch:reference"
    assert len(small.layers) == 1 and small.layers[0].bn and small.layers[0].wq.bits == 8
    assert small.preproc == "none" and small.tail == "none" and not small.int_input
    assert cost(small) < cost(spec)
    # a fixpoint: no candidate is smaller and still failing
    assert not any(
        cost(c) < cost(small) and valid(c) and _fake_run(c).failed for c in candidates(small)
    )


def test_candidates_differ_from_the_spec():
    for seed in range(40):
        s = draw_spec(seed)
        assert all(c != s for c in candidates(s))
