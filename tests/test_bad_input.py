"""Bad input: exit code 1, one message naming the file or node, no traceback, no manifest.

The cases run the CLI in-process (``run_cli``): an exception that is not turned into a message
and an exit code reaches the test, which is what a traceback would be in a real process. One
case runs ``bitfab`` as a process to check that the real stderr has no traceback."""

from __future__ import annotations

import logging
import os
import random
import signal
import subprocess

import numpy as np
import pytest

from tests import qonnx_factory as qf
from tests.helpers import BITFAB, run_cli


def _build(path, out, *options):
    return run_cli(["build", path, "--out", out, *options])


def _assert_no_finished_build(out):
    assert (
        not (out / "manifest.json").exists()
        or '"status": "failed"' in (out / "manifest.json").read_text()
    )


def _assert_clean_failure(r, out, *needles):
    assert r.exit_code == 1, (r.exit_code, r.stderr)
    for n in needles:
        assert n in r.stderr, r.stderr
    _assert_no_finished_build(out)


def _global_state():
    """What a CLI call in this process could leave changed for the next test."""
    root = logging.getLogger()
    return (
        signal.getsignal(signal.SIGINT),
        signal.getsignal(signal.SIGTERM),
        list(root.handlers),
        root.level,
        random.getstate(),  # qonnx names new tensors with the global random
        os.getcwd(),
    )


def test_a_real_process_prints_no_traceback(tmp_path, zoo_onnx):
    """The one subprocess case: an error raised deep in the build (the fold step) reaches the
    real stderr as one message, with exit code 1 and the build directory marked failed."""
    f = tmp_path / "fold.json"
    f.write_text('{"layers": {"MatMul_0": {"SIMD": 5, "PE": 1}}}')
    out = tmp_path / "o"
    cmd = [*BITFAB, "build", str(zoo_onnx("tfc-w1a1")), "--folding", str(f), "--out", str(out)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    assert r.returncode == 1, r.stderr
    assert "Traceback" not in r.stderr
    # progress lines of the steps (plain: stderr is a pipe), then the one message
    last = r.stderr.splitlines()[-1]
    assert last.startswith("error: ") and "not divisible by SIMD=5" in last, r.stderr
    assert all(" build: " in ln for ln in r.stderr.splitlines()[:-1]), r.stderr
    _assert_no_finished_build(out)


def test_in_process_calls_leave_no_global_state(tmp_path):
    before = _global_state()
    r = _build(tmp_path / "nope.onnx", tmp_path / "o")
    assert r.exit_code == 1
    assert run_cli(["-v", "boards"]).exit_code == 0
    assert _global_state() == before


def test_missing_file(tmp_path):
    out = tmp_path / "o"
    r = _build(tmp_path / "nope.onnx", out)
    _assert_clean_failure(r, out, "nope.onnx", "no such file")


def test_not_onnx(tmp_path):
    p = tmp_path / "junk.onnx"
    p.write_bytes(b"this is not a protobuf \x00\xff\xfe" * 10)
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "junk.onnx", "not a readable ONNX file")


def test_empty_file(tmp_path):
    p = tmp_path / "empty.onnx"
    p.write_bytes(b"")
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "empty.onnx", "empty")


def test_truncated_onnx(tmp_path, zoo_onnx):
    data = zoo_onnx("tfc-w1a1").read_bytes()
    p = tmp_path / "trunc.onnx"
    p.write_bytes(data[: len(data) // 3])
    out = tmp_path / "o"
    r = _build(p, out)
    _assert_clean_failure(r, out, "trunc.onnx")


def test_float_model(tmp_path):
    p = tmp_path / "float.onnx"
    qf.BAD_FACTORIES["float_only"](0).save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "float (unquantized) weights", "Quant")


def test_unsupported_op(tmp_path):
    p = tmp_path / "cos.onnx"
    qf.BAD_FACTORIES["unsupported_op"](0).save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "cannot map", "supported ops")


def test_dynamic_shape(tmp_path):
    p = tmp_path / "dyn.onnx"
    qf.BAD_FACTORIES["dynamic_features"](0).save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "dynamic or missing shape")


def test_conv_dilation_is_rejected(tmp_path):
    p = tmp_path / "dil.onnx"
    qf.BAD_FACTORIES["conv_dilation"](0).save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "Conv")


def test_zero_scale(tmp_path):
    p = tmp_path / "zs.onnx"
    qf.BAD_FACTORIES["zero_scale"](0).save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "zero, NaN or infinite scale")


def test_unknown_board(tmp_path, zoo_onnx):
    out = tmp_path / "o"
    r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--board", "zedboardx", "--out", out])
    _assert_clean_failure(r, out, "unknown board 'zedboardx'", "pynq-z2")


