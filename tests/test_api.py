"""The Python API (flows/api.py): typed results read from the build, the library's errors, and a
Brevitas module built directly."""

from __future__ import annotations

import json
import shutil

import numpy as np
import onnx
import pytest
from onnx import numpy_helper

from flows import api as bitfab


@pytest.fixture(scope="module")
def tfc(tmp_path_factory) -> bitfab.Build:
    return bitfab.build("tfc-w1a1", out=tmp_path_factory.mktemp("api") / "tfc", verify=10)


def _tiny_net(seed: int = 0):
    """QuantIdentity -> QuantConv2d -> BN -> QuantReLU -> MaxPool -> QuantLinear on 8x8 images,
    power-of-two scales (so the float32 reference is exact), BN statistics calibrated."""
    import torch
    from brevitas.nn import QuantConv2d, QuantIdentity, QuantLinear, QuantReLU
    from brevitas.quant import (
        Int8ActPerTensorFixedPoint,
        Int8WeightPerTensorFixedPoint,
        Uint8ActPerTensorFixedPoint,
    )
    from torch import nn

    class TinyNet(nn.Module):
        def __init__(self):
            super().__init__()
            self.inp = QuantIdentity(Int8ActPerTensorFixedPoint, return_quant_tensor=True)
            w4 = {"weight_quant": Int8WeightPerTensorFixedPoint, "weight_bit_width": 4}
            self.conv = QuantConv2d(1, 4, 3, bias=False, **w4)
            self.bn = nn.BatchNorm2d(4)
            u4 = Uint8ActPerTensorFixedPoint
            self.relu = QuantReLU(u4, bit_width=4, return_quant_tensor=True)
            self.pool = nn.MaxPool2d(2)
            self.fc = QuantLinear(36, 10, bias=False, **w4)

        def forward(self, x):
            return self.fc(self.pool(self.relu(self.bn(self.conv(self.inp(x))))).flatten(1))

    torch.manual_seed(seed)
    net = TinyNet()
    net.train()
    with torch.no_grad():
        for _ in range(4):
            net(torch.rand(32, 1, 8, 8))
    return net.eval()


# --- a zoo model ------------------------------------------------------------------------------


def test_build_returns_the_report_typed(tfc):
    raw = json.loads((tfc.dir / "report.json").read_text())
    r = tfc.report
    assert tfc.status == "done" and tfc.deploy_dir == tfc.dir / "deploy"
    assert (r.model, r.board, r.clock_mhz) == ("tfc-w1a1", "pynq-z2", 100.0)
    assert [x.name for x in r.layers] == [x["name"] for x in raw["layers"]]
    first = r.layers[0]
    assert isinstance(first, bitfab.Layer) and first.kind == raw["layers"][0]["kind"]
    assert first.in_shape == (1, 784) and first.in_dtype == "BIPOLAR"
    assert (first.pe, first.simd) == (raw["layers"][0]["PE"], raw["layers"][0]["SIMD"])
    assert first.details["MW"] == 784 and "resources" not in first.details
    t = raw["totals"]
    assert r.totals.estimated_fps == t["estimated_fps"]
    assert r.totals.resources == bitfab.Resources(
        t["resources"]["LUT"], t["resources"]["BRAM18"], t["resources"]["DSP"]
    )
    assert r.totals.fits_board is True and r.totals.board_budget.lut == 53200
    v = r.verification
    assert isinstance(v, bitfab.Verification) and v.passed and v.n == 10 and v.design == "csim"
    assert v.first_mismatch is None
    assert r.rtlsim is None and r.synth is None
    assert r.raw == raw


def test_verify_replaces_the_section(tfc):
    v = bitfab.verify(tfc, 6, seed=3)
    assert v.passed and v.n == 6 and v.design_vs_dataflow_mismatches == 0
    assert tfc.report.verification == v
    assert bitfab.verify(str(tfc.dir), 4).n == 4  # a path works as well as a Build


def test_verify_mismatch_raises_or_returns_the_first_bad_layer(tfc, tmp_path):
    d = tmp_path / "broken"
    shutil.copytree(tfc.dir, d)
    ref = onnx.load(str(d / "reference.onnx"))
    mm = next(n for n in ref.graph.node if n.op_type == "MatMul")
    wq = next(n for n in ref.graph.node if mm.input[1] in n.output)  # the weight's quantizer
    w = next(i for i in ref.graph.initializer if i.name == wq.input[0])
    a = numpy_helper.to_array(w).copy()
    a[...] = -a  # every weight of the first layer flipped: the reference no longer agrees
    w.CopyFrom(numpy_helper.from_array(a, w.name))
    onnx.save(ref, str(d / "reference.onnx"))
    with pytest.raises(bitfab.VerificationError, match="first layer that differs: "):
        bitfab.verify(d, 4)
    v = bitfab.verify(d, 4, check=False)
    assert v.status == "mismatch" and not v.passed and v.reference_mismatches > 0
    assert v.first_mismatch is not None and v.first_mismatch.sample == 0
    assert bitfab.open_build(d).report.verification == v


def test_run_and_the_accelerator(tfc):
    r = bitfab.run(tfc, batch=8)
    assert (r.images, r.bit_identical) == (8, 8) and r.outputs.shape == (8, 10)
    assert r.throughput.backend == "csim" and r.throughput.measured == "wall"
    assert r.throughput.batch == 8 and r.throughput.fps > 0
    acc = tfc.accelerator("csim")
    x = np.random.default_rng(0).uniform(0, 1, (3, 1, 28, 28)).astype(np.float32)
    y = acc.execute(x)
    assert np.array_equal(tfc.run(x).outputs, y)


