"""The ``bitfab`` command line. Errors print one message (no traceback) and set the exit code:
0 done, 1 bad input, 2 a tool missing or failing, 3 verification mismatch.

Progress goes to stderr (flows/progress.py: bars on a terminal, plain timestamped lines
otherwise); results go to stdout. The commands that end in a summary (build, verify, rtlsim,
synth, run, eval) take ``--quiet`` (no progress; warnings and errors still print) and
``--json``: stdout then carries exactly one JSON object, the summary, and nothing else. On an
error the object is ``{"error": MESSAGE, "exit_code": CODE}`` merged into whatever summary
the command had (``verify`` exiting 3 still gives its ``verification``); the message also goes
to stderr as usual, with the same exit code. Usage errors stay click's (stderr, exit 2).

A command may run in-process (tests call ``main`` through click's ``CliRunner``): everything it
changes for its duration (signal handlers, the root logger) is put back when it returns."""

from __future__ import annotations

import contextlib
import json
import logging
import signal
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import NoReturn

import click
import numpy as np

from flows.config import LabelSelectMode
from flows.errors import InputError, Interrupted, VerificationError

_QUIET, _JSON, _SUMMARY = "bitfab.quiet", "bitfab.json", "bitfab.summary"


def _fail(ctx: click.Context, msg: str, code: int) -> NoReturn:
    click.echo(f"error: {msg}", err=True)
    if ctx.meta.get(_JSON):
        _echo_json({**ctx.meta.get(_SUMMARY, {}), "error": msg, "exit_code": code})
    sys.exit(code)


def _echo_json(obj: dict) -> None:
    def plain(v):  # numpy scalars and arrays, paths
        return v.tolist() if hasattr(v, "tolist") else str(v)

    click.echo(json.dumps(obj, default=plain))


def _raise_interrupted(signum, _frame) -> None:
    raise Interrupted(signum)


@contextlib.contextmanager
def _interrupt_on_signals() -> Iterator[None]:
    """SIGTERM and Ctrl-C raise ``Interrupted`` while the command runs; the caller's handlers
    are restored afterwards. (Python can only install handlers from the main thread.)"""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    for s in previous:
        signal.signal(s, _raise_interrupted)
    try:
        yield
    finally:
        for s, handler in previous.items():
            # None: a handler not installed from Python; the default is the closest we can set
            signal.signal(s, signal.SIG_DFL if handler is None else handler)


@contextlib.contextmanager
def _log_to_stderr(verbose: bool) -> Iterator[None]:
    """Log records to stderr while the command runs, then remove the handler and restore the
    root level (``logging.basicConfig`` would leave both behind, bound to this call's stderr)."""
    root = logging.getLogger()
    handler = _StderrHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.INFO if verbose else logging.WARNING)
    try:
        yield
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


class _StderrHandler(logging.StreamHandler):
    """Writes to ``sys.stderr`` as it is at each record: while rich's bars run, that is their
    redirection, which prints the record above the bars instead of through them."""

    @property
    def stream(self):
        return sys.stderr

    @stream.setter
    def stream(self, _value) -> None:
        pass


class _Cli(click.Group):
    def invoke(self, ctx):
        # SIGTERM and Ctrl-C stop the steps through one exception, so a build can mark its
        # directory unfinished on the way out (SIGKILL cannot be caught; the directory then
        # simply has no manifest, which is just as unfinished).
        with _interrupt_on_signals():
            try:
                rv = super().invoke(ctx)
            except Interrupted as exc:
                _fail(
                    ctx,
                    f"{exc}; nothing was left looking finished, run the command again",
                    128 + exc.signum,
                )
            except (click.ClickException, click.exceptions.Exit):
                raise  # usage errors and --help: click reports them itself
            except Exception as exc:
                # A user-facing error carries its exit code: BitfabError and its subclasses,
                # and BoardError, ModelError, DriverError from the packages that cannot import
                # flows. Anything else is a bug and keeps its traceback.
                code = getattr(exc, "exit_code", None)
                if not isinstance(code, int):
                    raise
                _fail(ctx, str(exc), code)
            if ctx.meta.get(_JSON):
                _echo_json(ctx.meta.get(_SUMMARY, {}))
            return rv


