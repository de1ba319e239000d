"""The ordered build steps. Each saves its model and artifacts; manifest.json comes last.

A build directory without manifest.json, or whose manifest says a step failed, is never a
finished build. The manifest is written atomically (temp file + rename).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import io
import json
import logging
import os
import platform
import random
import shutil
import zipfile
from collections.abc import Callable
from dataclasses import asdict, dataclass
from importlib import metadata
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper
from qonnx.transformation.general import GiveUniqueNodeNames

import boards.driver
from boards._zynq import Board
from boards.deploy import deploy_readme
from boards.driver.accelerator import ACCEL_FORMAT
from boards.driver.packing import image_bytes
from boards.registry import get_board
from boards.vivado import DMA_IN, DMA_LENGTH_BITS, DMA_OUT, N_IMAGES_OFFSET, ip_cell
from flows import report as report_mod
from flows.codegen.backends import BACKENDS
from flows.codegen.design import Design, build_design
from flows.config import BuildConfig, LabelSelectMode
from flows.errors import BitfabError, InputError, Interrupted
from flows.estimate import Budget
from flows.fold import apply_fifo_depths, apply_folding, fold, folding_config, read_folding_file
from flows.frontend import import_model, load_model
from flows.layers.dwc.insert import InsertDWC
from flows.layers.registry import KINDS
from flows.partition import Partition, split
from flows.passes.absorb_into_thresholds import AbsorbIntoThresholds
from flows.passes.absorb_relu_into_thresholds import AbsorbReluIntoThresholds
from flows.passes.conv1d_as_conv2d import Conv1dAsConv2d
from flows.passes.fold_constant_quants import FoldConstantQuants
from flows.passes.infer_dataflow_layers import InferDataflowLayers
from flows.passes.infer_shapes import InferShapes
from flows.passes.input_quant_to_thresholds import InputQuantToThresholds
from flows.passes.insert_topk import InsertTopK
from flows.passes.integer_residual_add import IntegerResidualAdd
from flows.passes.label_select_in_hardware import LabelSelectInHardware
from flows.passes.lower_avg_pool import LowerAveragePool
from flows.passes.lower_conv import LowerConvToMatMul
from flows.passes.quantize_input_fixed import FixedPoint
from flows.passes.remove_scale_round_trips import RemoveScaleRoundTrips
from flows.passes.set_fifo_depths import SetFifoDepths
from flows.passes.streamline_transposes import (
    AbsorbTransposeIntoFlatten,
    CancelTransposes,
    MaxPoolToNHWC,
)
from flows.progress import SILENT, Progress
from flows.sim.csim import compile_csim

log = logging.getLogger(__name__)
MANIFEST = "manifest.json"
# Written first into every build directory: a non-empty directory without it is someone
# else's, and a build never writes (or deletes) anything in it.
MARKER = ".bitfab-build"
FORMAT_VERSION = ACCEL_FORMAT  # one number for the build directory and its accel.json
PACKAGES = ["bitfab", "qonnx", "brevitas", "onnx", "onnxruntime", "numpy", "torch", "hls4ml"]


@dataclass
class BuildContext:
    """State shared by the steps (paths, models, artifacts), keyed by name, not in the IR."""

    cfg: BuildConfig
    out: Path
    source: Path
    board: Board
    model: ModelWrapper | None = None
    partition: Partition | None = None
    design: Design | None = None
    csim_lib: Path | None = None
    folding: dict | None = None
    verification: dict | None = None
    progress: Progress = SILENT


def _save(ctx: BuildContext, idx: int, name: str, model: ModelWrapper) -> None:
    steps = ctx.out / "steps"
    steps.mkdir(parents=True, exist_ok=True)
    model.save(str(steps / f"{idx:02d}_{name}.onnx"))


def step_import(ctx: BuildContext) -> None:
    fixed = FixedPoint.parse(ctx.cfg.input_fixed) if ctx.cfg.input_fixed else None
    ctx.model = import_model(ctx.source, fixed)
    if ctx.cfg.label_select == LabelSelectMode.HARDWARE:  # the output becomes the class index
        ctx.model = ctx.model.transform(InsertTopK()).transform(InferShapes())
    ctx.model.save(str(ctx.out / "reference.onnx"))


def step_integerize(ctx: BuildContext) -> None:
    m = ctx.model.transform(FoldConstantQuants()).transform(Conv1dAsConv2d())
    m = m.transform(LowerConvToMatMul()).transform(InferShapes())
    m = m.transform(GiveUniqueNodeNames())  # qonnx's lowering leaves its new nodes unnamed
    m = m.transform(AbsorbIntoThresholds())
    m = m.transform(InputQuantToThresholds())
    m = m.transform(LowerAveragePool())
    m = m.transform(IntegerResidualAdd())
    m = m.transform(RemoveScaleRoundTrips()).transform(AbsorbReluIntoThresholds())
    m = m.transform(CancelTransposes()).transform(MaxPoolToNHWC())
    m = m.transform(AbsorbTransposeIntoFlatten())
    if ctx.cfg.label_select != LabelSelectMode.HOST:
        force = ctx.cfg.label_select == LabelSelectMode.HARDWARE
        m = m.transform(LabelSelectInHardware(force=force))
    ctx.model = m


def step_dataflow(ctx: BuildContext) -> None:
    m = ctx.model.transform(InferDataflowLayers())
    for kind in KINDS:
        for pass_ in kind.passes:
            m = m.transform(pass_())
    ctx.model = m


def step_partition(ctx: BuildContext) -> None:
    ctx.partition = split(ctx.model, str(ctx.source))
    ctx.partition.dataflow.save(str(ctx.out / "dataflow.onnx"))


def edge_floor(df: ModelWrapper, board: Board) -> int:
    """Cycles per image the DMA edge needs whatever the folding: one beat a cycle, each side's
    tensor packed into the fewest beats (one word of every field)."""
    beats = []
    for tensor in (df.graph.input[0], df.graph.output[0]):
        bits = df.get_tensor_datatype(tensor.name).bitwidth()
        nbytes = -(-int(np.prod(df.get_tensor_shape(tensor.name))) * bits // 8)
        beats.append(image_bytes(1, nbytes, board.hp_port_bits) * 8 // board.hp_port_bits)
    return max(beats)


def step_fold(ctx: BuildContext) -> None:
    """Folding, width converters, FIFO depths; folding.json records all of it."""
    df = ctx.partition.dataflow
    layers = read_folding_file(ctx.cfg.folding) if ctx.cfg.folding is not None else None
    if layers is not None:
        apply_folding(df, layers, ctx.cfg.folding)
    else:
        budget = Budget(ctx.board.budget(), ctx.cfg.budget, ctx.board.shell.resources())
        floor = edge_floor(df, ctx.board)
        fold(df, ctx.cfg.clock_mhz, ctx.cfg.target_fps, budget, floor, ctx.board.hp_port_bits)
    df = df.transform(InsertDWC())
    if layers is not None:
        apply_fifo_depths(df, layers, ctx.cfg.folding)
    df = df.transform(SetFifoDepths())
    ctx.folding = folding_config(df)
    (ctx.out / "folding.json").write_text(json.dumps(ctx.folding, indent=2) + "\n")
    ctx.partition.dataflow = df
    ctx.model = df


def step_codegen(ctx: BuildContext) -> None:
    """Every backend that has a kernel for every layer renders the design into its directory
    (a plug-in kind may come with an HLS kernel only: its builds then have no rtl/)."""
    ctx.design = build_design(ctx.partition.dataflow)
    for backend in BACKENDS.values():
        out = ctx.out / backend.name
        if out.exists():
            shutil.rmtree(out)
        lacking = sorted({x.kind.op_type for x in ctx.design.layers} - _kinds_with(backend.name))
        if lacking:
            log.warning("no %s backend: no %s kernel for %s", backend.name, backend.name, lacking)
            continue
        out.mkdir(parents=True)
        backend.render(ctx.design, out, ctx.cfg.model, ctx.board.hp_port_bits)


def _kinds_with(backend: str) -> set[str]:
    return {k.op_type for k in KINDS if backend in k.backends}


def step_csim(ctx: BuildContext) -> None:
    ctx.csim_lib = compile_csim(ctx.out / "hls", ctx.out / "sim")


def step_deploy(ctx: BuildContext) -> None:
    """The driver package and accel.json: everything the host needs to run the design."""
    dep = ctx.out / "deploy"
    if dep.exists():
        shutil.rmtree(dep)
    driver_src = Path(boards.driver.__file__).parent
    shutil.copytree(driver_src, dep / "driver", ignore=shutil.ignore_patterns("__pycache__"))
    p = ctx.partition
    ref = ModelWrapper(str(ctx.out / "reference.onnx"))
    iname = ref.graph.input[0].name
    consts = {f"h:{k}": v for k, v in p.head.consts.items()}
    consts.update({f"t:{k}": v for k, v in p.tail.consts.items()})
    save_npz_reproducible(dep / "host_consts.npz", consts)
    d = ctx.design
    cfg = {
        "format": ACCEL_FORMAT,
        "model": ctx.cfg.model,
        "board": ctx.board.name,
        "clock_mhz": ctx.cfg.clock_mhz,
        "input_shape": [int(s) for s in ref.get_tensor_shape(iname)],
        "input_dtype": "float32",
        "output_shape": [int(s) for s in ref.get_tensor_shape(ref.graph.output[0].name)],
        "stream_in": asdict(d.input),
        "stream_out": asdict(d.output),
        "head": p.head.to_json(),
        "tail": p.tail.to_json(),
        "host_consts": "host_consts.npz",
        "csim_library": str(ctx.csim_lib.resolve().relative_to(ctx.out.resolve()))
        if ctx.csim_lib
        else None,
        "dma": {
            "input": DMA_IN,
            "output": DMA_OUT,
            "beat_bits": ctx.board.hp_port_bits,
            "ip": ip_cell(),
            "n_images_offset": N_IMAGES_OFFSET,
            "max_transfer_bytes": (1 << DMA_LENGTH_BITS) - 1,
        },
        "bitfile": "bitfab.bit",  # deploy/bitfab.bit + bitfab.hwh once `bitfab bitstream` ran
    }
    (dep / "accel.json").write_text(json.dumps(cfg, indent=2, sort_keys=True) + "\n")
    (dep / "README").write_text(deploy_readme(ctx.board))


def step_verify(ctx: BuildContext) -> None:
    if ctx.cfg.verify_n > 0:
        from flows.verify import verify_build

        ctx.verification = verify_build(
            ctx.out, ctx.cfg.verify_n, seed=ctx.cfg.seed, progress=ctx.progress
        )


def step_report(ctx: BuildContext) -> None:
    report_mod.write_report(ctx, _versions())


STEPS: list[tuple[str, Callable[[BuildContext], None]]] = [
    ("import", step_import),
    ("integerize", step_integerize),
    ("dataflow", step_dataflow),
    ("partition", step_partition),
    ("fold", step_fold),
    ("codegen", step_codegen),
    ("csim", step_csim),
    ("deploy", step_deploy),
    ("verify", step_verify),
    ("report", step_report),
]
STEP_NAMES = [n for n, _ in STEPS]
SAVES_MODEL = {"import", "integerize", "dataflow", "fold"}


def save_npz_reproducible(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Like ``np.savez``, but byte-identical for the same arrays.

    ``np.savez`` stamps every member with the current time; here members are sorted, stored
    and dated 1980-01-01, so only the data decides the bytes. ``np.load`` reads it as usual.
    """
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name in sorted(arrays):
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(arrays[name]), allow_pickle=False)
            zf.writestr(
                zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0)), buf.getvalue()
            )