def test_bitstream_without_vendor_tools_raises_tool_missing(tfc, monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no vitis_hls, vivado anywhere
    d = tmp_path / "b"
    shutil.copytree(tfc.dir, d)
    with pytest.raises(bitfab.ToolMissingError, match="not on PATH, so no bitstream") as e:
        bitfab.bitstream(d)
    assert e.value.exit_code == 2 and isinstance(e.value, bitfab.USER_ERRORS)
    assert (d / "vivado" / "build.tcl").exists()


# --- errors -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p: bitfab.build("tfc-w9a9", out=p), bitfab.ModelError, "unknown model 'tfc-w9a9'"),
        (
            lambda p: bitfab.build("tfc-w1a1", board="zedboardx", out=p),
            bitfab.BoardError,
            "unknown board 'zedboardx'",
        ),
        (lambda p: bitfab.build(p / "nope.onnx", out=p / "o"), bitfab.ModelFileError, "nope"),
        (lambda p: bitfab.build(42, out=p), bitfab.InputError, "not int"),
        (lambda p: bitfab.build(_tiny_net(), out=p), bitfab.InputError, "needs input_shape="),
        (lambda p: bitfab.export(_tiny_net(), (8, 8), p / "x.onnx"), bitfab.InputError, "batch 1"),
        (lambda p: bitfab.open_build(p), bitfab.InputError, "unfinished"),
        (lambda p: bitfab.accelerator(p), bitfab.InputError, "unfinished"),
    ],
)
def test_user_errors(tmp_path, call, error, message):
    with pytest.raises(error, match=message) as e:
        call(tmp_path)
    assert isinstance(e.value, bitfab.USER_ERRORS) and e.value.exit_code == 1


def test_an_unfinished_build_has_no_report(tmp_path):
    net = _tiny_net()
    path = bitfab.export(net, (1, 1, 8, 8), tmp_path / "tiny.onnx", input_range=(0, 1))
    from qonnx.core.modelwrapper import ModelWrapper

    b = bitfab.build(ModelWrapper(str(path)), out=tmp_path / "b", name="w", to_step="integerize")
    assert b.status == "stopped after integerize" and (b.dir / "w.onnx").exists()
    with pytest.raises(bitfab.InputError, match="no report.json"):
        _ = b.report
    with pytest.raises(bitfab.InputError, match=r"did not finish \(status: stopped after"):
        bitfab.verify(b, 2)


# --- a Brevitas module, built directly --------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    net = _tiny_net()
    out = tmp_path_factory.mktemp("api") / "tiny"
    return net, bitfab.build(net, input_shape=(1, 1, 8, 8), input_range=(0, 1), out=out, verify=20)


def test_a_brevitas_module_builds_directly(tiny):
    import torch

    from models.export import read_metadata

    net, b = tiny
    src = b.dir / "tinynet.onnx"  # exported beside the build, named after the class
    assert b.manifest["config"]["model"] == str(src)
    assert read_metadata(src)["bitfab.input_range"] == "0,1"
    r = b.report
    assert r.verification.passed and r.verification.reference_rounding == 0
    assert [x.kind for x in r.layers].count("MVAU") == 2
    # the accelerator computes what the torch module computes (power-of-two scales: exactly)
    x = np.random.default_rng(1).uniform(0, 1, (16, 1, 8, 8)).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(x)).detach().numpy()
    got = b.accelerator().execute(x)
    assert np.array_equal(got, want)


def test_eval_is_typed(tiny):
    _, b = tiny
    e = bitfab.eval(b, "digits", n=40)
    assert isinstance(e, bitfab.EvalResult) and e.dataset == "digits" and e.n == 40
    assert e.identical_outputs == 40 and e.reference_accuracy == e.csim_accuracy
    assert e.csim_correct == round(e.csim_accuracy * 40)


@pytest.mark.slow
def test_rtlsim_and_synth_are_typed(tiny):
    _, b = tiny
    r = b.rtlsim(n=6)
    assert isinstance(r, bitfab.RtlsimResult) and r.passed and r.n == 6
    assert r.verification.design == "rtlsim" and r.verification.passed
    assert r.cycles_per_image > 0 and r.fps == pytest.approx(r.clock_mhz * 1e6 / r.cycles_per_image)
    assert {a.name for a in r.layers} == {x.name for x in b.report.layers}
    assert b.report.rtlsim == r
    s = bitfab.synth(b, jobs=1)
    assert isinstance(s.total, bitfab.Cells) and s.total.lut > 0 and s.fits_board is True
    assert s.total.lut == sum(x.cells.lut for x in s.layers) + s.glue.lut
    assert b.report.synth == s
    one = bitfab.synth(b, layer=s.layers[0].name)
    assert one.total is None and one.fits is None and len(one.layers) == 1


def test_progress_true_shows_the_command_line_display(tiny, capsys):
    _, b = tiny
    bitfab.verify(b, 3, progress=True)
    err = capsys.readouterr().err
    assert "verify reference" in err and "verify csim" in err
    bitfab.verify(b, 3)
    assert capsys.readouterr().err == ""
