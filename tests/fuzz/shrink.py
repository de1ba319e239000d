"""Shrink a failing spec to a small one that fails the same way, and make it a regression.

Greedy to a fixpoint: propose simpler variants of the spec (drop a layer, fewer channels,
smaller kernels, narrower or plainer quantizers, no BN/bias/preprocessing/tail, ...), keep the
first one whose outcome has the same signature, and start over from it. Every candidate is
strictly smaller by ``cost``, so the loop ends; ``max_tries`` bounds the builds.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from tests.fuzz.builder import build_model
from tests.fuzz.runner import Outcome
from tests.fuzz.spec import (
    LayerSpec,
    NetSpec,
    QuantSpec,
    after_avgpool,
    avg_window,
    bipolar_out,
    conv_out,
    residual_fits,
    trunc_in_bits,
)

log = logging.getLogger(__name__)
REGRESSIONS = Path(__file__).resolve().parent / "regressions"
PLAIN_W = QuantSpec(4, True, True, True)
PLAIN_A = QuantSpec(4, False, False, True)
PLAIN_IN = QuantSpec(8, True, False, True)


def _qcost(q: QuantSpec | None) -> int:
    if q is None:
        return 0
    rounding = int(q.rounding.upper() != "ROUND")  # a Trunc's "round" is ROUND too
    return q.bits + int(q.narrow) + int(not q.pow2) + rounding + int(q.signed)


def cost(spec: NetSpec) -> int:
    """A size measure every shrinking step strictly decreases."""
    c = sum(spec.input_shape) + _qcost(spec.iq) + 3 * int(spec.int_input)
    c += 2 * int(spec.preproc != "none") + 2 * int(spec.tail != "none") + spec.topk
    for lay in spec.layers:
        c += 20 + lay.out + 2 * lay.kernel + lay.stride + lay.pad + int(lay.gemm)
        c += _qcost(lay.wq) + _qcost(lay.aq) + int(lay.per_channel) + 2 * int(lay.bn)
        c += 2 * int(lay.bias != "none") + 2 * int(lay.pool)
        c += {"none": 0, "quant": 1, "relu_quant": 2, "quant_relu": 3}[lay.act]
        c += int(lay.depthwise)
        if lay.avgpool != "none":
            c += 3 + lay.avg_kernel + lay.avg_stride + int(lay.avg_op == "ReduceMean")
            c += _qcost(lay.avg_q)
    return c


def _quant_variants(q: QuantSpec, plain: QuantSpec, act: bool) -> Iterator[QuantSpec]:
    yield plain
    if q.rounding != "ROUND":
        yield dataclasses.replace(q, rounding="ROUND")
    if not q.pow2:
        yield dataclasses.replace(q, pow2=True)
    if q.narrow:
        yield dataclasses.replace(q, narrow=False)
    if q.bits > 2:
        yield dataclasses.replace(q, bits=q.bits - 1)
        yield dataclasses.replace(q, bits=2)
    if q.signed and q.bits > 1 and act:
        yield dataclasses.replace(q, signed=False)


def _layer_variants(lay: LayerSpec, last: bool) -> Iterator[LayerSpec]:
    r = dataclasses.replace
    if lay.avgpool != "none":
        yield from _avgpool_variants(lay)
    # a depthwise or residual conv has its input's channels (``sync_channels``)
    if not (lay.depthwise or lay.residual):
        for out in sorted({1 if lay.kind == "conv" else 2, lay.out // 2, lay.out - 1}):
            if 1 <= out < lay.out and (out >= 2 or lay.kind == "conv"):
                yield r(lay, out=out)
    if lay.kind == "conv":
        if lay.residual and lay.kernel > 1:  # a residual conv keeps its input's shape
            yield r(lay, kernel=1, pad=0)
        if lay.kernel > 1:
            yield r(lay, kernel=1)
            yield r(lay, kernel=lay.kernel - 1)
        if lay.stride > 1:
            yield r(lay, stride=1)
        if lay.pad:
            yield r(lay, pad=0)
        if lay.pool:
            yield r(lay, pool=False)
    if lay.gemm:
        yield r(lay, gemm=False)
    if lay.bn:
        yield r(lay, bn=False)
    if lay.bias != "none":
        yield r(lay, bias="none")
    if lay.per_channel:
        yield r(lay, per_channel=False)
    for q in _quant_variants(lay.wq, PLAIN_W, act=False):
        yield r(lay, wq=q)
    if lay.aq is not None:
        if last:
            yield r(lay, act="none", aq=None, bn=False, pool=False)
        if lay.act in ("relu_quant", "quant_relu"):
            yield r(lay, act="quant")
        for q in _quant_variants(lay.aq, PLAIN_A, act=True):
            yield r(lay, aq=q)


def _avgpool_variants(lay: LayerSpec) -> Iterator[LayerSpec]:
    r = dataclasses.replace
    yield r(lay, avgpool="none", avg_op="AveragePool", avg_kernel=0, avg_stride=0, avg_q=None)
    if lay.avg_op == "ReduceMean":
        yield r(lay, avg_op="GlobalAveragePool")
    if lay.avg_kernel > 1:
        yield r(lay, avg_kernel=lay.avg_kernel - 1, avg_stride=min(lay.avg_stride, 1))
    if lay.avg_stride > 1:
        yield r(lay, avg_stride=1)
    for q in _quant_variants(lay.avg_q, PLAIN_A, act=True):
        yield r(lay, avg_q=q)


def sync_channels(spec: NetSpec) -> NetSpec:
    """``spec`` with every depthwise and residual conv's ``out`` set to its input's channels
    (what the builder needs), after a shrinking step changed the channels before it."""
    if len(spec.input_shape) != 3:
        return spec
    ch, layers = spec.input_shape[0], []
    for lay in spec.layers:
        if lay.kind == "conv" and (lay.depthwise or lay.residual) and lay.out != ch:
            lay = dataclasses.replace(lay, out=ch)
        layers.append(lay)
        ch = lay.out
    return dataclasses.replace(spec, layers=tuple(layers))


def candidates(spec: NetSpec) -> Iterator[NetSpec]:
    """Simpler variants of ``spec``, the boldest first, each once and none equal to it."""
    seen = {spec}
    for c in map(sync_channels, _raw_candidates(spec)):
        if c not in seen:
            seen.add(c)
            yield c


def _raw_candidates(spec: NetSpec) -> Iterator[NetSpec]:
    r = dataclasses.replace
    layers = spec.layers
    for i in range(len(layers)):
        if len(layers) > 1:
            rest = layers[:i] + layers[i + 1 :]
            if i == len(layers) - 1:  # the new last layer keeps its activation
                rest = rest[:-1] + (r(rest[-1], pool=False),)
            yield r(spec, layers=rest, tail=_tail_for(rest, spec.tail))
    if spec.tail != "none":
        yield r(spec, tail="none", topk=1)
    if spec.topk > 1:
        yield r(spec, topk=1)
    if spec.int_input:
        yield r(spec, int_input=False)
    if spec.preproc != "none":
        yield r(spec, preproc="none")
    shape = spec.input_shape
    for j, d in enumerate(shape):
        lo = 1 if (j == 0 and len(shape) == 3) else 2
        for nd in sorted({lo, d // 2, d - 1}):
            if lo <= nd < d:
                yield r(spec, input_shape=shape[:j] + (nd,) + shape[j + 1 :])
    for q in _quant_variants(spec.iq, PLAIN_IN, act=False):
        yield r(spec, iq=q)
    for i, lay in enumerate(layers):
        for v in _layer_variants(lay, i == len(layers) - 1):
            yield r(spec, layers=layers[:i] + (v,) + layers[i + 1 :])


def _tail_for(layers: tuple[LayerSpec, ...], tail: str) -> str:
    return tail if layers[-1].kind == "fc" or tail in ("none", "muladd") else "none"


def valid(spec: NetSpec) -> bool:
    """Whether the spec is still one the generator could draw (shapes fit, no bipolar pad,
    residual blocks keep their input's shape, depthwise weights not bipolar, average pools
    where the compiler's documented limits allow them)."""
    if len(spec.input_shape) == 1 and any(lay.kind == "conv" for lay in spec.layers):
        return False
    kinds = [lay.kind for lay in spec.layers]
    if kinds != sorted(kinds, key=lambda k: k != "conv"):
        return False  # a conv after an FC
    if spec.layers[-1].pool:
        return False
    if any(lay.kind != "conv" and (lay.depthwise or lay.avgpool != "none") for lay in spec.layers):
        return False
    if spec.tail in ("topk", "argmax", "softmax") and spec.layers[-1].kind != "fc":
        return False
    if len(spec.input_shape) == 3:
        h, w = spec.input_shape[1:]
        prev = None
        for lay in spec.layers:
            if lay.kind != "conv":
                break
            if lay.pad and bipolar_out(prev, spec.iq):
                return False
            if lay.kernel > min(h, w) + 2 * lay.pad:
                return False
            if min(h, w) == 1 and (lay.kernel > 1 or lay.pad):
                return False
            if lay.depthwise and (lay.wq.bipolar or lay.residual):
                return False
            if lay.residual and not (
                residual_fits(prev, lay) and lay.stride == 1 and lay.kernel == 2 * lay.pad + 1
            ):
                return False
            h, w = (
                conv_out(h, lay.kernel, lay.stride, lay.pad),
                conv_out(w, lay.kernel, lay.stride, lay.pad),
            )
            if lay.pool:
                if min(h, w) < 2:
                    return False
                h, w = h // 2, w // 2
            if lay.avgpool != "none":
                q, k = lay.avg_q, avg_window(lay, h, w)[0]
                if lay.aq is None or lay.aq.bipolar or lay.pool or q is None or q.bipolar:
                    return False
                if lay.avg_global and h != w:
                    return False
                if not lay.avg_global and not (1 <= lay.avg_kernel <= min(h, w)):
                    return False
                if not lay.avg_global and lay.avg_stride < 1:
                    return False
                if lay.avgpool == "trunc" and q.bits > trunc_in_bits(lay.aq, k):
                    return False
                h, w = after_avgpool(lay, h, w)
            prev = lay
    return True


def shrink(
    spec: NetSpec, run: Callable[[NetSpec], Outcome], target: str, max_tries: int = 150
) -> tuple[NetSpec, Outcome | None, int]:
    """Greedy shrinking. ``run`` builds and verifies a spec; ``target`` is the signature to
    keep. Returns the smallest spec found, its outcome, and the number of builds tried."""
    best, best_out, tries = spec, None, 0
    progress = True
    while progress and tries < max_tries:
        progress = False
        for cand in candidates(best):
            if cost(cand) >= cost(best) or not valid(cand):
                continue
            tries += 1
            out = run(cand)
            if out.signature == target:
                log.info("shrunk to cost %d (%d tries)", cost(cand), tries)
                best, best_out, progress = cand, out, True
                break
            if tries >= max_tries:
                break
    return best, best_out, tries


def slug(signature: str) -> str:
    """``crash:KeyError:flows/x.py:fn`` -> ``crash-keyerror-fn``; ``mismatch:csim`` ->
    ``mismatch-csim``."""
    parts = signature.split(":")
    if parts[0] == "crash" and len(parts) >= 4:
        parts = [parts[0], parts[1], parts[-1]]
    s = re.sub(r"[^A-Za-z0-9_]+", "-", "-".join(parts)).strip("-").lower()
    return s[:48] or "fail"


@dataclass(frozen=True)
class Regression:
    """A shrunk failure's two files as data: ``<stem>.onnx`` and ``<stem>.json`` (seed, spec,
    what failed). Made where the net failed, written where the regressions live (with Ray the
    two are different machines)."""

    stem: str
    onnx: bytes = field(repr=False)
    meta: str

    def write(self, root: Path = REGRESSIONS) -> Path:
        """Write both files under ``root`` (created); the .onnx's path."""
        root.mkdir(parents=True, exist_ok=True)
        onnx_path = root / f"{self.stem}.onnx"
        onnx_path.write_bytes(self.onnx)
        (root / f"{self.stem}.json").write_text(self.meta)
        return onnx_path


def regression(spec: NetSpec, outcome: Outcome, original_seed: int) -> Regression:
    """``spec`` (which fails as ``outcome`` says) as net ``original_seed``'s regression."""
    meta = {
        "seed": original_seed,
        "signature": outcome.signature,
        "detail": outcome.detail[-1500:],
        "spec": spec.to_json(),
    }
    return Regression(
        stem=f"{original_seed}-{slug(outcome.signature)}",
        onnx=build_model(spec).model.SerializeToString(),
        meta=json.dumps(meta, indent=2) + "\n",
    )
