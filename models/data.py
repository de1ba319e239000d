"""Data sets for training and verification, read from files the user already has.

Nothing is downloaded: MNIST and CIFAR-10 are read from a directory in their standard
distribution formats (idx files, python pickle batches); the 8x8 digits ship with scikit-learn.
Every loader returns ``(x_train, y_train, x_test, y_test)`` with x float32 NCHW in [0, 1] (what
the zoo models take) and y int64 class labels.
"""

from __future__ import annotations

import gzip
import logging
import pickle
from pathlib import Path
from typing import ClassVar

import numpy as np

from models.errors import ModelError

log = logging.getLogger(__name__)

Split = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]

MNIST_FILES = (
    "train-images-idx3-ubyte",
    "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte",
    "t10k-labels-idx1-ubyte",
)
CIFAR10_FILES = (*(f"data_batch_{i}" for i in range(1, 6)), "test_batch")

_IDX_UBYTE = 0x08


def load_digits_split(seed: int = 0) -> Split:
    """scikit-learn's 8x8 digits, stratified 80/20 split; x is pixel/16, shaped (N, 1, 8, 8).

    Dividing by 16 (not by the max) keeps every pixel k/16 exactly representable in the
    digits model's Q1.7 input quantizer after the network's ``2x - 1``.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = (digits.images.astype(np.float32) / np.float32(16.0)).reshape(-1, 1, 8, 8)
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=0.2, stratify=y, random_state=seed
    )
    return x_train, y_train, x_test, y_test


def _find(candidates: list[Path], name: str) -> Path | None:
    for base in candidates:
        for fname in (name, f"{name}.gz"):
            if (base / fname).is_file():
                return base / fname
    return None


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """One idx file (unsigned bytes) as an array; a wrong header names the file."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as f:
            data = f.read()
    except OSError as exc:
        raise ModelError(f"MNIST file {path}: cannot read it ({exc})") from exc
    if len(data) < 4 + 4 * ndim or data[0] != 0 or data[1] != 0:
        raise ModelError(f"MNIST file {path}: not an idx file (bad magic number)")
    if data[2] != _IDX_UBYTE or data[3] != ndim:
        raise ModelError(
            f"MNIST file {path}: idx type 0x{data[2]:02x} with {data[3]} dims, "
            f"expected unsigned bytes (0x08) with {ndim} dims"
        )
    dims = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    count = int(np.prod(dims))
    body = data[4 + 4 * ndim :]
    if len(body) != count:
        raise ModelError(
            f"MNIST file {path}: header says {dims} ({count} bytes) but holds {len(body)} bytes"
        )
    return np.frombuffer(body, dtype=np.uint8).reshape(dims)


def load_mnist(directory: str | Path) -> Split:
    """MNIST from the four standard idx files (optionally .gz) in ``directory``.

    Also looks in ``directory/MNIST/raw`` (torchvision's layout). x is (N, 1, 28, 28) / 255.
    """
    directory = Path(directory)
    candidates = [directory, directory / "MNIST" / "raw"]
    found = {name: _find(candidates, name) for name in MNIST_FILES}
    missing = [name for name, p in found.items() if p is None]
    if missing:
        raise ModelError(
            f"MNIST directory {directory}: missing {', '.join(missing)} (or .gz); "
            f"it needs {', '.join(MNIST_FILES)} as distributed on the MNIST page, here or in "
            "MNIST/raw/"
        )
    arrays = []
    for split in ("train", "t10k"):
        img_path = found[f"{split}-images-idx3-ubyte"]
        lbl_path = found[f"{split}-labels-idx1-ubyte"]
        images = _read_idx(img_path, 3)
        labels = _read_idx(lbl_path, 1)
        if len(images) != len(labels):
            raise ModelError(
                f"MNIST files {img_path} and {lbl_path}: {len(images)} images "
                f"but {len(labels)} labels"
            )
        x = (images.astype(np.float32) / np.float32(255.0))[:, None, :, :]
        arrays += [x, labels.astype(np.int64)]
    log.info("loaded MNIST from %s: %d train, %d test", directory, len(arrays[0]), len(arrays[2]))
    return arrays[0], arrays[1], arrays[2], arrays[3]


