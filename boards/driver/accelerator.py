"""The host driver: run a built accelerator on numpy arrays.

``Accelerator.from_build(dir, backend)`` reads ``deploy/accel.json``; ``execute(x)`` runs the
host head, packs the integers into the stream layout, runs the design (C-simulation library
or, on a board, PYNQ DMA), unpacks and runs the host tail.

numpy only (pynq imported lazily on the board); this file ships to the board.
"""

from __future__ import annotations

import ctypes
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import DriverError
from .host_graph import HostGraph
from .packing import (
    from_beats,
    from_storage,
    image_bytes,
    pack,
    to_beats,
    unpack,
    word_bytes,
)
from .rtlsim import RtlsimBackend

__all__ = ["Accelerator", "DriverError", "StreamSpec"]


# Version of the accel.json layout this driver reads; the build writes the same number.
ACCEL_FORMAT = 2


@dataclass(frozen=True)
class StreamSpec:
    """One end of the design as the host packs it: ``words`` words an image, each of
    ``elems`` fields of ``bits`` bits. The codegen describes the design's edge with it too."""

    bits: int
    elems: int
    words: int
    signed: bool
    bipolar: bool
    shape: list  # dataflow tensor shape with batch 1

    @property
    def nbytes(self) -> int:
        return word_bytes(self.bits, self.elems)


@dataclass(frozen=True)
class DmaSpec:
    """The design's DMA edge as accel.json describes it (names are block-design cell names)."""

    input: str
    output: str
    beat_bits: int
    ip: str  # the accelerator's cell: AXI-lite control with n_images
    n_images_offset: int
    max_transfer_bytes: int  # the DMA's buffer length register limit