def test_unknown_model_name(tmp_path):
    out = tmp_path / "o"
    r = _build("tfc-w9a9", out)
    _assert_clean_failure(r, out, "unknown model 'tfc-w9a9'", "tfc-w1a1")


def test_bad_folding_file(tmp_path, zoo_onnx):
    f = tmp_path / "fold.json"
    f.write_text('{"layers": {"MatMul_0": {"SIMD": 5, "PE": 1}}}')
    out = tmp_path / "o"
    r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--folding", f, "--out", out])
    _assert_clean_failure(r, out, "fold.json", "not divisible by SIMD=5")


def test_verify_unfinished_build(tmp_path):
    d = tmp_path / "half"
    d.mkdir()
    r = run_cli(["verify", d])
    assert r.exit_code == 1 and "unfinished" in r.stderr


@pytest.mark.parametrize("clock", ["0", "400"])
def test_clock_out_of_range(tmp_path, zoo_onnx, clock):
    out = tmp_path / "o"
    r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--clock-mhz", clock, "--out", out])
    _assert_clean_failure(r, out, "pynq-z2", "MHz")


def _cnn_variant(tmp_path, edit):
    from onnx import helper as oh

    from tests.conv_factory import small_cnn

    m = small_cnn(0)
    edit(m, oh)
    p = tmp_path / "variant.onnx"
    m.save(str(p))
    return p


def test_grouped_conv_is_rejected(tmp_path):
    def edit(m, oh):
        conv = m.get_nodes_by_op_type("Conv")[1]
        conv.attribute.append(oh.make_attribute("group", 2))
        w = m.find_producer(conv.input[1])
        m.set_initializer(w.input[0], m.get_initializer(w.input[0])[:, :4])
        for vi in list(m.graph.value_info):  # the quantized weight's shape changes with it
            if vi.name == w.output[0]:
                m.graph.value_info.remove(vi)

    out = tmp_path / "o"
    _assert_clean_failure(_build(_cnn_variant(tmp_path, edit), out), out, "group=2", "supported")


def test_grouped_conv_neither_dense_nor_depthwise_is_rejected(tmp_path):
    """1 < group < C: not a depthwise conv (group = C), which is supported, nor a dense one."""
    from tests.graph_builder import GraphBuilder

    g = GraphBuilder(0)
    x = g.quant("x", "xq", 2.0**-7, 8, 1)
    w = g.quant(g.const("w", g.rng.normal(0, 1, (8, 4, 3, 3))), "wq", 0.5, 4, 1, 1)
    g.node("Conv", [x, w], ["y"], group=2, kernel_shape=[3, 3])
    p = tmp_path / "grouped.onnx"
    g.model("grouped", "x", [1, 8, 6, 6], "y", [1, 8, 4, 4], "-1,1").save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(
        _build(p, out), out, "node 'Conv_0' (Conv): group=2", "8 input", "split it into 2 convs"
    )


def test_maxpool_ceil_mode_is_rejected(tmp_path):
    def edit(m, oh):
        mp = m.get_nodes_by_op_type("MaxPool")[0]
        mp.attribute.append(oh.make_attribute("ceil_mode", 1))

    out = tmp_path / "o"
    _assert_clean_failure(_build(_cnn_variant(tmp_path, edit), out), out, "MaxPool", "ceil_mode")


def test_inexpressible_average_pool_is_rejected(tmp_path):
    """An average pool straight into a Quant at its input's non-power-of-two scale: half-step
    averages round by float32 luck, not by the integer window sum."""

    def edit(m, oh):
        mp = m.get_nodes_by_op_type("MaxPool")[0]
        a1 = m.find_producer(mp.input[0])  # the 4-bit activation the pool reads
        m.set_initializer(a1.input[1], np.float32(0.3))
        mp.op_type = "AveragePool"
        ins = [mp.output[0], a1.input[1], a1.input[2], a1.input[3]]
        q = oh.make_node("Quant", ins, ["p1q"], domain=a1.domain, signed=0, narrow=0)
        m.get_nodes_by_op_type("Conv")[1].input[0] = "p1q"
        m.graph.node.insert(list(m.graph.node).index(mp) + 1, q)

    out = tmp_path / "o"
    r = _build(_cnn_variant(tmp_path, edit), out)
    _assert_clean_failure(r, out, "average pool", "cannot be expressed exactly", "TruncAvgPool2d")


