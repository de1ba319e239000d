"""Save and load trained zoo models: state_dict plus the model name and training metadata.

A checkpoint names its model so that loading it into another topology fails with a message
that says which model the file holds, instead of a wall of state_dict key mismatches.
"""

from __future__ import annotations

import json
import logging
import pickle
from pathlib import Path
from typing import Any

import torch
from torch import nn

from models.errors import ModelError
from models.zoo import ZooModel, build_model

log = logging.getLogger(__name__)

#: Marker stored in every checkpoint, so a random ``.pt`` file is recognised as foreign.
CHECKPOINT_FORMAT = "bitfab-checkpoint"
CHECKPOINT_VERSION = 1


def save_checkpoint(
    model: nn.Module, entry: ZooModel, path: str | Path, meta: dict[str, Any]
) -> Path:
    """Write ``model``'s weights for ``entry`` with ``meta`` (accuracy, dataset, epochs, ...).

    ``meta`` must hold plain values (str, int, float, bool, None, lists/dicts of them) so that
    the file loads with ``torch.load(weights_only=True)``, which runs no pickled code; a JSON
    round trip normalises it (numpy float64 -> float) and rejects anything else here rather
    than at load time.
    """
    meta = json.loads(json.dumps(meta))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {
        "format": CHECKPOINT_FORMAT,
        "version": CHECKPOINT_VERSION,
        "model": entry.name,
        "meta": meta,
        "state_dict": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
    }
    torch.save(payload, path)
    log.info("saved checkpoint of %s to %s", entry.name, path)
    return path


def load_checkpoint(entry: ZooModel, path: str | Path) -> tuple[nn.Module, dict[str, Any]]:
    """Build ``entry`` and load the checkpoint at ``path`` into it; return (model, meta).

    The model is in eval mode. Raises :class:`ModelError` naming the file and ``entry`` when the
    file is missing, is not a bitfab checkpoint, or holds a different model.
    """
    path = Path(path)
    expected = f"expected a checkpoint of model {entry.name!r}"
    if not path.is_file():
        raise ModelError(f"checkpoint {path}: no such file ({expected})")
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    # what torch.load raises for an empty, foreign, pickled or truncated file
    except (EOFError, KeyError, RuntimeError, OSError, pickle.UnpicklingError) as exc:
        raise ModelError(
            f"checkpoint {path}: not a bitfab checkpoint ({expected}; "
            f"torch.load failed: {type(exc).__name__})"
        ) from exc
    if not (isinstance(payload, dict) and payload.get("format") == CHECKPOINT_FORMAT):
        raise ModelError(
            f"checkpoint {path}: not a bitfab checkpoint ({expected}; "
            "save one with models.checkpoint.save_checkpoint or `bitfab train`)"
        )
    if payload.get("model") != entry.name:
        raise ModelError(
            f"checkpoint {path} holds model {payload.get('model')!r}, {expected}; "
            f"pass the matching model name or a checkpoint of {entry.name!r}"
        )
    model = build_model(entry)
    try:
        model.load_state_dict(payload["state_dict"], strict=True)
    except (RuntimeError, KeyError) as exc:
        raise ModelError(
            f"checkpoint {path}: weights do not fit model {entry.name!r}: {exc}"
        ) from exc
    model.eval()
    return model, dict(payload.get("meta", {}))
