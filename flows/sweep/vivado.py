"""``bitfab bitstream`` as a Ray task on a node that has Vivado.

The nodes with the tools (and the licence) declare the custom resource ``vivado`` when they
join the cluster (``ray start --address HEAD:6379 --resources '{"vivado": 1}'``); a task that
asks for it runs only there, one at a time per node (a bitstream takes 8-16 GB). The build
directory goes there packed and comes back packed, without the Vivado and Vitis HLS project
trees (gigabytes of intermediate files): the bitfile and .hwh in deploy/, the reports and the
logs are what the host needs.
"""

from __future__ import annotations

import platform
import shutil
import tempfile
import time
from pathlib import Path

from boards.vivado import HLS_PROJECT
from flows.sweep.pack import pack, unpack
from flows.sweep.point import PointOutcome, ray_node_id

# Project trees the vendor tools write (vivado.tcl.j2, hls.tcl.j2): left on the node
PROJECT_TREES = ("vivado/project", HLS_PROJECT)


def bitstream_task(packed: bytes, name: str, backend: str = "hls", cosim: int = 0) -> PointOutcome:
    """Run the vendor flow on the build directory ``packed``; never raises for a user error
    (a missing tool, a failing Vivado run): the summary says what happened."""
    from flows import api

    t0 = time.perf_counter()
    scratch = Path(tempfile.mkdtemp(prefix=f"bitfab-bitstream-{name}-"))
    d = scratch / name
    error = None
    try:
        unpack(packed, d)
        try:
            bit = api.bitstream(d, backend=backend, cosim=cosim)
        except api.USER_ERRORS as exc:
            bit = None
            error = {"phase": "bitstream", "message": str(exc), "exit_code": exc.exit_code}
        for tree in PROJECT_TREES:
            shutil.rmtree(d / tree, ignore_errors=True)
        back = pack(d)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    summary = {
        "status": "failed" if error else "done",
        "error": error,
        "bitfile": str(bit.relative_to(d)) if bit is not None and not error else None,
        "node": platform.node(),
        "ray_node": ray_node_id(),
        "wall_seconds": round(time.perf_counter() - t0, 1),
    }
    return PointOutcome(summary, back)


def bitstream_on_cluster(
    build_dir: Path, address: str, backend: str = "hls", cosim: int = 0, progress=None
) -> str:
    """``bitfab bitstream DIR --address ADDR``: the vendor flow as a Ray task on a node with
    the ``vivado`` resource; DIR is replaced by what comes back (in one rename). Returns the
    node's name; raises the node's error (a missing tool: exit 2) as if it had run here."""
    from flows.build import check_finished
    from flows.errors import BitfabError
    from flows.progress import SILENT
    from flows.sweep.cluster import VIVADO_RESOURCE, connect, import_ray, require_vivado

    progress = progress or SILENT
    d = Path(build_dir)
    check_finished(d)
    with connect(address) as conn:
        require_vivado(conn)
        ray = import_ray()
        task = ray.remote(num_cpus=1, max_retries=0, resources={VIVADO_RESOURCE: 1})(bitstream_task)
        with progress.task("bitstream", what=f"Ray task on a '{VIVADO_RESOURCE}' node"):
            outcome = ray.get(task.remote(pack(d), d.name, backend, cosim))
    unpack(outcome.packed, d)
    s = outcome.summary
    if s["error"]:
        err = BitfabError(f"on Ray node {s['node']}: {s['error']['message']}")
        err.exit_code = s["error"]["exit_code"]
        raise err
    return s["node"]
