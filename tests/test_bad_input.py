"""Bad input: exit code 1, one message naming the file or node, no traceback, no manifest."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from tests import qonnx_factory as qf

BITFAB = [sys.executable, "-m", "flows.cli"]


def _build(path, out):
    return subprocess.run(
        [*BITFAB, "build", str(path), "--out", str(out)], capture_output=True, text=True
    )


def _assert_clean_failure(r, out, *needles):
    assert r.returncode == 1, (r.returncode, r.stderr)
    assert "Traceback" not in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr
    assert (
        not (out / "manifest.json").exists()
        or '"status": "failed"' in (out / "manifest.json").read_text()
    )


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
    qf.BAD_FACTORIES["dynamic_batch"](0).save(str(p))
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
    r = subprocess.run(
        [*BITFAB, "build", str(zoo_onnx("tfc-w1a1")), "--board", "zedboardx", "--out", str(out)],
        capture_output=True,
        text=True,
    )
    _assert_clean_failure(r, out, "unknown board 'zedboardx'", "pynq-z2")


def test_unknown_model_name(tmp_path):
    out = tmp_path / "o"
    r = _build("tfc-w9a9", out)
    _assert_clean_failure(r, out, "unknown model 'tfc-w9a9'", "tfc-w1a1")


def test_bad_folding_file(tmp_path, zoo_onnx):
    f = tmp_path / "fold.json"
    f.write_text('{"layers": {"MatMul_0": {"SIMD": 5, "PE": 1}}}')
    out = tmp_path / "o"
    r = subprocess.run(
        [*BITFAB, "build", str(zoo_onnx("tfc-w1a1")), "--folding", str(f), "--out", str(out)],
        capture_output=True,
        text=True,
    )
    _assert_clean_failure(r, out, "fold.json", "not divisible by SIMD=5")


def test_verify_unfinished_build(tmp_path):
    d = tmp_path / "half"
    d.mkdir()
    r = subprocess.run([*BITFAB, "verify", str(d)], capture_output=True, text=True)
    assert r.returncode == 1 and "unfinished" in r.stderr and "Traceback" not in r.stderr


@pytest.mark.parametrize("clock", ["0", "400"])
def test_clock_out_of_range(tmp_path, zoo_onnx, clock):
    out = tmp_path / "o"
    r = subprocess.run(
        [*BITFAB, "build", str(zoo_onnx("tfc-w1a1")), "--clock-mhz", clock, "--out", str(out)],
        capture_output=True,
        text=True,
    )
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

    out = tmp_path / "o"
    _assert_clean_failure(_build(_cnn_variant(tmp_path, edit), out), out, "group=2", "supported")


def test_maxpool_ceil_mode_is_rejected(tmp_path):
    def edit(m, oh):
        mp = m.get_nodes_by_op_type("MaxPool")[0]
        mp.attribute.append(oh.make_attribute("ceil_mode", 1))

    out = tmp_path / "o"
    _assert_clean_failure(_build(_cnn_variant(tmp_path, edit), out), out, "MaxPool", "ceil_mode")


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