class _ArrayUnpickler(pickle.Unpickler):
    """Unpickler that only rebuilds numpy arrays: a data directory must not run code."""

    _ALLOWED: ClassVar[frozenset[tuple[str, str]]] = frozenset(
        {
            ("numpy.core.multiarray", "_reconstruct"),
            ("numpy._core.multiarray", "_reconstruct"),
            ("numpy.core.numeric", "_frombuffer"),
            ("numpy._core.numeric", "_frombuffer"),
            ("numpy", "ndarray"),
            ("numpy", "dtype"),
            ("_codecs", "encode"),  # how Python 3 writes bytes at pickle protocol 2
        }
    )

    def find_class(self, module: str, name: str) -> object:
        if (module, name) in self._ALLOWED:
            return super().find_class(module, name)
        raise pickle.UnpicklingError(f"refusing to load {module}.{name}")


def _read_cifar_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = _ArrayUnpickler(f, encoding="bytes").load()
        data = np.asarray(batch[b"data"], dtype=np.uint8)
        labels = np.asarray(batch[b"labels"], dtype=np.int64)
    except (OSError, pickle.UnpicklingError, EOFError, KeyError, TypeError, ValueError) as exc:
        raise ModelError(
            f"CIFAR-10 file {path}: not a CIFAR-10 python batch ({type(exc).__name__}: {exc})"
        ) from exc
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or len(data) != len(labels):
        raise ModelError(
            f"CIFAR-10 file {path}: data shaped {data.shape} with {len(labels)} labels, "
            "expected (N, 3072) uint8 and N labels"
        )
    return data.reshape(-1, 3, 32, 32), labels


def load_cifar10(directory: str | Path) -> Split:
    """CIFAR-10 from the python batches in ``directory`` or ``directory/cifar-10-batches-py``.

    x is (N, 3, 32, 32) / 255 (the rows are stored channel-major, R then G then B planes).
    """
    directory = Path(directory)
    base = next(
        (
            d
            for d in (directory, directory / "cifar-10-batches-py")
            if all((d / n).is_file() for n in CIFAR10_FILES)
        ),
        None,
    )
    if base is None:
        missing = [n for n in CIFAR10_FILES if not (directory / n).is_file()]
        raise ModelError(
            f"CIFAR-10 directory {directory}: missing {', '.join(missing)}; it needs "
            f"{', '.join(CIFAR10_FILES)} (the python version), here or in cifar-10-batches-py/"
        )
    train = [_read_cifar_batch(base / f"data_batch_{i}") for i in range(1, 6)]
    x_test, y_test = _read_cifar_batch(base / "test_batch")
    x_train = np.concatenate([x for x, _ in train])
    y_train = np.concatenate([y for _, y in train])
    scale = np.float32(255.0)
    log.info("loaded CIFAR-10 from %s: %d train, %d test", base, len(x_train), len(x_test))
    return (x_train.astype(np.float32) / scale, y_train, x_test.astype(np.float32) / scale, y_test)


def load_dataset(dataset: str, directory: str | Path | None = None, seed: int = 0) -> Split:
    """The split for a zoo entry's ``dataset`` ("digits", "mnist", "cifar10"), for the CLI."""
    if dataset == "digits":
        return load_digits_split(seed=seed)
    loaders = {"mnist": load_mnist, "cifar10": load_cifar10}
    if dataset not in loaders:
        raise ModelError(f"unknown data set {dataset!r}; known: digits, mnist, cifar10")
    if directory is None:
        raise ModelError(
            f"data set {dataset!r} is read from a directory: pass --data DIR "
            "(nothing is downloaded)"
        )
    return loaders[dataset](directory)
