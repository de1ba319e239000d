"""Run a deployed accelerator from its deploy/ folder: ``python3 -m driver [--backend pynq]``.

This is the board-side entry point (numpy and pynq only, no bitfab install): it runs the
throughput test, and with ``--input x.npy`` also the model on those inputs into ``--output``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from .accelerator import Accelerator, DriverError, format_throughput


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python3 -m driver", description=__doc__)
    p.add_argument("--dir", type=Path, default=Path("."), help="the deploy/ folder")
    p.add_argument("--backend", choices=["pynq", "csim"], default="pynq")
    p.add_argument("--batch", type=int, default=1000)
    p.add_argument("--input", type=Path, default=None, help=".npy input batch (float32)")
    p.add_argument("--output", type=Path, default=Path("output.npy"))
    p.add_argument(
        "--dma-timeout",
        type=float,
        default=None,
        metavar="SECONDS",
        help="pynq: give up on a start of the accelerator after this long (default: 1 s plus "
        "time for 1 MB/s and 1,000 images/s)",
    )
    args = p.parse_args(argv)
    try:
        acc = Accelerator.from_build(args.dir, backend=args.backend, dma_timeout=args.dma_timeout)
        if args.input is not None:
            y = acc.execute(np.load(args.input))
            np.save(args.output, y)
            print(f"outputs of {len(y)} inputs written to {args.output}")
        print(format_throughput(acc.throughput_test(batch=args.batch)))
    except DriverError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
