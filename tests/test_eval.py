"""`bitfab eval DIR --data DIR|digits`: the accuracy of the QONNX reference and of the C-sim on a
labelled test split, with outputs compared exactly; bad data directories exit 1 naming the
layout. The digits tests train and build their own model (opt in with -m slow); the MNIST ones
reuse the session's tfc-w1a1 build."""

from __future__ import annotations

import re
import struct

import numpy as np
import pytest

from flows.build import run_build
from flows.config import BuildConfig
from models.checkpoint import save_checkpoint
from models.data import load_digits_split
from models.train import predict, train
from models.zoo import get_model
from tests.helpers import run_cli

pytestmark = pytest.mark.csim


@pytest.fixture(scope="module")
def digits_build(tmp_path_factory):
    """digits-w2a2 trained for 20 epochs (seed 0) and built; with its PyTorch test labels."""
    tmp = tmp_path_factory.mktemp("eval")
    entry = get_model("digits-w2a2")
    xtr, ytr, xte, yte = load_digits_split(seed=0)
    net, _ = train(entry, xtr, ytr, xte, yte, epochs=20, seed=0)
    ckpt = save_checkpoint(net, entry, tmp / "digits.pt", {})
    d = run_build(BuildConfig(model="digits-w2a2", checkpoint=ckpt, out=tmp / "b"))
    return d, float(np.mean(predict(net, xte) == yte))


def _accuracies(stdout: str) -> tuple[str, str]:
    ref = re.search(r"QONNX reference accuracy (\S+ \(\d+/\d+\))", stdout)
    hw = re.search(r"C-sim +accuracy (\S+ \(\d+/\d+\))", stdout)
    assert ref and hw, stdout
    return ref.group(1), hw.group(1)


@pytest.mark.slow  # trains and builds digits-w2a2: ~35 s
def test_eval_digits_reference_and_csim_accuracy_are_equal(digits_build):
    d, torch_accuracy = digits_build
    r = run_cli(["eval", d, "--data", "digits"])
    assert r.exit_code == 0, r.stderr
    ref, hw = _accuracies(r.stdout)
    assert ref == hw
    assert r.stdout.startswith("digits test split, 360 images; weights: trained\n")
    assert "outputs bit-identical on 360/360 images" in r.stdout
    accuracy = float(ref.split()[0])
    assert accuracy == pytest.approx(torch_accuracy, abs=5e-5) and accuracy >= 0.9


@pytest.mark.slow  # trains and builds digits-w2a2: ~35 s
def test_eval_first_n_images(digits_build):
    r = run_cli(["eval", digits_build[0], "--data", "digits", "--n", "50"])
    assert r.exit_code == 0, r.stderr
    ref, hw = _accuracies(r.stdout)
    assert ref == hw and ref.endswith("/50)")


@pytest.mark.slow  # trains and builds digits-w2a2: ~35 s
def test_eval_digits_build_given_a_directory(digits_build, tmp_path):
    r = run_cli(["eval", digits_build[0], "--data", tmp_path])
    assert r.exit_code == 1
    assert r.stderr == (
        "error: this build's model is for scikit-learn's 8x8 digits, which are not read from "
        f"a directory ({tmp_path}): pass --data digits\n"
    )


def test_eval_of_an_unfinished_build(tmp_path):
    r = run_cli(["eval", tmp_path / "nothing", "--data", "digits"])
    assert r.exit_code == 1
    assert "no such build directory; run `bitfab build` first" in r.stderr


def _write_idx(path, array: np.ndarray) -> None:
    header = struct.pack(">BBBB", 0, 0, 0x08, array.ndim)
    header += b"".join(struct.pack(">I", n) for n in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def test_eval_mnist_model_on_a_local_directory(built, tmp_path):
    """An MNIST build (untrained tfc-w1a1) on MNIST files in torchvision's layout: random
    images, so the accuracies say nothing, but they must be equal and the outputs identical."""
    raw = tmp_path / "MNIST" / "raw"
    raw.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for split, n in (("train", 4), ("t10k", 30)):
        _write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n))
    d = built("tfc-w1a1")
    r = run_cli(["eval", d, "--data", tmp_path])
    assert r.exit_code == 0, r.stderr
    ref, hw = _accuracies(r.stdout)
    assert ref == hw
    assert "outputs bit-identical on 30/30 images" in r.stdout
    assert "the model is untrained: expect chance accuracy" in r.stdout

    r = run_cli(["eval", d, "--data", "digits"])
    assert r.exit_code == 1
    assert r.stderr == (
        "error: this build's model is for mnist, not digits; give --data DIR with the mnist files\n"
    )


def test_eval_mnist_model_on_a_directory_in_the_wrong_layout(built, tmp_path):
    (tmp_path / "mnist.npz").write_bytes(b"")
    r = run_cli(["eval", built("tfc-w1a1"), "--data", tmp_path])
    assert r.exit_code == 1
    assert r.stderr == (
        f"error: MNIST directory {tmp_path}: missing train-images-idx3-ubyte, "
        "train-labels-idx1-ubyte, t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte (or .gz); it "
        "needs train-images-idx3-ubyte, train-labels-idx1-ubyte, t10k-images-idx3-ubyte, "
        "t10k-labels-idx1-ubyte as distributed on the MNIST page, here or in MNIST/raw/\n"
    )


def test_eval_exits_3_when_reference_and_csim_disagree(built, tmp_path):
    """A build whose reference no longer matches its design (last layer's weights negated):
    eval names the first differing image and layer and exits 3."""
    import shutil

    import onnx
    from onnx import numpy_helper

    d = shutil.copytree(built("tfc-w1a1"), tmp_path / "b")
    ref = onnx.load(str(d / "reference.onnx"))
    (last,) = [t for t in ref.graph.initializer if list(t.dims) == [64, 10]]
    last.CopyFrom(numpy_helper.from_array(-numpy_helper.to_array(last), last.name))
    onnx.save(ref, str(d / "reference.onnx"))
    raw = tmp_path / "mnist"
    raw.mkdir()
    rng = np.random.default_rng(1)
    for split, n in (("train", 2), ("t10k", 8)):
        _write_idx(raw / f"{split}-images-idx3-ubyte", rng.integers(0, 256, (n, 28, 28)))
        _write_idx(raw / f"{split}-labels-idx1-ubyte", rng.integers(0, 10, n))
    r = run_cli(["eval", d, "--data", raw])
    assert r.exit_code == 3, r.stdout + r.stderr
    assert re.fullmatch(  # after the progress lines (plain: stderr is not a terminal)
        rf"error: {d}: the C-sim and the QONNX reference disagree on mnist test image \d; "
        r"first layer that differs: \S+",
        r.stderr.splitlines()[-1],
    ), r.stderr