@click.group(cls=_Cli)
@click.option("-v", "--verbose", is_flag=True, help="log every step")
@click.pass_context
def main(ctx: click.Context, verbose: bool) -> None:
    """bitfab: Brevitas/QONNX networks to bit-exact FPGA dataflow designs."""
    ctx.with_resource(_log_to_stderr(verbose))


def _store_meta(ctx: click.Context, param: click.Parameter, value: bool) -> None:
    ctx.meta[f"bitfab.{param.name}"] = value


def _summary_options(f):
    """``--quiet`` and ``--json`` of a command that ends in a summary."""
    f = click.option(
        "--json",
        is_flag=True,
        expose_value=False,
        callback=_store_meta,
        help="print the summary as one JSON object on stdout (and nothing else there); on an "
        'error it holds "error" and "exit_code"',
    )(f)
    return click.option(
        "-q",
        "--quiet",
        is_flag=True,
        expose_value=False,
        callback=_store_meta,
        help="no progress on stderr (warnings and errors still print)",
    )(f)


@contextlib.contextmanager
def _progress() -> Iterator:
    """The command's progress display on stderr (flows.progress.for_stream)."""
    from flows.progress import for_stream

    quiet = click.get_current_context().meta.get(_QUIET, False)
    with for_stream(sys.stderr, quiet) as progress:
        yield progress


def _emit(summary: dict, *lines: str) -> None:
    """The command's result: ``lines`` on stdout, or with --json the ``summary`` object,
    printed once when the command ends (with "error" and "exit_code" if it fails)."""
    ctx = click.get_current_context()
    if ctx.meta.get(_JSON):
        ctx.meta[_SUMMARY] = summary
    else:
        for line in lines:
            click.echo(line)


