"""`bitfab build --pretrained`: Brevitas' published weights through brevitas_examples' loader
and torch.hub's cache, tested offline by placing a locally made state dict at the cache path
(under a temporary TORCH_HOME); any download attempt fails the test."""

from __future__ import annotations

import hashlib
import json
import urllib.error
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch
from onnx import numpy_helper

from models.export import read_metadata
from models.pretrained import pretrained_file, published_models
from models.zoo import build_model, get_model
from tests.helpers import run_cli

PUBLISHED = [
    "tfc-w1a1",
    "tfc-w1a2",
    "tfc-w2a2",
    "sfc-w1a1",
    "sfc-w1a2",
    "sfc-w2a2",
    "lfc-w1a1",
    "lfc-w1a2",
    "cnv-w1a1",
    "cnv-w1a2",
    "cnv-w2a2",
]
TFC_URL = "https://github.com/Xilinx/brevitas/releases/download/bnn_pynq-r1/tfc_1w1a-45185b4d.pth"


@pytest.fixture
def offline_hub(tmp_path, monkeypatch) -> Path:
    """A fresh torch.hub cache (TORCH_HOME) in which every download fails as it does offline."""
    home = tmp_path / "torch_home"
    monkeypatch.setenv("TORCH_HOME", str(home))
    calls = []

    def no_network(url, dst, *args, **kwargs):
        calls.append(url)
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "download_url_to_file", no_network)
    return home


def _place_state_dict(name: str, seed: int) -> tuple[Path, dict]:
    """A state dict of the zoo model (seeded, not the build's seed 0) at the hub cache path."""
    path = pretrained_file(get_model(name)).cache_path
    path.parent.mkdir(parents=True, exist_ok=True)
    sd = build_model(get_model(name), seed=seed).state_dict()
    torch.save(sd, path)
    return path, sd


def test_published_models_are_brevitas_cfgs():
    assert published_models() == PUBLISHED


def test_zoo_classes_take_the_published_state_dicts_as_they_are():
    """brevitas_examples' model from each cfg (which its loader fills, strictly) has the zoo
    model's state dict keys and shapes, so what it exports is the zoo's graph. (The zoo's
    constructor without build_model's norm calibration: keys and shapes do not depend on it, and
    calibrating the CNVs takes most of a minute.)"""
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    from models.zoo import _construct

    for name in PUBLISHED:
        entry = get_model(name)
        theirs = model_with_cfg(pretrained_file(entry).cfg, pretrained=False)[0].state_dict()
        ours = _construct(entry).state_dict()
        assert list(theirs) == list(ours), name
        assert all(theirs[k].shape == ours[k].shape for k in ours), name


def test_cache_path_follows_torch_home(offline_hub):
    pf = pretrained_file(get_model("tfc-w1a1"))
    assert pf.url == TFC_URL
    assert pf.cache_path == offline_hub / "hub" / "checkpoints" / "tfc_1w1a-45185b4d.pth"
    assert pf.published_hash_prefix == "45185b4d"


def test_build_pretrained_reads_the_file_placed_in_the_cache(offline_hub, tmp_path):
    path, sd = _place_state_dict("tfc-w1a1", seed=7)
    out = tmp_path / "b"
    r = run_cli(["build", "tfc-w1a1", "--pretrained", "--out", out, "--to-step", "import"])
    assert r.exit_code == 0, r.stderr
    assert "not the weights Brevitas published" in r.stderr  # a hand-made file, said so
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["config"]["pretrained"] is True
    assert manifest["inputs"]["pretrained"] == {
        "source": "brevitas_examples.bnn_pynq",
        "url": TFC_URL,
        "file": str(path),
        "sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "matches_published_name": False,
    }
    meta = read_metadata(out / "reference.onnx")
    assert meta["bitfab.trained"] == "true"
    assert meta["bitfab.weights"].startswith(f"pretrained (Brevitas, {TFC_URL}, sha256 ")
    # the reference holds the placed weights (MatMul weights are the Linear's, transposed),
    # not the seed-0 ones an untrained build would have
    model = onnx.load(str(out / "reference.onnx"))
    mats = [numpy_helper.to_array(t) for t in model.graph.initializer if len(t.dims) == 2]
    linear = [v.numpy().T for k, v in sd.items() if k.endswith(".weight") and v.ndim == 2]
    assert len(mats) == len(linear) == 4
    for w in linear:
        assert any(m.shape == w.shape and np.array_equal(m, w) for m in mats)
    seed0 = build_model(get_model("tfc-w1a1"), seed=0).state_dict()["features.2.weight"]
    assert not any(np.array_equal(m, seed0.numpy().T) for m in mats)