@contextlib.contextmanager
def _deterministic_names(seed: int):
    """qonnx names new tensors with Python's global ``random``; seed it for the build so the
    same inputs give the same names (and byte-identical files), then restore the caller's state."""
    state = random.getstate()
    random.seed(f"bitfab-build-{seed}")
    try:
        yield
    finally:
        random.setstate(state)


def _versions() -> dict:
    out = {}
    for p in PACKAGES:
        try:
            out[p] = metadata.version(p)
        except metadata.PackageNotFoundError:
            out[p] = None
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_manifest(out: Path, data: dict) -> None:
    tmp = out / f".{MANIFEST}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
    tmp.replace(out / MANIFEST)


def resolve_source(
    cfg: BuildConfig, scratch: Path, progress: Progress = SILENT
) -> tuple[Path, str, dict | None]:
    """A zoo name is exported to QONNX first; a path is used as it is. The third value says
    where pretrained weights came from (URL, file, sha256), for the manifest."""
    p = Path(cfg.model)
    if cfg.source is not None:
        load_model(cfg.source)  # a ModelFileError naming the file if it is unreadable
        return Path(cfg.source), p.stem if cfg.model.endswith(".onnx") else cfg.model, None
    if cfg.model.endswith(".onnx") or p.exists():
        if cfg.pretrained:
            raise InputError(
                f"--pretrained loads Brevitas' published weights into a zoo model; {cfg.model} "
                "is a model file and keeps its own weights: drop --pretrained"
            )
        load_model(p)  # raises a ModelFileError naming the file if it is missing or unreadable
        return p, p.stem, None
    from models.checkpoint import load_checkpoint
    from models.export import export_qonnx_model
    from models.zoo import get_model

    entry = get_model(cfg.model)
    src = scratch / "source.onnx"
    if cfg.pretrained and cfg.checkpoint is not None:
        raise InputError(
            f"{cfg.model}: --pretrained and --checkpoint {cfg.checkpoint} both give the "
            "weights; pass one of them"
        )
    if cfg.pretrained:
        from models.pretrained import load_pretrained

        model, info = load_pretrained(entry)
        weights = f"pretrained (Brevitas, {info['url']}, sha256 {info['sha256']})"
        progress.note("build", f"exporting {cfg.model} to QONNX")
        export_qonnx_model(entry, src, model=model, trained=True, weights=weights)
        return src, cfg.model, info
    if cfg.checkpoint is not None:
        model, _ = load_checkpoint(entry, cfg.checkpoint)
        progress.note("build", f"exporting {cfg.model} to QONNX")
        export_qonnx_model(entry, src, model=model, trained=True)
    else:
        progress.note("build", f"exporting {cfg.model} to QONNX")
        export_qonnx_model(entry, src, seed=cfg.seed, trained=False)
    return src, cfg.model, None


