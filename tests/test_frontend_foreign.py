"""Models as other tools write them: symbolic dimensions resolved at batch 1, a float input
given a fixed-point type with --input-fixed (hls4ml/QKeras style), quantized biases."""

from __future__ import annotations

from qonnx.core.modelwrapper import ModelWrapper

from flows.verify import verify_build
from tests import qonnx_factory as qf
from tests.helpers import run_cli


def _save(tmp_path, name, model) -> str:
    p = tmp_path / f"{name}.onnx"
    model.save(str(p))
    return str(p)


def test_symbolic_output_and_intermediate_dims_build_and_verify(tmp_path, built):
    m = qf.SYMBOLIC_FACTORIES["symbolic_output"](0)
    out = m.graph.output[0].type.tensor_type.shape.dim
    assert [d.dim_param for d in out] == ["N", "classes"]
    d = built(_save(tmp_path, "sym", m))
    ref = ModelWrapper(str(d / "reference.onnx"))
    assert ref.get_tensor_shape(ref.graph.output[0].name) == [1, 10]
    assert verify_build(d, 50)["status"] == "pass"


def test_symbolic_batch_is_batch_one(tmp_path, built):
    d = built(_save(tmp_path, "symb", qf.SYMBOLIC_FACTORIES["symbolic_batch"](0)))
    ref = ModelWrapper(str(d / "reference.onnx"))
    assert ref.get_tensor_shape(ref.graph.input[0].name) == [1, 16]


def test_symbolic_feature_dim_is_refused(tmp_path):
    p = _save(tmp_path, "feat", qf.BAD_FACTORIES["dynamic_features"](0))
    r = run_cli(["build", p, "--out", tmp_path / "o"])
    assert r.exit_code == 1, r.stderr
    assert "only the batch axis may be symbolic" in r.stderr and "'global_in'" in r.stderr


def test_float_input_without_flag_suggests_input_fixed(tmp_path):
    factory, _ = qf.OPTION_FACTORIES["qkeras_mlp"]
    p = _save(tmp_path, "qk", factory(0))
    r = run_cli(["build", p, "--out", tmp_path / "o"])
    assert r.exit_code == 1, r.stderr
    assert "MatMul_0" in r.stderr and "--input-fixed W,I" in r.stderr


def test_qkeras_mlp_with_input_fixed_verifies_bit_exact(tmp_path, built):
    factory, args = qf.OPTION_FACTORIES["qkeras_mlp"]
    m = factory(0)
    # the bias is quantized: an initializer through a Quant into the Add
    assert any(
        n.op_type == "Quant"
        and m.get_initializer(n.input[0]) is not None
        and m.find_consumer(n.output[0]).op_type == "Add"
        for n in m.graph.node
    )
    d = built(_save(tmp_path, "qk", m), input_fixed=args[1])
    ref = ModelWrapper(str(d / "reference.onnx"))
    q = ref.find_consumer(ref.graph.input[0].name)
    assert q.op_type == "Quant"  # the reference sees the same fixed-point input
    assert ref.get_initializer(q.input[1]) == 2.0**-10  # ap_fixed<16,6>: 10 fraction bits
    v = verify_build(d, 100)
    assert v["status"] == "pass" and v["reference_mismatches"] == 0, v


def test_input_fixed_bad_values(tmp_path):
    factory, _ = qf.OPTION_FACTORIES["qkeras_mlp"]
    p = _save(tmp_path, "qk", factory(0))
    for bad, needle in (("16", "give W,I"), ("40,6", "W must be 2..24")):
        r = run_cli(["build", p, "--out", tmp_path / bad, "--input-fixed", bad])
        assert r.exit_code == 1 and needle in r.stderr, (bad, r.stderr)


def test_input_fixed_on_a_quantized_input_is_refused(tmp_path):
    p = _save(tmp_path, "q", qf.FACTORIES["gemm_bias"](0))
    r = run_cli(["build", p, "--out", tmp_path / "o", "--input-fixed", "16,6"])
    assert r.exit_code == 1, r.stderr
    assert "already quantized" in r.stderr
