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

from .host_graph import HostGraph
from .packing import from_storage, pack, to_storage, unpack


class DriverError(Exception):
    """Bad build directory or bad input array; the message says what was expected."""


@dataclass(frozen=True)
class StreamSpec:
    bits: int
    elems: int
    words: int
    signed: bool
    bipolar: bool
    shape: list  # dataflow tensor shape with batch 1

    @property
    def nbytes(self) -> int:
        return (self.bits * self.elems + 7) // 8


class CsimBackend:
    """The compiled C-simulation library, fed the same byte buffers a DMA would move."""

    name = "csim"

    def __init__(self, lib_path: Path, in_bytes: int, out_bytes: int):
        if not lib_path.exists():
            raise DriverError(f"{lib_path}: C-simulation library missing; rebuild with bitfab")
        self.lib = ctypes.CDLL(str(lib_path))
        self.lib.bitfab_run.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_int]
        self.lib.bitfab_run.restype = ctypes.c_int
        if self.lib.bitfab_in_bytes_per_image() != in_bytes:
            raise DriverError(f"{lib_path}: input size does not match accel.json")
        if self.lib.bitfab_out_bytes_per_image() != out_bytes:
            raise DriverError(f"{lib_path}: output size does not match accel.json")
        self.in_bytes, self.out_bytes = in_bytes, out_bytes

    def transfer(self, ibuf: np.ndarray) -> np.ndarray:
        n = ibuf.shape[0]
        ibuf = np.ascontiguousarray(ibuf, dtype=np.uint8)
        obuf = np.zeros((n, self.out_bytes), dtype=np.uint8)
        rc = self.lib.bitfab_run(ibuf.ctypes.data, obuf.ctypes.data, n)
        if rc != 0:
            raise DriverError(f"C-simulation returned {rc}: stream word counts do not match")
        return obuf


class PynqBackend:
    """The bitstream on a PYNQ board: Overlay + two AXI DMAs, the same byte buffers as C-sim.

    ``pynq`` is imported lazily (it exists only on the board). Transfers are timed separately
    from the host head/tail so the figures can separate transfer+compute from host work.
    """

    name = "pynq"

    def __init__(
        self,
        bitfile: Path,
        dma_in: str,
        dma_out: str,
        in_bytes: int,
        out_bytes: int,
        pynq_module=None,
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
        self.pynq = pynq_module
        self.overlay = pynq_module.Overlay(str(bitfile))
        self.idma = getattr(self.overlay, dma_in)
        self.odma = getattr(self.overlay, dma_out)
        self.in_bytes, self.out_bytes = in_bytes, out_bytes

    def transfer(self, ibuf: np.ndarray) -> np.ndarray:
        n = ibuf.shape[0]
        src = self.pynq.allocate(shape=(n * self.in_bytes,), dtype=np.uint8)
        dst = self.pynq.allocate(shape=(n * self.out_bytes,), dtype=np.uint8)
        src[:] = np.ascontiguousarray(ibuf, dtype=np.uint8).reshape(-1)
        self.odma.recvchannel.transfer(dst)
        self.idma.sendchannel.transfer(src)
        self.idma.sendchannel.wait()
        self.odma.recvchannel.wait()
        out = np.array(dst, dtype=np.uint8).reshape(n, self.out_bytes)
        src.freebuffer()
        dst.freebuffer()
        return out


class Accelerator:
    def __init__(self, deploy_dir: Path, cfg: dict, backend):
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

    @classmethod
    def from_build(
        cls, build_dir: str | Path, backend: str = "csim", pynq_module=None
    ) -> Accelerator:
        d = Path(build_dir)
        # a build directory, or its deploy/ folder as copied to the board
        dep = d if (d / "accel.json").exists() else d / "deploy"
        path = dep / "accel.json"
        if not path.exists():
            raise DriverError(f"{d}: no deploy/accel.json; is this a finished bitfab build?")
        cfg = json.loads(path.read_text())
        if backend == "csim":
            lib = dep.parent / cfg["csim_library"]  # csim lives beside deploy/ in the build
            be = CsimBackend(
                lib,
                cfg["stream_in"]["words"] * _nbytes(cfg["stream_in"]),
                cfg["stream_out"]["words"] * _nbytes(cfg["stream_out"]),
            )
        elif backend == "pynq":
            be = PynqBackend(
                dep / cfg.get("bitfile", "bitfab.bit"),
                cfg["dma"]["input"],
                cfg["dma"]["output"],
                cfg["stream_in"]["words"] * _nbytes(cfg["stream_in"]),
                cfg["stream_out"]["words"] * _nbytes(cfg["stream_out"]),
                pynq_module=pynq_module,
            )
        else:
            raise DriverError(f"unknown backend '{backend}'; available: csim, pynq")
        return cls(dep, cfg, be)

    # -- the three stages, exposed so verification can compare inside ---------------------
    def run_head(self, x: np.ndarray) -> np.ndarray:
        """Float input -> integers entering the design, shape [N, ...dataflow input]."""
        v = self.head.run(x)[self.head.output]
        return np.rint(v).astype(np.int64)

    def run_design(self, ints: np.ndarray) -> np.ndarray:
        n = ints.shape[0]
        flat = to_storage(ints.reshape(n, -1), self.sin.bipolar)
        ibuf = pack(flat, self.sin.bits, self.sin.elems).reshape(n, -1)
        obuf = self.backend.transfer(ibuf)
        words = obuf.reshape(n, self.sout.words, self.sout.nbytes)
        out = unpack(words, self.sout.bits, self.sout.elems, self.sout.signed)
        out = from_storage(out, self.sout.bipolar)
        return out.reshape((n, *self.sout.shape[1:]))

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

    def throughput_test(self, batch: int = 1000, repeats: int = 5) -> dict:
        """Images/s and per-batch latency percentiles over repeated runs of the design."""
        rng = np.random.default_rng(0)
        lo, hi = (
            (-1, 1)
            if self.sin.bipolar
            else (
                (-(1 << (self.sin.bits - 1)), (1 << (self.sin.bits - 1)) - 1)
                if self.sin.signed
                else (0, (1 << self.sin.bits) - 1)
            )
        )
        ints = rng.integers(lo, hi + 1, size=(batch, *self.sin.shape[1:]))
        if self.sin.bipolar:
            ints = np.where(ints >= 0, 1, -1)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            self.run_design(ints)
            times.append(time.perf_counter() - t0)
        per_image_us = np.array(times) / batch * 1e6
        return {
            "backend": self.backend.name,
            "measured": "wall",
            "batch": batch,
            "fps": float(batch / np.median(times)),
            "latency_us": {
                "p50": float(np.percentile(per_image_us, 50)),
                "p99": float(np.percentile(per_image_us, 99)),
            },
        }


def _nbytes(s: dict) -> int:
    return (s["bits"] * s["elems"] + 7) // 8
