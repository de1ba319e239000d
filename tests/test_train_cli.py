"""`bitfab train` on real (digits) and locally stored (fake CIFAR-10) data, then a build from
the checkpoint."""

from __future__ import annotations

import pickle

import numpy as np
import pytest

from tests.helpers import run_cli


@pytest.mark.csim
def test_train_digits_then_build_from_checkpoint(tmp_path):
    ckpt = tmp_path / "digits.pt"
    r = run_cli(["train", "digits-w2a2", "--data", "digits", "--out", ckpt])
    assert r.exit_code == 0, r.stderr
    acc = float(r.stdout.split("test accuracy ")[1].split()[0])
    assert acc >= 0.9, r.stdout
    out = tmp_path / "b"
    r = run_cli(["build", "digits-w2a2", "--checkpoint", ckpt, "--out", out, "--verify", "100"])
    assert r.exit_code == 0, r.stderr
    assert "100 inputs, pass" in r.stdout


@pytest.mark.slow
def test_train_cnv_on_a_local_cifar_directory(tmp_path):
    d = tmp_path / "cifar-10-batches-py"
    d.mkdir()
    rng = np.random.default_rng(0)
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        batch = {
            b"data": rng.integers(0, 256, (8, 3072), dtype=np.uint8),
            b"labels": rng.integers(0, 10, 8).tolist(),
        }
        (d / name).write_bytes(pickle.dumps(batch, protocol=2))
    ckpt = tmp_path / "cnv.pt"
    r = run_cli(["train", "cnv-w1a1", "--data", tmp_path, "--epochs", "1", "--out", ckpt])
    assert r.exit_code == 0, r.stderr
    assert ckpt.exists() and "cifar10" in r.stdout


def test_train_with_a_missing_data_directory(tmp_path):
    r = run_cli(["train", "cnv-w1a1", "--data", tmp_path / "none"])
    assert r.exit_code == 1, r.stderr
    assert "none" in r.stderr
