"""Export a zoo model to QONNX, the compiler's input format, tagged with what the model is.

The graph is Brevitas' own ``export_qonnx`` output (Quant/BipolarQuant nodes, BatchNormalization,
Gemm/Conv) so it is what a FINN user would feed in; qonnx cleanup is the frontend's job. We only
add model-level metadata and drop what would make the file depend on where it was exported.
"""

from __future__ import annotations

import contextlib
import io
import logging
import warnings
from collections.abc import Iterator
from pathlib import Path

import onnx
import torch
from torch import nn

from models.zoo import ZooModel, build_model

log = logging.getLogger(__name__)

#: Model-level ``metadata_props`` keys written on every export.
META_MODEL = "bitfab.model"
META_TRAINED = "bitfab.trained"
META_WEIGHTS = "bitfab.weights"
META_INPUT_RANGE = "bitfab.input_range"

# Per-node metadata the torch exporter writes that holds absolute source paths: two checkouts
# of the same commit would otherwise export different bytes.
_PATH_DEPENDENT_NODE_META = ("pkg.torch.onnx.stack_trace",)

# Loggers of the torch exporter and its ONNX optimizer, which chat at INFO and WARNING level.
_NOISY_LOGGERS = (
    "torch.onnx",
    "torch.export",
    "torch._dynamo",
    "torch.fx",
    "onnxscript",
    "onnx_ir",
)


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    """Swallow the exporter's progress prints, warnings and log records (kept at DEBUG)."""
    out, err = io.StringIO(), io.StringIO()
    loggers = [logging.getLogger(n) for n in _NOISY_LOGGERS]
    levels = [lg.level for lg in loggers]
    try:
        for lg in loggers:
            lg.setLevel(logging.ERROR)
        with (
            warnings.catch_warnings(),
            contextlib.redirect_stdout(out),
            contextlib.redirect_stderr(err),
        ):
            warnings.simplefilter("ignore")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)
        for text in (out.getvalue(), err.getvalue()):
            if text.strip():
                log.debug("exporter output:\n%s", text.rstrip())


def export_qonnx_model(
    entry: ZooModel,
    out_path: str | Path,
    model: nn.Module | None = None,
    seed: int = 0,
    trained: bool = False,
    weights: str | None = None,
) -> Path:
    """Write ``entry`` (or the given ``model`` of that entry) as a QONNX file; return its path.

    Without ``model`` the seeded random model from :func:`models.zoo.build_model` is exported
    and marked untrained. ``trained`` says whether ``model`` holds trained weights (e.g. from a
    checkpoint); it is recorded, not checked. The same model and seed give a byte-identical
    file. Metadata written: ``bitfab.model`` (name), ``bitfab.trained`` ("true"/"false"),
    ``bitfab.weights`` (``weights`` if given, e.g. where pretrained weights came from, else
    "trained" or "untrained (seeded random init, seed N)") and
    ``bitfab.input_range`` ("0,1": the float range the network's input is meant to cover).
    """
    if model is None:
        if trained:
            raise ValueError("trained=True needs the trained model passed as model=")
        model = build_model(entry, seed=seed)
    if weights is None:
        weights = "trained" if trained else f"untrained (seeded random init, seed {seed})"
    meta = {
        META_MODEL: entry.name,
        META_TRAINED: "true" if trained else "false",
        META_WEIGHTS: weights,
        META_INPUT_RANGE: "0,1",
    }
    path = export_module(model, entry.input_shape, out_path, meta=meta, seed=seed)
    log.info("exported %s (%s) to %s", entry.name, weights, out_path)
    return path


def export_module(
    model: nn.Module,
    input_shape: tuple[int, ...],
    out_path: str | Path,
    meta: dict[str, str] | None = None,
    seed: int = 0,
) -> Path:
    """Write any Brevitas ``model`` as a QONNX file with Brevitas' ``export_qonnx``; return
    its path.

    ``input_shape`` is the example input's shape, batch included (batch 1: the compiler wants
    fixed shapes), e.g. ``(1, 1, 28, 28)``; the graph does not depend on the example's values,
    which are drawn from ``seed``. The model is exported in eval mode (its mode is restored
    afterwards), the exporter's chatter is kept at DEBUG level, node metadata that holds
    source paths is dropped (so the same model gives the same bytes anywhere) and ``meta`` is
    written as model-level ``metadata_props`` (e.g. ``bitfab.input_range``: "0,1").
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from brevitas.export import export_qonnx
        from qonnx.core.modelwrapper import ModelWrapper

    out_path = Path(out_path)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    # The example input only fixes shapes (the exported graph does not depend on its values);
    # it is seeded anyway so that nothing in the export depends on the global RNG.
    x = torch.rand(tuple(input_shape), generator=torch.Generator().manual_seed(seed))
    was_training = model.training
    model.eval()
    try:
        with _quiet():
            export_qonnx(
                model,
                x,
                str(out_path),
                keep_initializers_as_inputs=False,
                optimize=True,
            )
    finally:
        model.train(was_training)

    wrapper = ModelWrapper(str(out_path))
    for node in wrapper.graph.node:
        keep = [p for p in node.metadata_props if p.key not in _PATH_DEPENDENT_NODE_META]
        del node.metadata_props[:]
        node.metadata_props.extend(keep)
    _set_metadata(wrapper.model, meta or {})
    wrapper.save(str(out_path))
    return out_path


def _set_metadata(model_proto: onnx.ModelProto, meta: dict[str, str]) -> None:
    """Set model-level metadata_props, replacing existing keys, keeping a stable order."""
    existing = {p.key: p.value for p in model_proto.metadata_props}
    existing.update(meta)
    del model_proto.metadata_props[:]
    for key, value in existing.items():
        prop = model_proto.metadata_props.add()
        prop.key, prop.value = key, value


def read_metadata(path: str | Path) -> dict[str, str]:
    """The model-level metadata_props of an ONNX file, e.g. to tell trained from untrained."""
    model = onnx.load(str(path), load_external_data=False)
    return {p.key: p.value for p in model.metadata_props}
