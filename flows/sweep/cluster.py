"""Connecting to Ray: a private local instance, or a running cluster at an address.

``--address`` takes ``local`` (the default: a Ray started for this sweep with ``--jobs``
CPUs, stopped at the end), ``auto`` (the cluster ``ray start`` runs on this machine), a head's
``HOST:PORT`` (what ``ray start --head`` prints, port 6379 by default) or a Ray Client address
``ray://HOST:PORT`` (port 10001). An address that does not answer is an exit-1 error within
:data:`CONNECT_TIMEOUT_S` seconds, before Ray's own connection loop (which retries for a minute)
starts.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass

from flows.errors import InputError, ToolMissingError

LOCAL = "local"
CONNECT_TIMEOUT_S = 3.0
# The custom resource a node declares when it has Vivado and Vitis HLS:
#   ray start --address HEAD:6379 --resources '{"vivado": 1}'
VIVADO_RESOURCE = "vivado"

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Connection:
    """What the sweep ran on, for sweep.json."""

    address: str
    nodes: int
    cpus: int
    resources: dict[str, float]


def import_ray():
    """Ray, or an exit-2 error saying how to install it."""
    try:
        import ray
    except ImportError:
        raise ToolMissingError(
            "Ray is not installed: `make install` brings it (it is bitfab's `cluster` extra: "
            "pip install -e '.[cluster]', or pip install 'ray[client]==2.58.0')"
        ) from None
    return ray


def _host_port(address: str) -> tuple[str, int]:
    hostport = address.removeprefix("ray://")
    host, sep, port = hostport.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise InputError(
            f"--address {address}: expected local, auto, HOST:PORT (a head's GCS address, "
            "e.g. 10.0.0.5:6379) or ray://HOST:PORT (Ray Client, e.g. ray://10.0.0.5:10001)"
        )
    return host, int(port)


def check_reachable(address: str, timeout: float = CONNECT_TIMEOUT_S) -> None:
    """Raise an exit-1 error naming ``address`` unless a TCP connection to it opens within
    ``timeout`` seconds."""
    host, port = _host_port(address)
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return
    except OSError as exc:
        why = "no answer" if isinstance(exc, TimeoutError) else exc.strerror or str(exc)
        raise InputError(
            f"--address {address}: cannot reach Ray there ({why} within {timeout:g} s). Check "
            "that the head runs (`ray start --head` on that machine; `ray status` there lists "
            "its nodes), that the port is the one it printed (6379 for HOST:PORT, 10001 for "
            "ray://), and that no firewall blocks it"
        ) from None


def _current_cluster_address() -> str:
    """The address `ray start` on this machine recorded (for ``--address auto``)."""
    path = "/tmp/ray/ray_current_cluster"
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        raise InputError(
            "--address auto: no Ray cluster runs on this machine (no /tmp/ray/ray_current_"
            "cluster); start one with `ray start --head`, or leave --address out for a "
            "private local Ray"
        ) from None


def preflight(address: str) -> str | None:
    """The address to give ``ray.init`` (None: a private local Ray), after checking within
    seconds that it answers: run before any work, so a typo costs no build."""
    import_ray()
    if address == LOCAL:
        return None
    target = _current_cluster_address() if address == "auto" else address
    check_reachable(target)
    return target


@contextlib.contextmanager
def _keep_signal_handlers() -> Iterator[None]:
    """Keep this process's SIGTERM and SIGINT handlers across ``ray.init``.

    ``ray.init`` replaces them: in Python with one that exits at once, and in C++ with a
    failure handler that aborts (exit -6). The command line's handlers stop the sweep
    cleanly (sweep.json written, exit 128+signal); they are set again afterwards, which also
    puts them back in front at the C level.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {s: signal.getsignal(s) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for s, handler in saved.items():
            if handler is not None:
                signal.signal(s, handler)


@contextlib.contextmanager
def connect(address: str = LOCAL, jobs: int | None = None) -> Iterator[Connection]:
    """Ray initialised for the block, shut down after it (a cluster keeps running: only this
    driver disconnects). ``jobs`` is the CPUs of a private local Ray."""
    ray = import_ray()
    quiet = {"log_to_driver": False, "logging_level": logging.WARNING}
    target = preflight(address)
    if target is None:
        cpus = jobs or os.cpu_count() or 1
        # "local": always a new instance (no address would join a `ray start` cluster here)
        with _keep_signal_handlers():
            ray.init(address="local", num_cpus=cpus, include_dashboard=False, **quiet)
    else:
        try:
            with _keep_signal_handlers():
                ray.init(address=target, **quiet)
        except (ConnectionError, RuntimeError, TimeoutError) as exc:
            raise InputError(
                f"--address {address}: Ray answered but the connection failed ({exc}); check "
                "that the cluster runs Ray 2.58.0 and the same Python (3.11) as here"
            ) from None
    try:
        nodes = [n for n in ray.nodes() if n.get("Alive")]
        total = ray.cluster_resources()
        yield Connection(
            address=address,
            nodes=len(nodes),
            cpus=int(total.get("CPU", 0)),
            resources={k: float(v) for k, v in sorted(total.items()) if "node:" not in k},
        )
    finally:
        ray.shutdown()


def require_vivado(conn: Connection) -> None:
    """An exit-2 error unless some node of the cluster declares :data:`VIVADO_RESOURCE`:
    a task that needs it would otherwise wait forever."""
    if not conn.resources.get(VIVADO_RESOURCE):
        raise ToolMissingError(
            f"no node of the Ray cluster ({conn.address}) declares the '{VIVADO_RESOURCE}' "
            "resource, so no bitstream task could ever run. Start Ray on each machine that has "
            "Vivado and Vitis HLS on PATH with: ray start --address HEAD:6379 --resources "
            f"'{{\"{VIVADO_RESOURCE}\": 1}}'"
        )