def test_padding_a_bipolar_activation_is_rejected(tmp_path):
    def edit(m, oh):
        conv = m.get_nodes_by_op_type("Conv")[1]
        for a in conv.attribute:
            if a.name == "pads":
                conv.attribute.remove(a)
        conv.attribute.append(oh.make_attribute("pads", [1, 1, 1, 1]))
        a1 = m.find_producer("a1")  # make the activation before it (via the pool) bipolar
        bq = oh.make_node(
            "BipolarQuant",
            [a1.input[0], a1.input[1]],
            list(a1.output),
            domain="qonnx.custom_op.general",
        )
        idx = list(m.graph.node).index(a1)
        m.graph.node.remove(a1)
        m.graph.node.insert(idx, bq)

    out = tmp_path / "o"
    _assert_clean_failure(_build(_cnn_variant(tmp_path, edit), out), out, "bipolar", "padding")


def test_zero_point_is_rejected(tmp_path):
    from tests.int_factory import shift_mlp

    m = shift_mlp(0)
    m.set_initializer("h1_z", np.asarray(3.0, np.float32))
    p = tmp_path / "zp.onnx"
    m.save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "zero point", "symmetric")


def test_too_wide_activation_is_rejected(tmp_path):
    from tests.int_factory import shift_mlp

    m = shift_mlp(0, abits=16)
    p = tmp_path / "wide.onnx"
    m.save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "16-bit activation", "at most 12-bit")


def test_accumulator_wider_than_32_bits_is_rejected(tmp_path):
    from tests.int_factory import shift_mlp

    m = shift_mlp(0, wbits=24)
    m.set_initializer("xq_b", np.asarray(16.0, np.float32))
    p = tmp_path / "acc.onnx"
    m.save(str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, "accumulator needs", "at most 32")


# --- The corpus: one valid QONNX net, broken one way at a time --------------------------------


def _init(m, name):
    from onnx import numpy_helper

    return next(i for i in m.graph.initializer if i.name == name), numpy_helper


def _set_init(m, name, value):
    init, nh = _init(m, name)
    dtype = nh.to_array(init).dtype
    init.CopyFrom(nh.from_array(np.asarray(value, dtype=dtype), name))


def _poke(m, name, index, value):
    init, nh = _init(m, name)
    a = nh.to_array(init).copy()
    a[index] = value
    init.CopyFrom(nh.from_array(a, name))


def _node(m, op, k=0):
    return [n for n in m.graph.node if n.op_type == op][k]


def _opset(v):
    def edit(m):
        m.opset_import[0].version = v

    return edit


def _domain(m):
    _node(m, "Quant", 2).domain = "com.example"


def _dup_attr(m):
    from onnx import helper

    _node(m, "Quant", 2).attribute.append(helper.make_attribute("rounding_mode", "FLOOR"))


def _rounding(m):
    for a in _node(m, "Quant", 2).attribute:
        if a.name == "rounding_mode":
            a.s = b"STOCHASTIC"


def _giant(m):
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 50_000_000


def _wrong_width(m):
    m.graph.input[0].type.tensor_type.shape.dim[1].dim_value = 40


def _int_input(m):
    import onnx

    m.graph.input[0].type.tensor_type.elem_type = onnx.TensorProto.INT64


def _missing_shape(m):
    m.graph.input[0].type.tensor_type.ClearField("shape")
    del m.graph.value_info[:]


def _transa(m):
    from onnx import helper

    _node(m, "Gemm", 0).attribute.append(helper.make_attribute("transA", 1))


def _cycle(m):
    _node(m, "Add", 0).input[1] = "Add_1_out"


CORPUS = {
    "opset-6": (_opset(6), ["ONNX opset 6 is not supported", "opset_version=13"]),
    "opset-99": (_opset(99), ["ONNX opset 99 is not supported"]),
    "unknown-domain": (_domain, ["Quant_2", "domain 'com.example'"]),
    "duplicate-attribute": (_dup_attr, ["Quant_2", "rounding_mode more than once"]),
    "unknown-rounding-mode": (_rounding, ["Quant_2", "rounding_mode 'STOCHASTIC'", "FLOOR"]),
    "giant-tensor": (_giant, ["global_in", "50000000 elements", "more than bitfab handles"]),
    "input-disagrees-with-weights": (
        _wrong_width,
        ["Quant_0", "quantizes a [1, 40] tensor", "takes [1, 32]"],
    ),
    "integer-input": (_int_input, ["input 'global_in' is INT64", "FLOAT"]),
    "missing-shape": (_missing_shape, ["'global_in' has a dynamic or missing shape"]),
    "nan-weight": (lambda m: _poke(m, "weight_0", (0, 0), np.nan), ["NaN or infinite values"]),
    "inf-weight": (lambda m: _poke(m, "weight_1", (2, 3), np.inf), ["NaN or infinite values"]),
    "nan-bias": (lambda m: _poke(m, "bias_0", 0, np.nan), ["'Add_0'", "NaN or infinite"]),
    "inf-scale": (lambda m: _set_init(m, "scale_2", np.inf), ["zero, NaN or infinite scale"]),
    "nan-scale": (lambda m: _set_init(m, "scale_1", np.nan), ["zero, NaN or infinite scale"]),
    "fractional-bit-width": (
        lambda m: _set_init(m, "bitwidth_2", 2.5),
        ["bit width 2.5 is not a whole number of bits"],
    ),
    "zero-bit-width": (lambda m: _set_init(m, "bitwidth_3", 0.0), ["bit width 0.0"]),
    "bit-width-vector": (
        lambda m: _set_init(m, "bitwidth_3", [4.0, 4.0]),
        ["qonnx could not clean the graph", "valid QONNX export"],
    ),
    "gemm-transA": (_transa, ["Gemm_0", "transA=1 is not supported"]),
    "cyclic-graph": (_cycle, ["CircularDependencyError"]),
}


