"""Host driver: input validation, throughput figures, and the pynq backend's buffer logic
driven without a board (a stand-in pynq whose DMA runs the C-simulation library)."""

from __future__ import annotations

import numpy as np
import pytest

from boards.driver.accelerator import Accelerator, CsimBackend, DriverError, StreamSpec
from boards.driver.packing import to_storage
from tests.packing_reference import reference_pack, reference_to_beats

pytestmark = pytest.mark.csim


class _FakeBuffer(np.ndarray):
    def freebuffer(self) -> None:
        pass

    def flush(self) -> None:
        pass

    def invalidate(self) -> None:
        pass


class _FakePynq:
    """Overlay/allocate/DMA/IP with PYNQ's call shapes; the 'hardware' is the C-sim library.

    The stand-in checks what the real hardware would need: ``n_images`` written to the IP's
    control registers before ``ap_start``, both transfers queued before the driver waits,
    and buffer lengths that agree with ``n_images`` (the design's TLAST ends the S2MM
    transfer after exactly ``n_images`` images). The design runs when the driver first
    polls a channel's ``idle`` after a start; ``wait()`` sets ``transferred`` as PYNQ's
    ``_SDMAChannel`` does, and fails the test if called on a channel that is not idle
    (PYNQ's would spin forever).

    Faults, as a board shows them: ``stall`` ("send" or "recv": that channel never goes
    idle), ``short_by`` (the S2MM channel reports that many bytes fewer, as after an early
    TLAST), ``error`` (that channel's DMA status has an error bit: PYNQ's ``wait()`` raises
    RuntimeError) and ``busy`` (the accelerator's ap_idle never sets).
    """

    def __init__(
        self,
        csim: CsimBackend,
        n_images_offset: int,
        stall: str | None = None,
        short_by: int = 0,
        error: str | None = None,
        busy: bool = False,
    ):
        self.csim = csim
        self.calls: list[str] = []
        self.regs: dict[int, int] = {}
        self.started = False
        outer = self

        def run_design():
            if not outer.started:
                return
            n = outer.regs[n_images_offset]
            src = np.asarray(outer.send.buf)
            assert outer.recv.buf is not None, "the design ran before the S2MM transfer"
            assert len(src) == n * outer.csim.in_bytes
            assert len(outer.recv.buf) == n * outer.csim.out_bytes
            out, _ = outer.csim.transfer(src.reshape(n, -1))
            outer.recv.buf[:] = out.reshape(-1)
            outer.started = False

        class Channel:
            def __init__(self, role):
                self.role, self.buf, self.transferred = role, None, 0

            def transfer(self, buf):
                outer.calls.append(f"{self.role}.transfer")
                self.buf, self.transferred = buf, 0

            @property
            def idle(self):
                if stall == self.role:
                    return False
                if outer.send.buf is not None and outer.recv.buf is not None:
                    run_design()
                return True

            @property
            def error(self):
                return error == self.role

            def wait(self):
                outer.calls.append(f"{self.role}.wait")
                if error == self.role:
                    raise RuntimeError("DMA Internal Error (transfer length 0?)")
                assert self.idle, "PYNQ's wait() would never return here"
                self.transferred = self.buf.nbytes - (short_by if self.role == "recv" else 0)

        class Dma:
            def __init__(self, ch):
                self.sendchannel = ch
                self.recvchannel = ch

        class Ip:
            def read(self, offset):
                outer.calls.append(f"ip.read({offset:#x})")
                assert offset == 0x00
                return 0x0 if busy or outer.started else 0x4  # ap_idle

            def write(self, offset, value):
                outer.calls.append(f"ip.write({offset:#x})")
                if offset == 0x00:
                    assert n_images_offset in outer.regs, "started before n_images was set"
                    assert not outer.started, "started while the last run is unfinished"
                    outer.started = True
                outer.regs[offset] = int(value)

        self.send, self.recv = Channel("send"), Channel("recv")

        class Overlay:
            def __init__(self, path):
                outer.calls.append("Overlay")
                self.idma0 = Dma(outer.send)
                self.odma0 = Dma(outer.recv)
                self.bitfab_top_0 = Ip()

        self.Overlay = Overlay

    def allocate(self, shape, dtype):
        return np.zeros(shape, dtype).view(_FakeBuffer)


@pytest.fixture(scope="module")
def build(built):
    return built("tfc-w2a2")