def run_build(cfg: BuildConfig, progress: Progress = SILENT) -> Path:
    """Run the steps; returns the build directory. Raises BitfabError on user errors.
    ``progress`` shows the steps and the loops inside them (the command line's display)."""
    board = get_board(cfg.board)
    board.check_clock(cfg.clock_mhz)
    for s in (cfg.from_step, cfg.to_step):
        if s is not None and s not in STEP_NAMES:
            raise InputError(f"unknown step '{s}'; steps: {', '.join(STEP_NAMES)}")
    name = Path(cfg.model).stem if cfg.model.endswith(".onnx") else cfg.model
    out = Path(cfg.out) if cfg.out else Path("build") / f"{name}-{board.name}"
    claim_output_dir(out)
    before = _old_inputs(out)
    (out / MANIFEST).unlink(missing_ok=True)  # from here on the directory is unfinished
    if _resumes_zoo_build(cfg, out):
        # the steps resumed from were made from this export: exporting again (minutes for a
        # MobileNet, on every FIFO-sizing rebuild) could only disagree with them
        src, pretrained = out / "source.onnx", before.get("pretrained")
    else:
        src, _, pretrained = resolve_source(cfg, out, progress)
    ctx = BuildContext(cfg=cfg, out=out, source=src, board=board, progress=progress)
    status = {}
    manifest = {
        "format": FORMAT_VERSION,
        "config": cfg.to_json(),
        "versions": _versions(),
        "inputs": {"model_sha256": _sha256(src)}
        | ({"pretrained": pretrained} if pretrained else {}),
        "created": datetime.datetime.now(datetime.UTC).isoformat(),
        "host": platform.node(),
        "steps": status,
    }
    stop = STEP_NAMES.index(cfg.to_step) if cfg.to_step else len(STEPS) - 1
    start = _resume(ctx, cfg.from_step) if cfg.from_step else 0
    sname = STEP_NAMES[start]
    try:
        first = f"running {STEP_NAMES[start]}"  # the steps this run does (not those reused)
        steps = progress.task("build", stop + 1 - start, "steps", every=True, what=first)
        with _deterministic_names(cfg.seed), steps:
            for i, (sname, fn) in enumerate(STEPS[: stop + 1]):
                if i < start:
                    status[sname] = "reused"
                    continue
                log.info("step %02d %s", i + 1, sname)
                steps.update(i - start, what=f"running {sname}")
                fn(ctx)
                if sname in SAVES_MODEL and ctx.model is not None:
                    _save(ctx, i + 1, sname, ctx.model)
                status[sname] = "done"
            steps.update(stop + 1 - start, what="")
    except (BitfabError, Interrupted) as exc:
        status[sname] = "failed" if isinstance(exc, BitfabError) else "interrupted"
        manifest["status"] = status[sname]
        write_manifest(out, manifest)
        raise
    manifest["status"] = "done" if stop == len(STEPS) - 1 else f"stopped after {STEP_NAMES[stop]}"
    if ctx.verification is not None:
        manifest["verification"] = {k: ctx.verification[k] for k in ("n", "status")}
    write_manifest(out, manifest)
    return out


