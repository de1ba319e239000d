"""Print C-simulation images/s (host driver, csim backend) against the QONNX executor's
images/s on the same inputs, measured in the same run.

    python bench/csim_vs_executor.py --model cnv-w1a1 --batch 64
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path

import numpy as np
from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.accelerator import Accelerator
from flows.build import run_build
from flows.config import BuildConfig
from flows.verify import draw_inputs, run_reference


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="tfc-w1a1")
    ap.add_argument("--batch", type=int, default=256)
    ap.add_argument("--out", default=None, help="build dir (default: a temporary one)")
    a = ap.parse_args()
    out = Path(a.out) if a.out else Path(tempfile.mkdtemp()) / a.model
    t0 = time.perf_counter()
    d = run_build(BuildConfig(model=a.model, out=out))
    build_s = time.perf_counter() - t0
    ref = ModelWrapper(str(d / "reference.onnx"))
    x = draw_inputs(ref, a.batch, seed=0)
    acc = Accelerator.from_build(d, backend="csim")
    acc.execute(x[:1])  # warm up (library load)
    t0 = time.perf_counter()
    y_hw = acc.execute(x)
    csim_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    y_ref = run_reference(ref, x)[ref.graph.output[0].name]
    ref_s = time.perf_counter() - t0
    same = int(np.sum(np.all(y_hw.reshape(len(x), -1) == y_ref.reshape(len(x), -1), axis=1)))
    print(f"model {a.model}, batch {a.batch}, build {build_s:.1f} s")
    print(f"C-sim (driver, csim backend, wall): {a.batch / csim_s:10.1f} images/s")
    print(f"QONNX executor (execute_onnx, wall): {a.batch / ref_s:10.1f} images/s")
    print(f"ratio C-sim / executor: {ref_s / csim_s:.2f}x; bit-identical outputs {same}/{a.batch}")
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory: {own:.0f} MiB (this process), {kids:.0f} MiB (g++)")


if __name__ == "__main__":
    main()