@main.command()
@click.argument("model")
@click.option("--board", default="pynq-z2", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), default=None)
@click.option("--clock-mhz", type=float, default=100.0, show_default=True)
@click.option("--target-fps", type=float, default=None)
@click.option(
    "--budget",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.85,
    show_default=True,
    help="share of the board's LUT/BRAM18/DSP the default folding may take, shell included",
)
@click.option("--checkpoint", type=click.Path(path_type=Path), default=None)
@click.option(
    "--pretrained",
    is_flag=True,
    help="Brevitas' published trained weights (tfc/sfc/lfc/cnv), read from the torch.hub cache "
    "or downloaded into it",
)
@click.option(
    "--folding",
    type=click.Path(path_type=Path),
    default=None,
    help="folding JSON (as written to DIR/folding.json)",
)
@click.option("--verify", "verify_n", type=int, default=0, help="verify on N inputs")
@click.option(
    "--from-step",
    default=None,
    help="reuse the saved models of earlier steps and run from this step",
)
@click.option("--to-step", default=None, help="stop after this step")
@click.option("--seed", type=int, default=0, show_default=True)
@_summary_options
@click.option(
    "--input-fixed",
    default=None,
    metavar="W,I",
    help="quantize a float input as signed fixed point ap_fixed<W,I> (truncate, saturate), "
    "as hls4ml types its input; e.g. 16,6",
)
@click.option(
    "--label-select",
    type=click.Choice([m.value for m in LabelSelectMode]),
    default="host",
    show_default=True,
    help="where a TopK(k=1)/ArgMax tail runs: host; auto (hardware when exact, else host); "
    "hardware (adds a TopK to a graph that outputs scores, so the accelerator returns the "
    "class index; an error when the values before it are not order-preserving)",
)
def build(
    model,
    board,
    out,
    clock_mhz,
    target_fps,
    budget,
    checkpoint,
    pretrained,
    folding,
    verify_n,
    from_step,
    to_step,
    seed,
    input_fixed,
    label_select,
):
    """Build MODEL (zoo name or .onnx file) into a verified dataflow design."""
    from flows.build import run_build
    from flows.config import BuildConfig

    cfg = BuildConfig(
        model=model,
        board=board,
        out=out,
        clock_mhz=clock_mhz,
        target_fps=target_fps,
        budget=budget,
        checkpoint=checkpoint,
        pretrained=pretrained,
        folding=folding,
        verify_n=verify_n,
        from_step=from_step,
        to_step=to_step,
        seed=seed,
        input_fixed=input_fixed,
        label_select=LabelSelectMode(label_select),
    )
    with _progress() as progress:
        d = run_build(cfg, progress)
    # the manifest, not report.json: a build stopped early may hold an older run's report
    if json.loads((d / "manifest.json").read_text())["status"] == "done":
        r = json.loads((d / "report.json").read_text())
        t = r["totals"]
        if not t["fits_board"]:
            click.echo(
                f"warning: the estimated resources exceed {r['board']}'s "
                f"{t['board_budget']}: this design does not fit the board (a default folding "
                "is then the fastest within the resources some folding does fit)",
                err=True,
            )
        v = r.get("verification")
        _emit(
            {
                "build_dir": str(d),
                "status": "done",
                "board": r["board"],
                "layers": len(r["layers"]),
                "clock_mhz": r["clock_mhz"],
                "estimated_fps": t["estimated_fps"],
                "resources": t["resources"],
                "fits_board": t["fits_board"],
                "verification": v,
            },
            f"built {d}: {len(r['layers'])} layers, estimated {t['estimated_fps']:.0f} "
            f"FPS at {r['clock_mhz']} MHz (cycle model), resources (estimate) "
            f"{t['resources']}",
            *([_verify_line(v)] if v else []),
        )
        if v and v["status"] != "pass":
            raise VerificationError(f"{d}: verification failed: {v.get('first_mismatch')}")
    else:
        _emit(
            {"build_dir": str(d), "status": f"stopped after {to_step}"},
            f"stopped after step '{to_step}' in {d}",
        )


def _verify_line(v: dict) -> str:
    return (
        f"verify: {v['n']} inputs, {v['status']}; compared {v['compared']}; "
        f"reference mismatches {v['reference_mismatches']}, reference rounding "
        f"{v['reference_rounding']}, csim vs dataflow mismatches "
        f"{v['csim_vs_dataflow_mismatches']}"
    )