def _old_inputs(out: Path) -> dict:
    """The ``inputs`` of the manifest a previous build left in ``out`` (empty if none)."""
    try:
        return json.loads((out / MANIFEST).read_text()).get("inputs", {})
    except (OSError, ValueError, AttributeError):
        return {}


def _resumes_zoo_build(cfg: BuildConfig, out: Path) -> bool:
    """A zoo model's build resumed after its import step, with its export still there."""
    is_file = cfg.model.endswith(".onnx") or Path(cfg.model).exists()
    after_import = cfg.from_step is not None and STEP_NAMES.index(cfg.from_step) > 0
    return not is_file and after_import and (out / "source.onnx").is_file()


def claim_output_dir(out: Path, marker: str = MARKER, what: str = "build") -> None:
    """Create ``out`` or reuse it if it is a bitfab ``what`` directory (it holds ``marker``);
    refuse anything else."""
    if out.exists() and not out.is_dir():
        raise InputError(f"{out}: exists and is not a directory; choose another --out")
    if out.is_dir() and any(out.iterdir()) and not (out / marker).exists():
        raise InputError(
            f"{out}: exists, is not empty and is not a bitfab {what} directory (no {marker}); "
            "choose another --out or empty it"
        )
    out.mkdir(parents=True, exist_ok=True)
    (out / marker).write_text(f"bitfab {what} directory\n")