@pytest.mark.parametrize("kind", sorted(CORPUS))
def test_corpus(tmp_path, kind):
    edit, needles = CORPUS[kind]
    m = qf.FACTORIES["gemm_bias"](0)
    edit(m.model)
    p = tmp_path / f"{kind}.onnx"
    import onnx

    onnx.save(m.model, str(p))
    out = tmp_path / "o"
    _assert_clean_failure(_build(p, out), out, *needles)


def test_corpus_base_net_builds(tmp_path):
    """The net every corpus case breaks builds as it is, so each case tests its one defect."""
    p = tmp_path / "base.onnx"
    qf.FACTORIES["gemm_bias"](0).save(str(p))
    before = _global_state()
    r = _build(p, tmp_path / "o")
    assert r.exit_code == 0, r.stderr
    assert _global_state() == before  # a whole build in-process leaves nothing changed


def test_output_dir_that_is_not_a_build_is_left_alone(tmp_path, zoo_onnx):
    out = tmp_path / "mine"
    (out / "hls").mkdir(parents=True)
    (out / "hls" / "notes.txt").write_text("my own file")
    r = _build(zoo_onnx("tfc-w1a1"), out)
    _assert_clean_failure(r, out, "is not a bitfab build directory", "choose another --out")
    assert (out / "hls" / "notes.txt").read_text() == "my own file"
    assert sorted(p.name for p in out.iterdir()) == ["hls"]


def test_output_path_that_is_a_file(tmp_path, zoo_onnx):
    out = tmp_path / "f"
    out.write_text("x")
    r = _build(zoo_onnx("tfc-w1a1"), out)
    assert r.exit_code == 1 and "not a directory" in r.stderr


@pytest.mark.parametrize("command", ["verify", "run", "bitstream"])
def test_foreign_build_directory(tmp_path, command):
    d = tmp_path / "foreign"
    d.mkdir()
    (d / "manifest.json").write_text('{"format": 2, "status": "done"}')
    r = run_cli([command, d])
    assert r.exit_code == 1
    assert "not a bitfab build directory" in r.stderr


def test_corrupt_manifest(tmp_path, built):
    import shutil

    d = shutil.copytree(built("tfc-w1a1"), tmp_path / "c")
    (d / "manifest.json").write_bytes(b"\xff\xfe{{{")
    r = run_cli(["verify", d])
    assert r.exit_code == 1 and "unreadable manifest" in r.stderr


def test_folding_file_not_json_and_unknown_layer(tmp_path, zoo_onnx):
    for text, needle in (("{ not json", "fold.json"), ('{"layers": {"Nope": {"PE": 1}}}', "Nope")):
        f = tmp_path / "fold.json"
        f.write_text(text)
        out = tmp_path / "o"
        r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--folding", f, "--out", out])
        _assert_clean_failure(r, out, needle)


def test_run_with_inputs_of_the_wrong_shape_and_dtype(tmp_path, built):
    d = built("tfc-w1a1")
    for arr, needle in (
        (np.zeros((3, 1, 28, 27), np.float32), "expected (N, 1, 28, 28)"),
        (np.zeros((3, 1, 28, 28), np.float64), "expected float32"),
    ):
        x = tmp_path / "x.npy"
        np.save(x, arr)
        r = run_cli(["run", d, "--input", x])
        assert r.exit_code == 1 and needle in r.stderr


def test_from_step_without_an_earlier_build(tmp_path, zoo_onnx):
    out = tmp_path / "o"
    r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--from-step", "codegen", "--out", out])
    _assert_clean_failure(r, out, "cannot start from step 'codegen'", "run the whole build once")


def test_corrupt_checkpoint(tmp_path):
    ck = tmp_path / "junk.pt"
    ck.write_bytes(b"not a checkpoint")
    out = tmp_path / "o"
    r = run_cli(["build", "tfc-w1a1", "--checkpoint", ck, "--out", out])
    _assert_clean_failure(r, out, "junk.pt")
