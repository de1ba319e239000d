"""Brevitas' published trained weights for the BNN-PYNQ zoo models, through torch.hub's cache.

Brevitas publishes a trained state dict for every ``bnn_pynq`` network that has a cfg file in
``brevitas_examples/bnn_pynq/cfg`` (its ``PRETRAINED_URL``), and loads it with
``brevitas_examples.bnn_pynq.models.model_with_cfg(name, pretrained=True)``: the network built
from the cfg, the file fetched by ``torch.hub.load_state_dict_from_url`` into
``$TORCH_HOME/hub/checkpoints/`` (downloaded once, then read from there) and loaded strictly.
We call that loader as it is, so the weights are exactly the ones a FINN user gets, and the
zoo's ``tfc``/``sfc``/``lfc``/``cnv`` entries are those same ``FC``/``CNV`` classes with the
cfg's arguments (their state dict keys and shapes are equal; tested).

Not offered: ``resnet18-w4a4``, whose zoo entry puts a ``2x - 1`` and a Q1.7 input quantizer in
front of bnn_pynq's QuantResNet, while the published weights were trained on [0, 1] images fed
to its first conv directly; they would load but not give the published accuracy.
``lfc-w2a2`` and the fixed-point and digits entries have no published weights.

Offline with the file not cached, loading fails with the URL and the exact cache path, where a
copy downloaded elsewhere can be placed.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import pickle
import sys
import urllib.error
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import torch
from torch import hub, nn

from models.errors import ModelError
from models.zoo import ZooModel, list_models

log = logging.getLogger(__name__)

#: Zoo topologies whose entries are bnn_pynq's own FC/CNV classes (quant "bnn").
_BNN_PYNQ_TOPOLOGIES = ("tfc", "sfc", "lfc", "cnv")


@dataclass(frozen=True)
class PretrainedFile:
    """Where a published state dict comes from and where torch.hub keeps it."""

    model: str  # zoo name, e.g. "cnv-w1a1"
    cfg: str  # brevitas_examples' cfg name, e.g. "cnv_1w1a"
    url: str
    cache_path: Path

    @property
    def published_hash_prefix(self) -> str | None:
        """The sha256 prefix in the file name (torch.hub's ``name-<sha256[:8]>.pth``)."""
        m = hub.HASH_REGEX.search(self.cache_path.name)
        return m.group(1) if m else None


def _cfg_dir() -> Path:
    import brevitas_examples.bnn_pynq as bnn_pynq

    return Path(bnn_pynq.__file__).resolve().parent / "cfg"


def _cfg_name(entry: ZooModel) -> str | None:
    """brevitas_examples' cfg name for a zoo entry with published weights, else None."""
    if entry.quant != "bnn" or entry.topology not in _BNN_PYNQ_TOPOLOGIES:
        return None
    name = f"{entry.topology}_{entry.weight_bits}w{entry.act_bits}a"
    return name if (_cfg_dir() / f"{name}.ini").is_file() else None


def published_models() -> list[str]:
    """Zoo names that Brevitas publishes trained weights for, in zoo order."""
    return [e.name for e in list_models() if _cfg_name(e) is not None]


def hub_cache_path(url: str) -> Path:
    """The file torch.hub reads ``url`` from (and downloads it to): the same rule as
    ``torch.hub.load_state_dict_from_url``, under ``torch.hub.get_dir()`` (``$TORCH_HOME/hub``,
    by default ``~/.cache/torch/hub``)."""
    return Path(hub.get_dir()) / "checkpoints" / os.path.basename(urlparse(url).path)


def pretrained_file(entry: ZooModel) -> PretrainedFile:
    """The published file for ``entry``; a model without one gets the list of those with one."""
    cfg = _cfg_name(entry)
    if cfg is None:
        raise ModelError(
            f"--pretrained: Brevitas publishes no trained weights for {entry.name!r}; models "
            f"with published weights: {', '.join(published_models())} (or train one with "
            f"`bitfab train {entry.name} --data ...` and pass --checkpoint)"
        )
    from brevitas_examples.bnn_pynq.models import get_model_cfg

    url = get_model_cfg(cfg).get("MODEL", "PRETRAINED_URL")
    return PretrainedFile(entry.name, cfg, url, hub_cache_path(url))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def load_pretrained(entry: ZooModel) -> tuple[nn.Module, dict]:
    """``entry`` with Brevitas' published weights, in eval mode, and their provenance.

    The provenance (for the build manifest): ``url``, ``file`` (the cache path read), its
    ``sha256``, and ``matches_published_name``: whether that sha256 starts with the hash in the
    published file name (a file placed by hand that is not the published one is loaded, with a
    warning, and recorded as such). Raises :class:`ModelError` when the model has no published
    weights, the file is neither cached nor downloadable, or the cached file does not load.
    """
    pf = pretrained_file(entry)
    from brevitas_examples.bnn_pynq.models import model_with_cfg

    fix = (
        f"download the file on a machine that is online and place it at {pf.cache_path} "
        "(that directory follows TORCH_HOME), then run again"
    )
    try:
        # torch.hub announces a download on stdout; the CLI's stdout is for results
        with torch.random.fork_rng(devices=[]), contextlib.redirect_stdout(sys.stderr):
            model, _ = model_with_cfg(pf.cfg, pretrained=True)
    except urllib.error.URLError as exc:
        raise ModelError(
            f"{entry.name}: Brevitas' published weights {pf.url} are not in the torch.hub "
            f"cache and cannot be downloaded ({exc.reason}); {fix}"
        ) from exc
    except (TimeoutError, ConnectionError) as exc:
        raise ModelError(
            f"{entry.name}: downloading {pf.url} to {pf.cache_path} failed ({exc}); {fix}"
        ) from exc
    # what torch.load and a strict load_state_dict raise for a truncated, foreign or
    # mismatched file
    except (RuntimeError, EOFError, KeyError, pickle.UnpicklingError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise ModelError(
            f"{pf.cache_path}: cannot load it as {entry.name}'s published weights "
            f"({type(exc).__name__}: {first}); delete it and run again online, or put the "
            f"file from {pf.url} there"
        ) from exc
    model.eval()
    sha = _sha256(pf.cache_path)
    prefix = pf.published_hash_prefix
    matches = prefix is not None and sha.startswith(prefix)
    if not matches:
        log.warning(
            "%s: sha256 %s does not start with %s from the published file name; these are "
            "not the weights Brevitas published at %s",
            pf.cache_path,
            sha[:16],
            prefix,
            pf.url,
        )
    info = {
        "source": "brevitas_examples.bnn_pynq",
        "url": pf.url,
        "file": str(pf.cache_path),
        "sha256": sha,
        "matches_published_name": matches,
    }
    log.info("loaded %s's published weights from %s", entry.name, pf.cache_path)
    return model, info