def _load_npy(path: Path) -> np.ndarray:
    try:
        return np.load(path)
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: cannot read as .npy ({exc})") from None


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--n", "n", type=int, default=100, show_default=True)
@click.option("--inputs", type=click.Path(path_type=Path), default=None, help="x.npy")
@click.option("--seed", type=int, default=0)
@_summary_options
def verify(build_dir, n, inputs, seed):
    """Check the build bit-exactly against the QONNX reference (exit 3 on mismatch); the
    result replaces report.json's ``verification`` and report.html is re-rendered."""
    from flows.build import check_finished
    from flows.report import add_section
    from flows.verify import verify_build

    check_finished(build_dir)
    x = _load_npy(inputs) if inputs is not None else None
    with _progress() as progress:
        v = verify_build(build_dir, n, seed=seed, inputs=x, progress=progress)
    add_section(build_dir, "verification", v)
    _emit({"build_dir": str(build_dir), "verification": v}, _verify_line(v))
    if v["status"] != "pass":
        raise VerificationError(
            f"{build_dir}: mismatch at sample {v['first_mismatch']['sample']}, first layer that "
            f"differs: {v['first_mismatch']['layer']}"
        )


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--n", "n", type=int, default=20, show_default=True, help="images to simulate")
@click.option("--seed", type=int, default=0)
@click.option("--inputs", type=click.Path(path_type=Path), default=None, help="x.npy")
@click.option(
    "--size-fifos", is_flag=True, help="size every FIFO by simulation and rebuild with them"
)
@_summary_options
def rtlsim(build_dir, n, seed, inputs, size_fifos):
    """Cycle-accurate RTL simulation (Verilator): bit-exact check, cycles, latency, stalls."""
    from flows.rtlsim import run_rtlsim, summary_line

    x = _load_npy(inputs) if inputs is not None else None
    with _progress() as progress:
        s = run_rtlsim(build_dir, n, seed, x, size_fifos, progress)
    lines = [summary_line(s)]
    if "fifo_sizing" in s:
        fs = s["fifo_sizing"]
        lines.append(
            f"FIFO sizing: {len(fs['edges'])} edges, {fs['throughput_loss']:.2%} throughput "
            "lost against deep FIFOs; depths written to folding.json, both tops and the report"
        )
    _emit({"build_dir": str(build_dir), "rtlsim": s}, *lines)


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="Yosys runs at once [default: the number of CPUs]",
)
@click.option("--layer", default=None, help="synthesize and print only this layer")
@_summary_options
def synth(build_dir, jobs, layer):
    """Yosys synthesis (synth_xilinx) of the RTL, layer by layer out of context: LUT, FF,
    LUTRAM, SRL, BRAM18, DSP per layer and in total, against the board (report.json `synth`)."""
    from flows.synth.run import run_synth, summary_line, table

    with _progress() as progress:
        s = run_synth(build_dir, jobs, layer, progress)
    _emit({"build_dir": str(build_dir), "synth": s}, table(s), summary_line(s))


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--backend", type=click.Choice(["csim", "rtlsim", "pynq"]), default="csim")
@click.option("--input", "input_", type=click.Path(path_type=Path), default=None)
@click.option("--batch", type=int, default=256, show_default=True)
@_summary_options
def run(build_dir, backend, input_, batch):
    """Run the host driver: outputs, agreement with the reference, latency and throughput."""
    from boards.driver.accelerator import format_throughput
    from flows import api

    x = _load_npy(input_) if input_ is not None else None
    with _progress() as progress:
        r = api.run(build_dir, x, backend=backend, batch=batch, progress=progress)
    _emit(
        {
            "build_dir": str(build_dir),
            "backend": backend,
            "images": r.images,
            "bit_identical": r.bit_identical,
            "throughput": r.throughput.raw,
        },
        f"outputs: {r.images} images, {r.bit_identical}/{r.images} bit-identical to the QONNX "
        "reference",
        format_throughput(r.throughput.raw),
    )


@main.command()
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option(
    "--backend",
    default="hls",
    show_default=True,
    help="which rendering of the design the vendor flow builds: hls (Vitis HLS, then Vivado) "
    "or rtl (the Verilog of rtl/, Vivado only)",
)
@click.option(
    "--cosim",
    type=click.IntRange(min=0),
    default=0,
    show_default=True,
    help="also co-simulate the synthesized RTL (cosim_design) on this many images",
)
@click.option(
    "--address",
    default=None,
    help="run as a Ray task on a node of this cluster that declares the 'vivado' resource "
    "(HOST:PORT of the head, ray://HOST:PORT or auto); the build directory goes there and "
    "comes back with the bitfile",
)
def bitstream(build_dir, backend, cosim, address):
    """Vendor-tool steps (Vitis HLS and Vivado; Vivado alone for --backend rtl); exit 2 with
    instructions when they are absent."""
    from flows.bitstream import done_message, run_bitstream

    if address is None:
        run_bitstream(build_dir, backend, cosim=cosim)
    else:
        from flows.sweep.vivado import bitstream_on_cluster

        with _progress() as progress:
            node = bitstream_on_cluster(build_dir, address, backend, cosim, progress)
        click.echo(f"ran on Ray node {node}", err=True)
    click.echo(done_message(build_dir))