def test_pynq_backend_matches_csim_bit_for_bit(build, tmp_path):
    csim = Accelerator.from_build(build, backend="csim")
    (build / "deploy" / "bitfab.bit").write_bytes(b"stand-in bitstream")
    fake = _FakePynq(csim.backend, csim.cfg["dma"]["n_images_offset"])
    board = Accelerator.from_build(build, backend="pynq", pynq_module=fake)
    x = np.random.default_rng(0).uniform(0, 1, (20, 1, 28, 28)).astype(np.float32)
    assert np.array_equal(board.execute(x), csim.execute(x))
    assert fake.calls[:8] == [
        "Overlay",
        "ip.read(0x0)",  # ap_idle before the start
        "ip.write(0x10)",
        "ip.write(0x0)",
        "recv.transfer",
        "send.transfer",
        "send.wait",  # only once idle: PYNQ's own wait() has no deadline
        "recv.wait",
    ]
    t = board.throughput_test(batch=16, repeats=3, latency_runs=5)
    assert t["backend"] == "pynq" and t["measured"] == "wall"
    assert set(t["stages_ms"]) == {
        "pack",
        "copy_to_device",
        "dma_compute",
        "copy_from_device",
        "unpack",
    }
    assert t["device_stage"] == "dma_compute" and t["fps_device"] >= t["fps"]


def test_pynq_backend_splits_batches_the_dma_cannot_take_at_once(build):
    """A batch above the DMA length register's limit goes as several starts."""
    csim = Accelerator.from_build(build, backend="csim")
    (build / "deploy" / "bitfab.bit").write_bytes(b"stand-in bitstream")
    fake = _FakePynq(csim.backend, csim.cfg["dma"]["n_images_offset"])
    board = Accelerator.from_build(build, backend="pynq", pynq_module=fake)
    board.backend.max_images = 3
    x = np.random.default_rng(1).uniform(0, 1, (10, 1, 28, 28)).astype(np.float32)
    assert np.array_equal(board.execute(x), csim.execute(x))
    assert fake.calls.count("ip.write(0x0)") == 4  # 3 + 3 + 3 + 1 images


def _board(build, dma_timeout=None, **faults):
    """The build behind a stand-in pynq with ``faults`` (see _FakePynq), and its csim twin."""
    csim = Accelerator.from_build(build, backend="csim")
    (build / "deploy" / "bitfab.bit").write_bytes(b"stand-in bitstream")
    fake = _FakePynq(csim.backend, csim.cfg["dma"]["n_images_offset"], **faults)
    board = Accelerator.from_build(build, backend="pynq", pynq_module=fake, dma_timeout=dma_timeout)
    return board, fake


@pytest.mark.parametrize(
    ("stall", "dma", "what"),
    [
        ("send", "idma0", r"MM2S, sending 2 images \({in_} bytes\) to the design"),
        ("recv", "odma0", r"S2MM, receiving 2 images \({out} bytes\) from the design"),
    ],
)
def test_pynq_backend_gives_up_on_a_dma_that_never_finishes(build, stall, dma, what):
    """A stalled design hangs PYNQ's wait() forever; the driver stops at its deadline."""
    import time

    board, fake = _board(build, dma_timeout=0.05, stall=stall)
    be = board.backend
    what = what.format(in_=2 * be.in_bytes, out=2 * be.out_bytes)
    t0 = time.perf_counter()
    with pytest.raises(
        DriverError,
        match=rf"^DMA '{dma}' \({what}\) did not finish within 0\.05 s: .*"
        r"built from this deploy/ folder .*--dma-timeout.*Reload the overlay",
    ):
        board.execute(np.zeros((2, 1, 28, 28), np.float32))
    assert time.perf_counter() - t0 < 5
    assert f"{stall}.wait" not in fake.calls  # never handed to PYNQ's unbounded wait


def test_pynq_backend_checks_the_bytes_received(build):
    """An early TLAST ends the S2MM transfer short: an error, not zeros in the output."""
    board, _ = _board(build, short_by=8)
    out = board.backend.out_bytes
    with pytest.raises(
        DriverError,
        match=rf"^DMA 'odma0' \(S2MM\) received {3 * out - 8} bytes for 3 images, expected "
        rf"{3 * out} \({out} per image\): the design ended its output stream \(TLAST\) at "
        "the wrong place",
    ):
        board.execute(np.zeros((3, 1, 28, 28), np.float32))


def test_pynq_backend_reports_dma_errors_and_a_busy_accelerator(build):
    board, _ = _board(build, error="recv")
    out = board.backend.out_bytes
    with pytest.raises(
        DriverError,
        match=rf"^DMA 'odma0' \(S2MM, receiving 1 image \({out} bytes\) from the design\) "
        r"failed: DMA Internal Error \(transfer length 0\?\)$",
    ):
        board.execute(np.zeros((1, 1, 28, 28), np.float32))
    board, fake = _board(build, dma_timeout=0.05, busy=True)
    with pytest.raises(
        DriverError,
        match=r"^accelerator 'bitfab_top_0' did not report ap_idle within 0\.05 s before a "
        "new start: a previous run has not finished",
    ):
        board.execute(np.zeros((1, 1, 28, 28), np.float32))
    assert "ip.write(0x0)" not in fake.calls  # never started on top of a running design


