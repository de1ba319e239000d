"""Host driver: input validation, throughput figures, and the pynq backend's buffer logic
driven without a board (a stand-in pynq whose DMA runs the C-simulation library)."""

from __future__ import annotations

import numpy as np
import pytest

from boards.driver.accelerator import Accelerator, CsimBackend, DriverError

pytestmark = pytest.mark.csim


class _FakeBuffer(np.ndarray):
    def freebuffer(self) -> None:
        pass


class _FakePynq:
    """Overlay/allocate/DMA with PYNQ's call shapes; the 'hardware' is the C-sim library."""

    def __init__(self, csim: CsimBackend):
        self.csim = csim
        self.calls: list[str] = []
        outer = self

        class Channel:
            def __init__(self, role):
                self.role, self.buf = role, None

            def transfer(self, buf):
                outer.calls.append(f"{self.role}.transfer")
                self.buf = buf

            def wait(self):
                outer.calls.append(f"{self.role}.wait")
                if self.role == "recv":  # the design has consumed the send buffer
                    src = outer.send.buf
                    n = len(src) // outer.csim.in_bytes
                    out = outer.csim.transfer(np.asarray(src).reshape(n, -1))
                    self.buf[:] = out.reshape(-1)

        class Dma:
            def __init__(self, ch):
                self.sendchannel = ch
                self.recvchannel = ch

        self.send, self.recv = Channel("send"), Channel("recv")

        class Overlay:
            def __init__(self, path):
                outer.calls.append("Overlay")
                self.idma0 = Dma(outer.send)
                self.odma0 = Dma(outer.recv)

        self.Overlay = Overlay

    def allocate(self, shape, dtype):
        return np.zeros(shape, dtype).view(_FakeBuffer)


@pytest.fixture(scope="module")
def build(built):
    return built("tfc-w2a2")


def test_pynq_backend_matches_csim_bit_for_bit(build, tmp_path):
    csim = Accelerator.from_build(build, backend="csim")
    (build / "deploy" / "bitfab.bit").write_bytes(b"stand-in bitstream")
    fake = _FakePynq(csim.backend)
    board = Accelerator.from_build(build, backend="pynq", pynq_module=fake)
    x = np.random.default_rng(0).uniform(0, 1, (20, 1, 28, 28)).astype(np.float32)
    assert np.array_equal(board.execute(x), csim.execute(x))
    assert fake.calls[:3] == ["Overlay", "recv.transfer", "send.transfer"]
    t = board.throughput_test(batch=16, repeats=3)
    assert t["backend"] == "pynq" and t["measured"] == "wall"


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
    with pytest.raises(DriverError, match="unknown backend 'fpga'; available: csim, pynq"):
        Accelerator.from_build(build, backend="fpga")


def test_throughput_reports_backend_and_percentiles(build):
    t = Accelerator.from_build(build).throughput_test(batch=32, repeats=5)
    assert t["backend"] == "csim" and t["measured"] == "wall" and t["fps"] > 0
    assert t["latency_us"]["p50"] <= t["latency_us"]["p99"]
