"""Accuracy of a finished build on a labelled data set: the QONNX reference and the C-simulation.

``bitfab verify`` proves the design bit-exact on drawn inputs; this shows what a user cares
about: the accuracy the network has on real images, and that the hardware keeps it. Both
executions see the same test images (the data set's test split, read as ``bitfab train`` reads
it) and their outputs are compared exactly, not only their labels. Images whose outputs differ
are handed to :func:`flows.verify.verify_build`, which tells float32 reference rounding (the
exact integer re-check agrees with the hardware; reported, not a failure) from a real
mismatch (a :class:`VerificationError`, exit 3).
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.accelerator import Accelerator
from flows.errors import InputError, VerificationError
from flows.progress import SILENT, Progress
from flows.verify import CHUNK, run_reference, verify_build

log = logging.getLogger(__name__)

#: Data sets ``eval`` reads, by the image shape (C, H, W) a model without a zoo entry takes.
DATASET_SHAPES = {(1, 8, 8): "digits", (1, 28, 28): "mnist", (3, 32, 32): "cifar10"}


def build_dataset(manifest: dict, ref: ModelWrapper) -> str:
    """The data set a build's model is for: its zoo entry's, else by its input shape."""
    from models.errors import ModelError
    from models.zoo import get_model

    name = manifest.get("config", {}).get("model", "")
    try:
        dataset = get_model(name).dataset
    except ModelError:  # a model file: go by the shape of the image it takes
        shape = tuple(ref.get_tensor_shape(ref.graph.input[0].name)[1:])
        dataset = DATASET_SHAPES.get(shape)
        if dataset is None:
            known = ", ".join(f"{d} {s}" for s, d in DATASET_SHAPES.items())
            raise InputError(
                f"{name}: input shaped {shape} is none of the data sets eval reads ({known})"
            ) from None
    if dataset not in DATASET_SHAPES.values():
        raise InputError(
            f"{name} is a {dataset} model; eval reads {', '.join(DATASET_SHAPES.values())} "
            "(no loader for its data set)"
        )
    return dataset


def load_test_split(dataset: str, data: str, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The test images and labels of ``dataset`` from ``data`` ("digits" or a directory), with
    ``bitfab train``'s loaders, so the layouts accepted (and the errors naming them) are its."""
    from models.data import load_dataset

    if data == "digits" and dataset != "digits":
        raise InputError(
            f"this build's model is for {dataset}, not digits; give --data DIR with the "
            f"{dataset} files"
        )
    if data != "digits" and dataset == "digits":
        raise InputError(
            f"this build's model is for scikit-learn's 8x8 digits, which are not read from a "
            f"directory ({data}): pass --data digits"
        )
    _, _, x, y = load_dataset(dataset, None if data == "digits" else data, seed=seed)
    return x, y


def predictions(out: np.ndarray) -> np.ndarray:
    """Class labels from a model output: argmax over classes, or the output itself when the
    graph already ends in a top-1 index (FINN's InsertTopK)."""
    flat = np.asarray(out).reshape(len(out), -1)
    if flat.shape[1] == 1:
        return np.rint(flat[:, 0]).astype(np.int64)
    return np.argmax(flat, axis=1)


def evaluate_build(
    build_dir: Path, data: str, n: int | None = None, seed: int = 0, progress: Progress = SILENT
) -> dict:
    """Accuracy of the reference and of the C-sim on the test split (the first ``n`` images).

    Returns ``dataset``, ``n``, ``weights`` (the model's ``bitfab.weights`` metadata),
    ``reference_accuracy``, ``csim_accuracy``, ``reference_correct``, ``csim_correct``,
    ``identical_outputs`` and ``reference_rounding`` (images whose float32 reference output
    differs from the exact integer result the hardware computes). Raises VerificationError when
    an output differs for any other reason. ``progress`` counts the images through each
    execution.
    """
    from flows.build import check_finished
    from models.export import read_metadata

    d = Path(build_dir)
    manifest = check_finished(d)
    ref = ModelWrapper(str(d / "reference.onnx"))
    dataset = build_dataset(manifest, ref)
    x, y = load_test_split(dataset, data, seed)
    if n is not None:
        x, y = x[:n], y[:n]
    want = tuple(ref.get_tensor_shape(ref.graph.input[0].name)[1:])
    if tuple(x.shape[1:]) != want:
        raise InputError(
            f"{d}: the model takes images shaped {want}, the {dataset} images are "
            f"{tuple(x.shape[1:])}"
        )
    x = x.astype(np.float32)
    with progress.task("eval reference", len(x), "images") as t:
        ref_out = run_reference(ref, x, task=t)[ref.graph.output[0].name]
    acc = Accelerator.from_build(d, backend="csim")
    hw_out = []
    with progress.task("eval csim", len(x), "images") as t:
        for i in range(0, len(x), CHUNK):
            hw_out.append(acc.execute(x[i : i + CHUNK]))
            t.advance(len(hw_out[-1]))
    hw_out = np.concatenate(hw_out)
    a = ref_out.reshape(len(x), -1)
    b = np.asarray(hw_out).reshape(len(x), -1)
    bad = np.flatnonzero(~np.all((a == b) | (np.isnan(a) & np.isnan(b)), axis=1))
    rounding = 0
    if len(bad):
        v = verify_build(d, len(bad), inputs=x[bad], progress=progress)
        if v["status"] != "pass":
            first = v["first_mismatch"]
            raise VerificationError(
                f"{d}: the C-sim and the QONNX reference disagree on {dataset} test image "
                f"{int(bad[first['sample']])}; first layer that differs: {first['layer']}"
            )
        rounding = v["reference_rounding"]
    ref_correct = int(np.sum(predictions(ref_out) == y))
    hw_correct = int(np.sum(predictions(hw_out) == y))
    return {
        "dataset": dataset,
        "n": len(x),
        "weights": read_metadata(d / "reference.onnx").get(
            "bitfab.weights", "as in the model file"
        ),
        "reference_correct": ref_correct,
        "csim_correct": hw_correct,
        "reference_accuracy": ref_correct / len(x),
        "csim_accuracy": hw_correct / len(x),
        "identical_outputs": len(x) - len(bad),
        "reference_rounding": rounding,
    }


def summary_lines(r: dict) -> list[str]:
    """What ``bitfab eval`` prints."""
    lines = [
        f"{r['dataset']} test split, {r['n']} images; weights: {r['weights']}",
        f"QONNX reference accuracy {r['reference_accuracy']:.4f} "
        f"({r['reference_correct']}/{r['n']})",
        f"C-sim           accuracy {r['csim_accuracy']:.4f} ({r['csim_correct']}/{r['n']})",
        f"outputs bit-identical on {r['identical_outputs']}/{r['n']} images",
    ]
    if r["reference_rounding"]:
        lines.append(
            f"{r['reference_rounding']} images differ by float32 rounding in the reference "
            "(the exact integer re-check agrees with the C-sim)"
        )
    if r["weights"].startswith("untrained"):
        lines.append("the model is untrained: expect chance accuracy")
    return lines
