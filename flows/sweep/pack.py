"""A build directory through Ray's object store: packed on the worker, unpacked on the driver.

Why the object store and not a shared filesystem: a cluster's nodes rarely share one, and a
point that builds in a worker's scratch directory and sends its artifacts back works the same
on one laptop, on a cluster, and on a Vivado node behind a firewall. The price is one copy of
each build directory (a tfc-w1a1 point with rtlsim: a few MB).

Compiled simulation models (rtl/obj_dir, Verilator's object files) are left out: they are
rebuilt on demand, and they are most of the bytes.
"""

from __future__ import annotations

import io
import shutil
import tarfile
import uuid
from pathlib import Path

# Directories not worth the transfer: Verilator's build tree (make, objects), rebuilt on demand
SKIP_DIRS = frozenset({"obj_dir", "__pycache__"})


def pack(directory: Path) -> bytes:
    """``directory``'s files as a gzip'd tar, members sorted and owner/time-free, so the same
    files give the same bytes."""
    buf = io.BytesIO()
    root = Path(directory)

    def clean(info: tarfile.TarInfo) -> tarfile.TarInfo | None:
        if SKIP_DIRS.intersection(Path(info.name).parts):
            return None
        info.uid = info.gid = 0
        info.uname = info.gname = ""
        info.mtime = 0
        return info

    with tarfile.open(fileobj=buf, mode="w:gz", compresslevel=6) as tar:
        for path in sorted(root.rglob("*")):
            if path.is_file() and not SKIP_DIRS.intersection(path.relative_to(root).parts):
                tar.add(path, arcname=str(path.relative_to(root)), filter=clean)
    return buf.getvalue()


def unpack(data: bytes, dest: Path) -> None:
    """Replace ``dest`` with the packed files. They land in a sibling first and are renamed
    into place, so ``dest`` is never half-written. What :func:`pack` leaves out and ``dest``
    has (a compiled simulation model) moves over: it is still this build's."""
    dest = Path(dest)
    tmp = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.part")
    old = dest.with_name(f".{dest.name}.{uuid.uuid4().hex[:8]}.old")
    tmp.mkdir(parents=True)
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            tar.extractall(tmp, filter="data")
        if dest.exists():
            for kept in sorted(p for p in dest.rglob("*") if p.is_dir() and p.name in SKIP_DIRS):
                target = tmp / kept.relative_to(dest)
                if kept.is_dir() and target.parent.is_dir() and not target.exists():
                    kept.rename(target)
            dest.rename(old)
        tmp.rename(dest)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(old, ignore_errors=True)
