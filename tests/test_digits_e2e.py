"""Real-data models: train digits-w2a2 and digits-w8a8, build, and compare C-sim with PyTorch."""

from __future__ import annotations

import numpy as np
import pytest

from boards.driver.accelerator import Accelerator
from flows.build import run_build
from flows.config import BuildConfig
from models.checkpoint import save_checkpoint
from models.data import load_digits_split
from models.train import predict, train
from models.zoo import get_model
from tests.helpers import in_ci

pytestmark = pytest.mark.csim


@pytest.mark.parametrize("name", in_ci(["digits-w2a2", "digits-w8a8"]))
def test_digits_csim_predictions_equal_pytorch_on_whole_test_split(tmp_path, name):
    entry = get_model(name)
    xtr, ytr, xte, yte = load_digits_split(seed=0)
    net, metrics = train(entry, xtr, ytr, xte, yte, epochs=20, seed=0)
    ckpt = save_checkpoint(
        net, entry, tmp_path / "digits.pt", {"test_accuracy": metrics["test_accuracy"]}
    )
    d = run_build(BuildConfig(model=name, checkpoint=ckpt, out=tmp_path / "b", verify_n=200))
    acc = Accelerator.from_build(d, backend="csim")
    hw = acc.execute(xte).argmax(axis=1)
    sw = predict(net, xte)
    accuracy = float(np.mean(hw == yte))
    print(
        f"{name}: C-sim accuracy {accuracy:.4f} on {len(yte)} held-out images, "
        f"PyTorch {metrics['test_accuracy']:.4f}"
    )
    assert np.array_equal(hw, sw), f"{np.sum(hw != sw)} predictions differ"
    assert accuracy >= 0.9