def _resume(ctx: BuildContext, from_step: str) -> int:
    """Load the newest saved model before ``from_step``; return the index to run from.

    Steps between that model and ``from_step`` that save nothing (e.g. partition) are cheap
    and run again, so the state they produce is always consistent with the saved model.
    """
    want = STEP_NAMES.index(from_step)
    saved = [i for i, n in enumerate(STEP_NAMES) if n in SAVES_MODEL and i < want]
    if not saved:
        return 0
    i = saved[-1]
    path = ctx.out / "steps" / f"{i + 1:02d}_{STEP_NAMES[i]}.onnx"
    if not path.exists() or not (ctx.out / "reference.onnx").exists():
        raise InputError(
            f"{ctx.out}: cannot start from step '{from_step}': {path.name} is "
            "missing; run the whole build once first"
        )
    if STEP_NAMES[i] == "fold":  # the folded model is the dataflow partition; redo from it
        i = STEP_NAMES.index("dataflow")
        path = ctx.out / "steps" / f"{i + 1:02d}_dataflow.onnx"
    ctx.model = ModelWrapper(str(path))
    return i + 1


def check_finished(build_dir: Path) -> dict:
    """The manifest of a finished build, or an InputError saying why it is not one."""
    d = Path(build_dir)
    m = d / MANIFEST
    if not d.is_dir():
        raise InputError(f"{d}: no such build directory; run `bitfab build` first")
    if not m.exists():
        raise InputError(
            f"{d}: no {MANIFEST}: the build is unfinished or was interrupted; "
            "run `bitfab build` again"
        )
    try:
        data = json.loads(m.read_text())
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise InputError(f"{m}: unreadable manifest; rebuild") from None
    if not isinstance(data, dict) or not (d / MARKER).exists():
        raise InputError(f"{d}: not a bitfab build directory (no {MARKER}); run `bitfab build`")
    if data.get("format") != FORMAT_VERSION:
        raise InputError(
            f"{d}: built by another bitfab version (format {data.get('format')}, "
            f"expected {FORMAT_VERSION}); rebuild it"
        )
    if data.get("status") != "done":
        raise InputError(
            f"{d}: the build did not finish (status: {data.get('status')}); rebuild it"
        )
    return data