class CsimBackend:
    """The compiled C-simulation library, fed the same byte buffers a DMA would move.

    The library holds no weights: it fills its parameter tables from the data files in
    ``params_dir`` (the build's hls/params/) when it is opened here, and refuses to run
    before. A process holds one copy of a library file however often it is opened, so every
    backend of one build runs the tables loaded last (from that same build's data files).
    """

    name = "csim"
    stages = ("compute",)

    def __init__(
        self, lib_path: Path, in_bytes: int, out_bytes: int, beat_bits: int, params_dir: Path
    ):
        if not lib_path.exists():
            raise DriverError(f"{lib_path}: C-simulation library missing; rebuild with bitfab")
        self.lib = ctypes.CDLL(str(lib_path))
        if not hasattr(self.lib, "bitfab_load_params"):
            raise DriverError(
                f"{lib_path}: a C-simulation library of an older bitfab (weights compiled in); "
                "rebuild with this version"
            )
        self.lib.bitfab_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        self.lib.bitfab_run.restype = ctypes.c_int
        self.lib.bitfab_load_params.argtypes = [ctypes.c_char_p]
        self.lib.bitfab_load_params.restype = ctypes.c_int
        self.lib.bitfab_params_error.restype = ctypes.c_char_p
        self.params_dir = Path(params_dir)
        self._load_params()
        for what, got, want in (
            ("input bytes per image", self.lib.bitfab_in_bytes_per_image(), in_bytes),
            ("output bytes per image", self.lib.bitfab_out_bytes_per_image(), out_bytes),
            ("DMA beat bits", self.lib.bitfab_dma_bits(), beat_bits),
        ):
            if got != want:
                raise DriverError(f"{lib_path}: {what} is {got}, accel.json says {want}; rebuild")
        self.in_bytes, self.out_bytes = in_bytes, out_bytes

    def _load_params(self) -> None:
        if self.lib.bitfab_load_params(str(self.params_dir).encode()) != 0:
            why = self.lib.bitfab_params_error().decode(errors="replace")
            raise DriverError(
                f"C-simulation parameters: {why}. The data files are written by `bitfab build` "
                "(codegen step) next to the parameter headers; rebuild to restore them"
            )

    def transfer(self, ibuf: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        n = ibuf.shape[0]
        ibuf = np.ascontiguousarray(ibuf, dtype=np.uint8)
        obuf = np.zeros((n, self.out_bytes), dtype=np.uint8)
        t0 = time.perf_counter()
        rc = self.lib.bitfab_run(ibuf.ctypes.data, obuf.ctypes.data, n)
        t1 = time.perf_counter()
        if rc != 0:
            why = {
                -1: "too few output beats",
                -2: "leftover beats",
                -3: "TLAST misplaced",
                -4: "parameters not loaded",
            }
            raise DriverError(f"C-simulation returned {rc}: {why.get(rc, 'stream mismatch')}")
        return obuf, {"compute": t1 - t0}


def _images(n: int) -> str:
    return f"{n} image" if n == 1 else f"{n} images"


class PynqBackend:
    """The bitstream on a PYNQ board: Overlay, the accelerator's AXI-lite control, two DMAs.

    ``pynq`` is imported lazily (it exists only on the board). One start of the accelerator
    processes ``n_images`` images; the output DMA's transfer ends at the design's TLAST.
    Copies into and out of the DMA-visible buffers are timed apart from the DMA+compute
    stage (streaming overlaps transfer and compute, so those two cannot be told apart).

    Every wait has a deadline (PYNQ's own ``wait()`` spins forever on a stalled design):
    ``timeout_s`` seconds per start if given, else :meth:`default_timeout`. A run that
    times out, or whose output DMA received other than ``n * out_bytes`` bytes, raises
    :class:`DriverError` saying which DMA, what was expected and what to check.
    """

    name = "pynq"
    stages = ("copy_to_device", "dma_compute", "copy_from_device")
    # Default deadline of one start: a floor, plus time for the design to move its bytes and
    # run its images at rates far below any design's (1 MB/s and 1,000 images/s).
    TIMEOUT_FLOOR_S = 1.0
    TIMEOUT_MIN_BYTES_PER_S = 1e6
    TIMEOUT_MIN_IMAGES_PER_S = 1e3
    # Vitis HLS block-level control register (ap_ctrl_hs): ap_start is bit 0, ap_idle bit 2.
    AP_CTRL = 0x00
    AP_IDLE = 0x04

    def __init__(
        self,
        bitfile: Path,
        dma: DmaSpec,
        in_bytes: int,
        out_bytes: int,
        pynq_module=None,
        timeout_s: float | None = None,
    ):
        if pynq_module is None:
            try:
                import pynq as pynq_module  # noqa: PLC0415 (board only)
            except ImportError:
                raise DriverError(
                    "the pynq backend needs the pynq package (it runs on the board); use "
                    "backend='csim' on a host"
                ) from None
        if not bitfile.exists():
            raise DriverError(
                f"{bitfile}: no bitfile; run `bitfab bitstream` on a machine "
                "with Vivado and copy deploy/ to the board"
            )
        if timeout_s is not None and not timeout_s > 0:
            raise DriverError(f"DMA timeout must be a positive number of seconds, got {timeout_s}")
        self.pynq = pynq_module
        self.overlay = pynq_module.Overlay(str(bitfile))
        self.idma = getattr(self.overlay, dma.input)
        self.odma = getattr(self.overlay, dma.output)
        self.ip = getattr(self.overlay, dma.ip)
        self.dma = dma
        self.in_bytes, self.out_bytes = in_bytes, out_bytes
        self.timeout_s = timeout_s
        self.max_images = max(1, dma.max_transfer_bytes // max(in_bytes, out_bytes))
        self._buffers: dict[int, tuple] = {}

    def default_timeout(self, n: int) -> float:
        """Seconds one start of ``n`` images may take before it counts as stalled."""
        moved = n * (self.in_bytes + self.out_bytes)
        return (
            self.TIMEOUT_FLOOR_S
            + moved / self.TIMEOUT_MIN_BYTES_PER_S
            + n / self.TIMEOUT_MIN_IMAGES_PER_S
        )

    def _buffers_for(self, n: int) -> tuple:
        """DMA buffers for ``n`` images, allocated once per size (allocation is slow)."""
        if n not in self._buffers:
            self._buffers[n] = (
                self.pynq.allocate(shape=(n * self.in_bytes,), dtype=np.uint8),
                self.pynq.allocate(shape=(n * self.out_bytes,), dtype=np.uint8),
            )
        return self._buffers[n]

    def _wait_idle(self, deadline: float, timeout: float) -> None:
        """Wait for the accelerator's ap_idle: the previous start must have finished."""
        while not self.ip.read(self.AP_CTRL) & self.AP_IDLE:
            if time.perf_counter() > deadline:
                raise DriverError(
                    f"accelerator '{self.dma.ip}' did not report ap_idle within {timeout:.3g} s "
                    "before a new start: a previous run has not finished (the design is "
                    "stalled or still waiting for input). Reload the overlay (create the "
                    "Accelerator again) and check that the bitstream was built from this "
                    "deploy/ folder (accel.json)"
                )

    def _wait_dma(self, which: str, deadline: float, timeout: float, n: int) -> None:
        """Poll one channel's ``idle`` until ``deadline``, then let PYNQ finish the transfer
        (cache invalidate, ``transferred``, DMA error bits)."""
        if which == "send":
            name, ch = self.dma.input, self.idma.sendchannel
            what = f"MM2S, sending {_images(n)} ({n * self.in_bytes} bytes) to the design"
            stalled = "the design stopped taking input"
        else:
            name, ch = self.dma.output, self.odma.recvchannel
            what = f"S2MM, receiving {_images(n)} ({n * self.out_bytes} bytes) from the design"
            stalled = "the design sent fewer output words than expected or no TLAST"
        while not (ch.idle or getattr(ch, "error", False)):
            if time.perf_counter() > deadline:
                raise DriverError(
                    f"DMA '{name}' ({what}) did not finish within {timeout:.3g} s: {stalled}. "
                    "Check that the bitstream was built from this deploy/ folder (accel.json) "
                    "and that n_images reached the accelerator; a design this slow needs a "
                    "longer timeout (dma_timeout / --dma-timeout). Reload the overlay before "
                    "the next run: the DMA is left mid-transfer"
                )
        try:
            ch.wait()
        except RuntimeError as exc:  # PYNQ names the DMA error bit it found
            raise DriverError(f"DMA '{name}' ({what}) failed: {exc}") from None

    def _run_chunk(self, ibuf: np.ndarray, times: dict[str, float]) -> np.ndarray:
        n = ibuf.shape[0]
        src, dst = self._buffers_for(n)
        timeout = self.timeout_s or self.default_timeout(n)
        t0 = time.perf_counter()
        src[:] = ibuf.reshape(-1)
        if hasattr(src, "flush"):
            src.flush()
        t1 = time.perf_counter()
        self._wait_idle(t1 + timeout, timeout)
        self.ip.write(self.dma.n_images_offset, n)
        self.ip.write(self.AP_CTRL, 1)  # ap_start
        self.odma.recvchannel.transfer(dst)
        self.idma.sendchannel.transfer(src)
        deadline = time.perf_counter() + timeout
        self._wait_dma("send", deadline, timeout, n)
        self._wait_dma("recv", deadline, timeout, n)
        got, want = getattr(self.odma.recvchannel, "transferred", None), n * self.out_bytes
        if got is not None and got != want:
            raise DriverError(
                f"DMA '{self.dma.output}' (S2MM) received {got} bytes for {_images(n)}, expected "
                f"{want} ({self.out_bytes} per image): the design ended its output stream "
                "(TLAST) at the wrong place. Check that the bitstream was built from this "
                "deploy/ folder (accel.json) and that n_images reached the accelerator"
            )
        t2 = time.perf_counter()
        if hasattr(dst, "invalidate"):
            dst.invalidate()
        out = np.array(dst, dtype=np.uint8).reshape(n, self.out_bytes)
        t3 = time.perf_counter()
        times["copy_to_device"] += t1 - t0
        times["dma_compute"] += t2 - t1
        times["copy_from_device"] += t3 - t2
        return out

    def transfer(self, ibuf: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
        ibuf = np.ascontiguousarray(ibuf, dtype=np.uint8)
        times = dict.fromkeys(self.stages, 0.0)
        parts = [
            self._run_chunk(ibuf[i : i + self.max_images], times)
            for i in range(0, ibuf.shape[0], self.max_images)
        ]
        return np.concatenate(parts), times

    def close(self) -> None:
        for src, dst in self._buffers.values():
            src.freebuffer()
            dst.freebuffer()
        self._buffers.clear()


class Accelerator:
    def __init__(self, deploy_dir: Path, cfg: dict, backend=None):
        """``backend`` may be set later (``from_build`` sizes it from this object's layout)."""
        self.deploy_dir = deploy_dir
        self.cfg = cfg
        self.backend = backend
        consts = dict(np.load(deploy_dir / cfg["host_consts"]))
        self.head = HostGraph.from_json(
            cfg["head"], {k[2:]: v for k, v in consts.items() if k.startswith("h:")}
        )
        self.tail = HostGraph.from_json(
            cfg["tail"], {k[2:]: v for k, v in consts.items() if k.startswith("t:")}
        )
        self.sin = StreamSpec(**cfg["stream_in"])
        self.sout = StreamSpec(**cfg["stream_out"])
        self.input_shape = tuple(cfg["input_shape"])
        self.input_dtype = np.dtype(cfg["input_dtype"])
        self.dma = DmaSpec(**cfg["dma"])
        self.beat_bits = self.dma.beat_bits
        self.in_image_bytes = image_bytes(self.sin.words, self.sin.nbytes, self.beat_bits)
        self.out_image_bytes = image_bytes(self.sout.words, self.sout.nbytes, self.beat_bits)

    @classmethod
    def from_build(
        cls,
        build_dir: str | Path,
        backend: str = "csim",
        pynq_module=None,
        dma_timeout: float | None = None,
    ) -> Accelerator:
        """Load ``build_dir`` (or its deploy/ folder) for ``backend``; ``dma_timeout`` is the
        pynq backend's deadline in seconds per start (default: scaled from the batch)."""
        d = Path(build_dir)
        # a build directory, or its deploy/ folder as copied to the board
        dep = (d if (d / "accel.json").exists() else d / "deploy").resolve()
        path = dep / "accel.json"
        if not path.exists():
            raise DriverError(f"{d}: no deploy/accel.json; is this a finished bitfab build?")
        try:
            cfg = json.loads(path.read_text())
        except (json.JSONDecodeError, UnicodeDecodeError):
            raise DriverError(f"{path}: not readable JSON; rebuild with bitfab") from None
        if cfg.get("format") != ACCEL_FORMAT:
            raise DriverError(
                f"{path}: accel.json format {cfg.get('format')}, but this driver reads format "
                f"{ACCEL_FORMAT}; rebuild with this bitfab version or use the driver in {dep}"
            )
        acc = cls(dep, cfg)
        if backend == "csim":
            if not cfg.get("csim_library"):
                raise DriverError(f"{path}: this build has no C-simulation library; rebuild")
            lib = dep.parent / cfg["csim_library"]  # csim lives beside deploy/ in the build
            acc.backend = CsimBackend(
                lib,
                acc.in_image_bytes,
                acc.out_image_bytes,
                acc.dma.beat_bits,
                dep.parent / "hls" / "params",  # its data files, found as rtlsim finds rtl/
            )
        elif backend == "pynq":
            acc.backend = PynqBackend(
                dep / cfg.get("bitfile", "bitfab.bit"),
                acc.dma,
                acc.in_image_bytes,
                acc.out_image_bytes,
                pynq_module=pynq_module,
                timeout_s=dma_timeout,
            )
        elif backend == "rtlsim":
            acc.backend = RtlsimBackend(
                dep.parent / "rtl", acc.in_image_bytes, acc.out_image_bytes, acc.dma.beat_bits
            )
        else:
            raise DriverError(f"unknown backend '{backend}'; available: csim, rtlsim, pynq")
        return acc

    # -- the three stages, exposed so verification can compare inside ---------------------
    def run_head(self, x: np.ndarray) -> np.ndarray:
        """Float input -> integers entering the design, shape [N, ...dataflow input]."""
        v = self.head.run(x)[self.head.output]
        return np.rint(v).astype(np.int64)

    def pack_input(self, ints: np.ndarray) -> np.ndarray:
        """Integers entering the design -> the input DMA buffer, ``[N, bytes per image]``."""
        return self._pack(ints, self.sin)

    def pack_output(self, ints: np.ndarray) -> np.ndarray:
        """Integers leaving the design -> the output DMA buffer the hardware should write."""
        return self._pack(ints, self.sout)

    def _pack(self, ints: np.ndarray, s: StreamSpec) -> np.ndarray:
        # pack takes any integer dtype as it is; BIPOLAR goes in as bools (what to_storage
        # gives, without widening to int64 first)
        flat = np.asarray(ints).reshape(len(ints), -1)
        return to_beats(pack(flat > 0 if s.bipolar else flat, s.bits, s.elems), self.beat_bits)

    def unpack_output(self, obuf: np.ndarray) -> np.ndarray:
        """Inverse of :meth:`pack_output`."""
        words = from_beats(obuf, self.sout.words, self.sout.nbytes)
        out = unpack(words, self.sout.bits, self.sout.elems, self.sout.signed)
        return from_storage(out, self.sout.bipolar).reshape((len(obuf), *self.sout.shape[1:]))

    def run_design(self, ints: np.ndarray) -> np.ndarray:
        """Integers entering the design -> integers leaving it; stage times in last_timing."""
        t0 = time.perf_counter()
        ibuf = self.pack_input(ints)
        t1 = time.perf_counter()
        obuf, device = self.backend.transfer(ibuf)
        t2 = time.perf_counter()
        out = self.unpack_output(obuf)
        t3 = time.perf_counter()
        self.last_timing = {"pack": t1 - t0, **device, "unpack": t3 - t2, "total": t3 - t0}
        return out

    def run_tail(self, y: np.ndarray) -> np.ndarray:
        return self.tail.run(y.astype(np.float32))[self.tail.output]

    def check_input(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x)
        if x.dtype != self.input_dtype:
            raise DriverError(f"input dtype is {x.dtype}; expected {self.input_dtype}")
        if x.ndim == len(self.input_shape) - 1:
            x = x[None]
        if tuple(x.shape[1:]) != self.input_shape[1:]:
            want = ", ".join(map(str, self.input_shape[1:]))
            raise DriverError(f"input shape is {tuple(x.shape)}; expected (N, {want})")
        return x

    def execute(self, x: np.ndarray) -> np.ndarray:
        """Float32 input shaped like reference.onnx's input (any batch) -> the model's output."""
        x = self.check_input(x)
        return self.run_tail(self.run_design(self.run_head(x)))

    def random_design_input(self, n: int, seed: int = 0) -> np.ndarray:
        """Integers drawn from the design input's datatype (what throughput tests feed)."""
        rng = np.random.default_rng(seed)
        shape = (n, *self.sin.shape[1:])
        if self.sin.bipolar:
            return np.where(rng.integers(0, 2, size=shape) > 0, 1, -1)
        if self.sin.signed:
            half = 1 << (self.sin.bits - 1)
            return rng.integers(-half, half, size=shape)
        return rng.integers(0, 1 << self.sin.bits, size=shape)

    def throughput_test(self, batch: int = 1000, repeats: int = 5, latency_runs: int = 50) -> dict:
        """Throughput over repeated batches and single-image latency percentiles.

        Throughput: ``repeats`` runs of ``batch`` images through pack, the backend and unpack;
        the median run gives ``fps``, the median of the backend's device stage alone gives
        ``fps_device``. Latency: ``latency_runs`` runs of one image, end to end (p50/p99).
        All figures are wall-clock times measured on this host by the named backend.
        """
        if batch < 1 or repeats < 1 or latency_runs < 1:
            raise DriverError("throughput_test needs batch, repeats and latency_runs >= 1")
        if hasattr(self.backend, "simulated_throughput"):  # figures in simulated cycles
            self.run_design(self.random_design_input(batch))
            return self.backend.simulated_throughput(float(self.cfg.get("clock_mhz") or 100.0))
        ints = self.random_design_input(batch)
        runs = []
        for _ in range(repeats):
            self.run_design(ints)
            runs.append(self.last_timing)
        device_stage = "dma_compute" if "dma_compute" in runs[0] else "compute"
        total = float(np.median([r["total"] for r in runs]))
        device = float(np.median([r[device_stage] for r in runs]))
        one = self.random_design_input(1, seed=1)
        lat = []
        for _ in range(latency_runs):
            self.run_design(one)
            lat.append(self.last_timing["total"] * 1e6)
        return {
            "backend": self.backend.name,
            "measured": "wall",
            "batch": batch,
            "repeats": repeats,
            "fps": batch / total,
            "fps_device": batch / device,
            "device_stage": device_stage,
            "stages_ms": {
                k: float(np.median([r[k] for r in runs])) * 1e3 for k in runs[0] if k != "total"
            },
            "latency_us": {
                "p50": float(np.percentile(lat, 50)),
                "p99": float(np.percentile(lat, 99)),
                "runs": latency_runs,
                "batch": 1,
            },
            "clock_mhz": self.cfg.get("clock_mhz"),
        }


def format_throughput(t: dict) -> str:
    """The figures of :meth:`Accelerator.throughput_test` as lines a person reads."""
    if t["measured"] == "simulated cycles":
        return (
            f"throughput (rtlsim backend, simulated cycles at {t['clock_mhz']:g} MHz, batch "
            f"{t['batch']}): {t['fps']:.0f} images/s ({t['cycles_per_image']:.0f} cycles an "
            f"image)\nlatency of the first image: {t['latency_cycles']} cycles = "
            f"{t['latency_us']['first_image']:.1f} us"
        )
    stages = ", ".join(f"{k} {v:.2f} ms" for k, v in t["stages_ms"].items())
    lat = t["latency_us"]
    return (
        f"throughput ({t['backend']} backend, {t['measured']} time, batch {t['batch']}, "
        f"median of {t['repeats']}): {t['fps']:.0f} images/s end to end, "
        f"{t['fps_device']:.0f} images/s in {t['device_stage']}\n"
        f"stages per batch: {stages}\n"
        f"latency of one image ({lat['runs']} runs): p50 {lat['p50']:.1f} us, "
        f"p99 {lat['p99']:.1f} us"
    )