@main.command()
@click.argument("model")
@click.option("--data", required=True, help="'digits' or a directory holding the data set")
@click.option("--epochs", type=int, default=None)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--out",
    type=click.Path(path_type=Path),
    default=None,
    help="checkpoint path (default checkpoints/MODEL.pt)",
)
def train(model, data, epochs, seed, out):
    """Train a zoo MODEL on real data (MNIST/CIFAR-10 from a local directory, or digits)."""
    from models.checkpoint import save_checkpoint
    from models.data import load_dataset
    from models.train import DEFAULT_EPOCHS
    from models.train import train as train_model
    from models.zoo import get_model

    entry = get_model(model)
    directory = None if data == "digits" else data
    if data == "digits" and entry.dataset != "digits":
        raise InputError(
            f"model '{model}' is trained on {entry.dataset}, not digits; give "
            f"--data DIR with the {entry.dataset} files"
        )
    xtr, ytr, xte, yte = load_dataset(entry.dataset, directory, seed=seed)
    n_epochs = epochs or DEFAULT_EPOCHS[entry.dataset]
    net, metrics = train_model(entry, xtr, ytr, xte, yte, epochs=n_epochs, seed=seed)
    path = out or Path("checkpoints") / f"{model}.pt"
    save_checkpoint(net, entry, path, {k: v for k, v in metrics.items() if k != "loss_history"})
    click.echo(
        f"trained {model} on {entry.dataset}: test accuracy "
        f"{metrics['test_accuracy']:.4f} ({len(yte)} images), {n_epochs} epochs; "
        f"checkpoint {path}"
    )


def _csv(kind):
    """A click callback: a comma-separated list of ``kind`` values (empty parts dropped)."""

    def parse(ctx, param, value):
        if value is None:
            return ()
        try:
            return tuple(kind(v.strip()) for v in value.split(",") if v.strip())
        except ValueError:
            raise click.BadParameter(f"{value!r}: expected comma-separated numbers") from None

    return parse