def test_board_entry_point_takes_the_dma_timeout(build, monkeypatch, capsys):
    """`python3 -m driver --dma-timeout S` reaches the pynq backend (a stalled design here)."""
    import sys

    from boards.driver.__main__ import main

    _, fake = _board(build, stall="recv")
    monkeypatch.setitem(sys.modules, "pynq", fake)
    args = ["--dir", str(build / "deploy"), "--batch", "4", "--dma-timeout", "0.02"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: DMA 'odma0' (S2MM, receiving 4 images")
    assert "did not finish within 0.02 s" in err and "Traceback" not in err


def test_pynq_dma_timeout_default_and_bad_values(build):
    board, _ = _board(build)
    be = board.backend
    assert be.timeout_s is None
    assert be.default_timeout(1) == pytest.approx(1.0 + (be.in_bytes + be.out_bytes) / 1e6 + 1e-3)
    assert be.default_timeout(1000) == pytest.approx(
        1.0 + 1000 * (be.in_bytes + be.out_bytes) / 1e6 + 1.0
    )
    for bad in (0, -1.0):
        with pytest.raises(
            DriverError, match=f"^DMA timeout must be a positive number of seconds, got {bad}$"
        ):
            _board(build, dma_timeout=bad)


def test_driver_runs_from_the_deploy_folder_alone(build):
    """On the board users work inside the copied deploy/ folder."""
    a = Accelerator.from_build(build / "deploy")
    x = np.zeros((3, 1, 28, 28), np.float32)
    assert np.array_equal(a.execute(x), Accelerator.from_build(build).execute(x))


def test_pynq_backend_without_pynq_or_bitfile(build):
    with pytest.raises(DriverError, match="needs the pynq package"):
        Accelerator.from_build(build, backend="pynq")


def test_execute_rejects_wrong_shape_and_dtype(build):
    acc = Accelerator.from_build(build)
    with pytest.raises(
        DriverError, match=r"input shape is \(2, 1, 28, 27\); expected \(N, 1, 28, 28\)"
    ):
        acc.execute(np.zeros((2, 1, 28, 27), np.float32))
    with pytest.raises(DriverError, match="input dtype is float64; expected float32"):
        acc.execute(np.zeros((2, 1, 28, 28)))


def test_unknown_backend(build):
    with pytest.raises(DriverError, match="unknown backend 'fpga'; available: csim, rtlsim, pynq"):
        Accelerator.from_build(build, backend="fpga")


def test_throughput_reports_backend_and_percentiles(build):
    t = Accelerator.from_build(build).throughput_test(batch=32, repeats=5, latency_runs=20)
    assert t["backend"] == "csim" and t["measured"] == "wall" and t["fps"] > 0
    assert t["latency_us"]["p50"] <= t["latency_us"]["p99"]
    assert t["latency_us"] == {**t["latency_us"], "runs": 20, "batch": 1}
    assert set(t["stages_ms"]) == {"pack", "compute", "unpack"}
    assert t["fps_device"] >= t["fps"]


def test_accel_json_from_another_version_is_refused(build, tmp_path):
    import json
    import shutil

    dep = tmp_path / "deploy"
    shutil.copytree(build / "deploy", dep)
    cfg = json.loads((dep / "accel.json").read_text())
    cfg["format"] = 1
    (dep / "accel.json").write_text(json.dumps(cfg))
    with pytest.raises(DriverError, match=r"accel.json format 1, but this driver reads format 2"):
        Accelerator.from_build(dep)
    (dep / "accel.json").write_text("{ not json")
    with pytest.raises(DriverError, match="not readable JSON"):
        Accelerator.from_build(dep)


def test_board_side_entry_point_runs_from_deploy(build):
    """`python3 -m driver` inside deploy/ (what the deploy README tells users to run)."""
    import subprocess
    import sys

    r = subprocess.run(
        [sys.executable, "-m", "driver", "--backend", "csim", "--batch", "8"],
        cwd=build / "deploy",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "images/s end to end" in r.stdout and "latency of one image" in r.stdout
    r = subprocess.run(
        [sys.executable, "-m", "driver", "--backend", "pynq"],
        cwd=build / "deploy",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "needs the pynq package" in r.stderr
    assert "Traceback" not in r.stderr


def test_128_bit_dma_edge_verifies(built):
    """Zynq UltraScale+ boards have 128-bit HP ports: the design's edge takes 128-bit beats."""
    import json

    from flows.verify import verify_build

    d = built("tfc-w1a2", board="ultra96-v2")
    cfg = json.loads((d / "deploy" / "accel.json").read_text())
    assert cfg["dma"]["beat_bits"] == 128
    in_bytes = Accelerator.from_build(d).backend.in_bytes
    assert in_bytes % 16 == 0
    assert verify_build(d, 50)["status"] == "pass"


def test_run_refuses_a_build_from_another_version(build, tmp_path):
    import json
    import shutil
    import subprocess
    import sys

    d = shutil.copytree(build, tmp_path / "old")
    m = json.loads((d / "manifest.json").read_text())
    m["format"] = 1
    (d / "manifest.json").write_text(json.dumps(m))
    r = subprocess.run(
        [sys.executable, "-m", "flows.cli", "run", str(d), "--batch", "4"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "Traceback" not in r.stderr
    assert "built by another bitfab version (format 1, expected 2)" in r.stderr


@pytest.mark.slow
def test_driver_runs_under_numpy_1_as_board_images_carry(build, tmp_path):
    """PYNQ images ship numpy 1.x: the deployed driver must give the same outputs there."""
    import subprocess
    import sys

    venv = tmp_path / "np1"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    pip = subprocess.run(
        [str(venv / "bin" / "pip"), "install", "-q", "numpy==1.26.4"], capture_output=True
    )
    if pip.returncode != 0:
        pytest.skip("numpy 1.26.4 not installable here (no package registry)")
    x = np.random.default_rng(3).uniform(0, 1, (12, 1, 28, 28)).astype(np.float32)
    np.save(tmp_path / "x.npy", x)
    r = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "driver", "--backend", "csim", "--batch", "8"]
        + ["--input", str(tmp_path / "x.npy"), "--output", str(tmp_path / "y.npy")],
        cwd=build / "deploy",
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert np.array_equal(np.load(tmp_path / "y.npy"), Accelerator.from_build(build).execute(x))


def test_report_dma_edge_matches_the_library_and_bounds_the_fps(build):
    import json

    rep = json.loads((build / "report.json").read_text())
    edge = {e["side"]: e for e in rep["dma_edge"]}
    be = Accelerator.from_build(build).backend
    assert edge["input"]["bytes_per_image"] == be.in_bytes
    assert edge["output"]["bytes_per_image"] == be.out_bytes
    assert edge["input"]["cycles"] == max(
        edge["input"]["beats_per_image"], edge["input"]["words_per_image"]
    )
    worst = max([r["cycles"] for r in rep["layers"]] + [e["cycles"] for e in edge.values()])
    assert rep["totals"]["bottleneck_cycles"] == worst


@pytest.mark.parametrize(
    "ends",
    [
        None,  # the build's own stream ends
        (  # tfc-w1a1's: 784 bipolar bits in, two words of five INT8 out
            StreamSpec(1, 784, 1, False, True, [1, 784]),
            StreamSpec(8, 5, 2, True, False, [1, 10]),
        ),
        (  # cnv-w1a1's: 1024 words of three INT8 in, ten 11-bit words out
            StreamSpec(8, 3, 1024, True, False, [1, 32, 32, 3]),
            StreamSpec(11, 1, 10, True, False, [1, 10]),
        ),
    ],
    ids=["build", "tfc-w1a1", "cnv-w1a1"],
)
def test_dma_buffers_are_the_reference_packing(build, ends):
    """pack_input/pack_output give the bytes the bit-by-bit packing gave (through
    to_storage and int64), and unpack_output inverts them."""
    acc = Accelerator.from_build(build)
    if ends is not None:
        acc.sin, acc.sout = ends
    rng = np.random.default_rng(0)
    for spec, pack_fn in ((acc.sin, acc.pack_input), (acc.sout, acc.pack_output)):
        ints = _random_ints(rng, spec, 9)
        flat = to_storage(ints.reshape(9, -1), spec.bipolar)
        want = reference_to_beats(reference_pack(flat, spec.bits, spec.elems), acc.beat_bits)
        assert np.array_equal(pack_fn(ints), want)
    assert np.array_equal(acc.unpack_output(acc.pack_output(ints)), ints)


def _random_ints(rng, spec: StreamSpec, n: int) -> np.ndarray:
    shape = (n, *spec.shape[1:])
    if spec.bipolar:
        return np.where(rng.integers(0, 2, size=shape) > 0, 1, -1)
    lo = -(1 << (spec.bits - 1)) if spec.signed else 0
    return rng.integers(lo, lo + (1 << spec.bits), size=shape)
