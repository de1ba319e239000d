"""Quantization-aware training of zoo models, deterministic for a given seed.

BNN-PYNQ's recipe, reduced to what an offline CPU run needs: Adam, cross-entropy, and after every
optimizer step the latent float weights clamped to [-1, 1] (``clip_weights``) so that they stay
where the 1- and 2-bit weight quantizers can still flip them.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Iterator
from typing import Any

import numpy as np
import torch
from torch import nn

from models.zoo import ZooModel, build_model

log = logging.getLogger(__name__)

#: Batch size for inference; bounds memory for CNV on the 10k-image test sets.
EVAL_BATCH = 1000

#: Epochs a caller (e.g. ``bitfab train``) may use when the user gives none. digits: measured
#: 94-96 % test accuracy over seeds 0-4 in about 3 s on one CPU thread. mnist, cifar10:
#: untuned starting points (no copy of those data sets was at hand to measure on).
DEFAULT_EPOCHS = {"digits": 20, "mnist": 10, "cifar10": 30}


@contextlib.contextmanager
def _single_thread() -> Iterator[None]:
    """One intra-op thread: the runs are small, and a fixed thread count keeps them reproducible."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(previous)


@contextlib.contextmanager
def _eval_mode(model: nn.Module) -> Iterator[None]:
    was_training = model.training
    model.eval()
    try:
        yield
    finally:
        model.train(was_training)


def predict(model: nn.Module, x: np.ndarray, batch_size: int = EVAL_BATCH) -> np.ndarray:
    """Argmax class labels (int64) of ``model`` on float inputs ``x`` in [0, 1] (NCHW)."""
    labels = []
    with _eval_mode(model), torch.no_grad():
        for start in range(0, len(x), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(x[start : start + batch_size]))
            labels.append(torch.argmax(model(xb.float()), dim=1).numpy())
    return np.concatenate(labels) if labels else np.zeros(0, dtype=np.int64)


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``, in [0, 1]."""
    if len(x) == 0:
        return 0.0
    return float(np.mean(predict(model, x) == np.asarray(y)))


def train(
    entry: ZooModel,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    epochs: int,
    seed: int = 0,
    lr: float = 0.02,
    batch_size: int = 64,
) -> tuple[nn.Module, dict[str, Any]]:
    """Train ``entry`` from its seeded init; return the model (eval mode) and its metrics.

    Same data, ``seed`` and arguments give identical weights (seeded init, seeded shuffling and
    dropout, a single CPU thread). The learning rate decays by cosine to zero over the run, which
    is what lets the quantized weights settle in a few epochs. Metrics: ``test_accuracy``,
    ``train_accuracy``, ``epochs``, ``seconds``, ``dataset``, ``lr``, ``batch_size``, ``seed``,
    ``trained`` (True), plus the per-epoch ``history`` of mean training loss.
    """
    start = time.perf_counter()
    model = build_model(entry, seed=seed)
    xt = torch.from_numpy(np.ascontiguousarray(x_train, dtype=np.float32))
    yt = torch.from_numpy(np.asarray(y_train, dtype=np.int64))
    n = len(xt)
    steps = epochs * ((n + batch_size - 1) // batch_size)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=max(steps, 1))
    loss_fn = nn.CrossEntropyLoss()
    gen = torch.Generator().manual_seed(seed)
    history: list[float] = []
    with _single_thread(), torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)  # dropout masks
        for epoch in range(epochs):
            model.train()
            order = torch.randperm(n, generator=gen)
            total = 0.0
            for s in range(0, n, batch_size):
                idx = order[s : s + batch_size]
                optimizer.zero_grad()
                loss = loss_fn(model(xt[idx]), yt[idx])
                loss.backward()
                optimizer.step()
                scheduler.step()
                if hasattr(model, "clip_weights"):
                    model.clip_weights(-1.0, 1.0)
                total += loss.item() * len(idx)
            history.append(total / n)
            log.debug("%s epoch %d/%d: loss %.4f", entry.name, epoch + 1, epochs, history[-1])
        model.eval()
        test_acc = evaluate(model, x_test, y_test)
        train_acc = evaluate(model, x_train, y_train)
    seconds = time.perf_counter() - start
    log.info(
        "trained %s for %d epochs in %.1f s: test accuracy %.4f",
        entry.name,
        epochs,
        seconds,
        test_acc,
    )
    metrics = {
        "trained": True,
        "test_accuracy": test_acc,
        "train_accuracy": train_acc,
        "epochs": epochs,
        "seconds": seconds,
        "dataset": entry.dataset,
        "lr": lr,
        "batch_size": batch_size,
        "seed": seed,
        "history": history,
    }
    return model, metrics