@main.command()
@click.argument("model")
@click.option(
    "--boards", default="pynq-z2", show_default=True, callback=_csv(str), help="B1,B2,..."
)
@click.option(
    "--target-fps",
    "targets",
    default=None,
    callback=_csv(float),
    help="F1,F2,...: one point per target on every board (default: the fastest that fits)",
)
@click.option(
    "--auto",
    "auto",
    is_flag=True,
    help="targets chosen between the slowest and the fastest folding of each board "
    "(--points of them, evenly in log FPS)",
)
@click.option(
    "--points",
    "n_auto",
    type=click.IntRange(min=2),
    default=6,
    show_default=True,
    help="how many targets --auto chooses per board and clock",
)
@click.option(
    "--clock-mhz", "clocks", default="100", show_default=True, callback=_csv(float), help="C1,C2"
)
@click.option("--rtlsim", type=click.IntRange(min=0), default=0, help="rtlsim N images per point")
@click.option("--size-fifos", is_flag=True, help="size each point's FIFOs by rtlsim first")
@click.option("--synth", is_flag=True, help="Yosys synthesis of every point")
@click.option("--verify", "verify_n", type=click.IntRange(min=0), default=0, help="C-sim check")
@click.option(
    "--bitstream",
    is_flag=True,
    help="also the vendor flow of every point, as Ray tasks on the nodes that declare the "
    "'vivado' resource",
)
@click.option(
    "--budget",
    type=click.FloatRange(0.0, 1.0, min_open=True),
    default=0.85,
    show_default=True,
    help="as bitfab build's: the share of the board a point without a target may take",
)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option(
    "--checkpoint",
    type=click.Path(path_type=Path),
    default=None,
    help="trained weights of a zoo MODEL (exported once, on this machine)",
)
@click.option("--pretrained", is_flag=True, help="Brevitas' published weights of a zoo MODEL")
@click.option(
    "--out", type=click.Path(path_type=Path), default=None, help="[default: build/sweep-MODEL]"
)
@click.option(
    "--address",
    default="local",
    show_default=True,
    help="local (a private Ray with --jobs CPUs), auto (the `ray start` cluster on this "
    "machine), HOST:PORT of a head, or ray://HOST:PORT (Ray Client)",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    help="CPUs of the local Ray, one point each [default: the number of CPUs]",
)
@_summary_options
def sweep(
    model,
    boards,
    targets,
    auto,
    n_auto,
    clocks,
    rtlsim,
    size_fifos,
    synth,
    verify_n,
    bitstream,
    budget,
    seed,
    checkpoint,
    pretrained,
    out,
    address,
    jobs,
):
    """Build MODEL at every board x clock x folding target, as Ray tasks (locally or on a
    cluster): DIR/sweep.json, DIR/sweep.html (FPS against LUT, the Pareto front per board),
    DIR/points/<id>/ (each point's build directory)."""
    from flows.sweep.grid import SweepSpec
    from flows.sweep.run import check_points, run_sweep, summary_lines

    spec = SweepSpec(
        model=model,
        boards=boards,
        clocks_mhz=clocks,
        targets=targets,
        auto=n_auto if auto else 0,
        rtlsim=rtlsim,
        synth=synth,
        verify=verify_n,
        size_fifos=size_fifos,
        seed=seed,
        budget=budget,
        bitstream=bitstream,
        extra=({"checkpoint": str(checkpoint)} if checkpoint else {})
        | ({"pretrained": True} if pretrained else {}),
    )
    name = Path(model).stem if model.endswith(".onnx") else model
    out = out or Path("build") / f"sweep-{name}"
    with _progress() as progress:
        doc = run_sweep(spec, out, address, jobs, progress)
    _emit({"sweep_dir": str(out), "sweep": doc}, *summary_lines(doc, out))
    check_points(doc, out)


@main.command("eval")
@click.argument("build_dir", type=click.Path(path_type=Path))
@click.option("--data", required=True, help="'digits' or a directory holding the data set")
@click.option(
    "--n", "n", type=click.IntRange(min=1), default=None, help="only the first N test images"
)
@click.option(
    "--seed",
    type=int,
    default=0,
    show_default=True,
    help="digits' train/test split (as `bitfab train --seed`)",
)
@_summary_options
def eval_(build_dir, data, n, seed):
    """Accuracy of the QONNX reference and of the C-sim on a labelled test set (MNIST/CIFAR-10
    from a local directory, or digits); exit 3 if their outputs differ."""
    from flows.evaluate import evaluate_build, summary_lines

    with _progress() as progress:
        r = evaluate_build(build_dir, data, n, seed, progress)
    _emit({"build_dir": str(build_dir), "eval": r}, *summary_lines(r))


@main.command()
def models():
    """List the zoo models."""
    from models.zoo import list_models

    zoo = list_models()
    wn = max(len(m.name) for m in zoo)
    wt = max(len(m.topology) for m in zoo)
    wd = max(len(m.dataset) for m in zoo)
    for m in zoo:
        click.echo(
            f"{m.name:{wn}s} {m.topology:{wt}s} W{m.weight_bits}A{m.act_bits} "
            f"in={m.in_bits}b  {m.dataset:{wd}s} input {tuple(m.input_shape)}"
        )


@main.command()
def boards():
    """List the boards."""
    from boards.registry import list_boards

    for b in list_boards():
        click.echo(
            f"{b.name:10s} {b.part:18s} {b.ps:8s} LUT {b.luts} BRAM18 {b.bram18} "
            f"DSP {b.dsps} clock {b.default_clock_mhz}-{b.max_clock_mhz} MHz"
        )


if __name__ == "__main__":
    main()