def test_pretrained_offline_without_the_file_names_url_and_cache_path(offline_hub, tmp_path):
    r = run_cli(["build", "tfc-w1a1", "--pretrained", "--out", tmp_path / "b"])
    assert r.exit_code == 1, r.stderr
    path = offline_hub / "hub" / "checkpoints" / "tfc_1w1a-45185b4d.pth"
    # torch.hub's own "Downloading: URL to PATH" line comes first (on stderr: stdout is results)
    assert r.stderr.splitlines()[0] == f'Downloading: "{TFC_URL}" to {path}'
    assert r.stderr.splitlines()[1] + "\n" == (
        f"error: tfc-w1a1: Brevitas' published weights {TFC_URL} are not in the torch.hub "
        "cache and cannot be downloaded ([Errno -3] Temporary failure in name resolution); "
        f"download the file on a machine that is online and place it at {path} (that "
        "directory follows TORCH_HOME), then run again\n"
    )


def test_pretrained_with_a_corrupt_cached_file(offline_hub, tmp_path):
    path = pretrained_file(get_model("tfc-w1a1")).cache_path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"<html>proxy login page</html>")
    r = run_cli(["build", "tfc-w1a1", "--pretrained", "--out", tmp_path / "b"])
    assert r.exit_code == 1, r.stderr
    assert r.stderr.startswith(f"error: {path}: cannot load it as tfc-w1a1's published weights")
    assert f"delete it and run again online, or put the file from {TFC_URL} there" in r.stderr


def test_pretrained_state_dict_of_another_model(offline_hub, tmp_path):
    path = pretrained_file(get_model("tfc-w1a1")).cache_path
    path.parent.mkdir(parents=True)
    torch.save(build_model(get_model("sfc-w1a1")).state_dict(), path)
    r = run_cli(["build", "tfc-w1a1", "--pretrained", "--out", tmp_path / "b"])
    assert r.exit_code == 1, r.stderr
    assert f"{path}: cannot load it as tfc-w1a1's published weights (RuntimeError" in r.stderr


def test_pretrained_for_a_model_without_published_weights(tmp_path):
    r = run_cli(["build", "digits-w2a2", "--pretrained", "--out", tmp_path / "b"])
    assert r.exit_code == 1, r.stderr
    assert r.stderr == (
        "error: --pretrained: Brevitas publishes no trained weights for 'digits-w2a2'; models "
        f"with published weights: {', '.join(PUBLISHED)} (or train one with "
        "`bitfab train digits-w2a2 --data ...` and pass --checkpoint)\n"
    )


def test_pretrained_and_checkpoint_together(tmp_path):
    r = run_cli(
        ["build", "tfc-w1a1", "--pretrained", "--checkpoint", tmp_path / "x.pt", "--out", tmp_path]
    )
    assert r.exit_code == 1, r.stderr
    assert "--pretrained and --checkpoint" in r.stderr and "pass one of them" in r.stderr


def test_pretrained_for_a_model_file(tmp_path, zoo_onnx):
    r = run_cli(["build", zoo_onnx("tfc-w1a1"), "--pretrained", "--out", tmp_path / "b"])
    assert r.exit_code == 1, r.stderr
    assert "is a model file and keeps its own weights: drop --pretrained" in r.stderr


@pytest.mark.slow
@pytest.mark.csim
def test_pretrained_build_verifies(offline_hub, tmp_path):
    _place_state_dict("tfc-w1a1", seed=7)
    r = run_cli(["build", "tfc-w1a1", "--pretrained", "--out", tmp_path / "b", "--verify", "50"])
    assert r.exit_code == 0, r.stderr
    assert "50 inputs, pass" in r.stdout
