"""Differential fuzzing: fixed-seed random nets and every saved regression build and verify
bit-exactly; the generator and shrinker behave as their docstrings say."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest

from tests.fuzz.builder import build_model
from tests.fuzz.runner import Outcome, run_spec, verify_model_file
from tests.fuzz.shrink import REGRESSIONS, candidates, cost, shrink, valid
from tests.fuzz.spec import NetSpec, draw_spec

GOLDEN = Path(__file__).resolve().parent / "fuzz" / "golden_draws.json"

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


def _new_features(spec: NetSpec) -> bool:
    return any(lay.depthwise or lay.avgpool != "none" for lay in spec.layers)


def test_seeds_without_the_new_features_draw_the_nets_they_drew_before():
    """Depthwise convs and average pools draw from their own streams: a seed whose streams
    draw neither gives the spec it gave before they existed (golden hashes from then)."""
    golden = json.loads(GOLDEN.read_text())
    unchanged = 0
    for seed, want in golden["hashes"].items():
        spec = draw_spec(int(seed))
        if _new_features(spec):
            continue
        d = spec.to_json()
        d["layers"] = [{k: lay[k] for k in golden["layer_fields"]} for lay in d["layers"]]
        got = hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:10]
        assert got == want, seed
        unchanged += 1
    assert unchanged >= 120  # most seeds draw none of them


def test_regression_files_load_and_rebuild_byte_identical():
    """The regression format stays readable: each file's spec (older ones lack the newer
    fields) rebuilds exactly the .onnx saved next to it."""
    for meta_path in sorted(REGRESSIONS.glob("*.json")):
        spec = NetSpec.from_json(json.loads(meta_path.read_text())["spec"])
        saved = meta_path.with_suffix(".onnx").read_bytes()
        assert build_model(spec).model.SerializeToString() == saved, meta_path.name


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
        "depthwise": any(lay.depthwise for lay in layers),
        "depthwise_k3_pad_stride2": any(
            lay.depthwise and lay.kernel == 3 and lay.pad and lay.stride == 2 for lay in layers
        ),
        "separable": any(
            a.depthwise and b.kind == "conv" and b.kernel == 1 and not b.depthwise
            for s in specs
            for a, b in zip(s.layers, s.layers[1:])
        ),
        "avg_trunc": any(lay.avgpool == "trunc" for lay in layers),
        "avg_quant": any(lay.avgpool == "quant" for lay in layers),
        "avg_ops": {lay.avg_op for lay in layers if lay.avgpool != "none"}
        == {"AveragePool", "GlobalAveragePool", "ReduceMean"},
        "avg_strided_3x3": any(lay.avg_kernel == 3 and lay.avg_stride > 1 for lay in layers),
        "avg_then_fc": any(
            a.avgpool != "none" and b.kind == "fc"
            for s in specs
            for a, b in zip(s.layers, s.layers[1:])
        ),
    }
    assert all(seen.values()), [k for k, v in seen.items() if not v]


def test_generator_stays_inside_documented_limits():
    for seed in range(300):
        s = draw_spec(seed)
        main = [lay for lay in s.layers if not lay.depthwise]  # each may follow a depthwise
        assert 1 <= len(main) <= 4 and len(s.layers) <= 2 * len(main) and valid(s), s
        for lay in s.layers:
            assert lay.out <= (8 if lay.kind == "conv" else 64)
            assert lay.aq is None or lay.aq.bits <= 8
            assert lay.avg_q is None or lay.avg_q.bits <= 8
            assert not (lay.depthwise and lay.wq.bipolar)


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
            if n.op_type in ("Quant", "BipolarQuant", "Trunc")
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


def _fake_dw_run(spec: NetSpec) -> Outcome:
    """Fails iff a depthwise conv is followed (in its layer) by a truncating average pool."""
    bad = any(lay.depthwise and lay.avgpool == "trunc" for lay in spec.layers)
    return Outcome("crash", "crash:X:y") if bad else Outcome("pass", "pass")


def test_shrink_keeps_depthwise_channels_and_pools_valid():
    """Shrinking a depthwise-separable net with average pools: every candidate tried builds
    (a depthwise conv keeps its input's channels), and the failing layer survives alone."""
    from dataclasses import replace

    seed = next(
        s
        for s in range(2000)
        if sum(lay.depthwise for lay in draw_spec(s).layers) >= 1
        and sum(lay.avgpool != "none" for lay in draw_spec(s).layers) >= 1
        and len(draw_spec(s).layers) >= 3
    )
    spec = draw_spec(seed)
    i = next(i for i, lay in enumerate(spec.layers) if lay.depthwise)
    conv = next(lay for lay in spec.layers if lay.avgpool != "none")
    dw = replace(
        spec.layers[i],
        **{k: getattr(conv, k) for k in ("avg_op", "avg_kernel", "avg_stride", "avg_q")},
        avgpool="trunc",
        aq=conv.aq,
        act=conv.act,
    )
    spec = replace(spec, layers=spec.layers[:i] + (dw,) + spec.layers[i + 1 :])

    def run(s: NetSpec) -> Outcome:
        build_model(s)  # raises if the candidate is malformed
        return _fake_dw_run(s)

    small, out, _ = shrink(spec, run, "crash:X:y", max_tries=400)
    assert out is not None and len(small.layers) == 1 and small.layers[0].depthwise
    assert small.layers[0].out == small.input_shape[0]


def test_candidates_differ_from_the_spec():
    for seed in range(40):
        s = draw_spec(seed)
        assert all(c != s for c in candidates(s))
