"""Fixtures of the sweep tests: a small model file, and a Ray cluster of two nodes."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

RAY = str(Path(sys.executable).with_name("ray"))


@pytest.fixture(scope="session")
def small_model(tmp_path_factory) -> Path:
    """A bipolar MLP (32-32-24-10) as a QONNX file: builds in seconds."""
    from tests.qonnx_factory import bipolar_mlp

    path = tmp_path_factory.mktemp("sweep-model") / "mlp.onnx"
    bipolar_mlp(0).save(str(path))
    return path


@dataclass(frozen=True)
class Cluster:
    address: str  # the head's GCS address, HOST:PORT
    client: str  # its Ray Client address, ray://HOST:PORT


def _free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _node(args: list[str], env: dict, log: Path) -> subprocess.Popen:
    """`ray start --block`: the node's processes live and die with this one."""
    return subprocess.Popen(
        [RAY, "start", "--block", "--disable-usage-stats", *args],
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def _stop(proc: subprocess.Popen) -> None:
    import signal

    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def two_node_cluster(tmp_path_factory):
    """A head (1 CPU) and a worker node (1 CPU, the ``vivado`` resource, and stand-ins for
    vitis_hls and vivado on its PATH, which write the bitfile) on this machine: yields the
    head's addresses. The head has no vendor tool, so a bitstream task can only run on the
    worker."""
    root = tmp_path_factory.mktemp("ray-cluster")
    bin_dir = root / "vendor-bin"
    bin_dir.mkdir()
    (bin_dir / "vitis_hls").write_text('#!/bin/sh\necho "vitis_hls $*" >> calls.log\n')
    (bin_dir / "vivado").write_text(
        '#!/bin/sh\necho "vivado $*" >> calls.log\necho "a bitfile" > deploy/bitfab.bit\n'
        'echo "a handoff" > deploy/bitfab.hwh\n'
    )
    for tool in ("vitis_hls", "vivado"):
        (bin_dir / tool).chmod(0o755)
    port, client_port = _free_port(), _free_port()
    address = f"127.0.0.1:{port}"
    mem = ["--object-store-memory", str(200 * 2**20), "--num-cpus", "1"]
    env = {k: v for k, v in os.environ.items() if k != "XILINX_VIVADO"}
    head = _node(
        [
            "--head",
            "--port",
            str(port),
            "--ray-client-server-port",
            str(client_port),
            "--node-ip-address",
            "127.0.0.1",
            "--include-dashboard",
            "false",
            *mem,
        ],
        env,
        root / "head.log",
    )
    worker = None
    try:
        _wait_nodes(address, 1, head, root / "head.log")
        worker_env = env | {"PATH": f"{bin_dir}{os.pathsep}{env['PATH']}"}
        worker = _node(
            [
                "--address",
                address,
                "--node-ip-address",
                "127.0.0.1",
                "--resources",
                '{"vivado": 1}',
                *mem,
            ],
            worker_env,
            root / "worker.log",
        )
        _wait_nodes(address, 2, worker, root / "worker.log")
        _wait_port(client_port, head, root / "head.log")
        yield Cluster(address, f"ray://127.0.0.1:{client_port}")
    finally:
        if worker is not None:
            _stop(worker)
        _stop(head)


def _wait_nodes(address: str, n: int, proc: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"ray start exited {proc.returncode}:\n{log.read_text()[-3000:]}")
        r = subprocess.run([RAY, "status", "--address", address], capture_output=True, text=True)
        if r.returncode == 0 and r.stdout.count(" node_") >= n:
            return
        time.sleep(1)
    pytest.fail(f"the Ray cluster at {address} did not reach {n} nodes:\n{log.read_text()}")


def _wait_port(port: int, proc: subprocess.Popen, log: Path) -> None:
    """The Ray Client server starts a little after the head's node registers."""
    import socket

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.5)
    pytest.fail(f"the Ray Client server on port {port} did not start:\n{log.read_text()}")
