"""Data for the Vitis HLS testbench (hls/tb.cpp): inputs and the outputs they must give.

csim_design runs the generated testbench on these files, so the vendor tool's own C-simulation
checks the design against the same bit-exact oracle as our g++ C-simulation: the dataflow
graph's per-layer references, not the C++ itself. ``bitfab bitstream --cosim N`` also writes a
pair of N images for cosim_design (RTL simulation is slow, so N is usually smaller).
"""

from __future__ import annotations

from pathlib import Path

from qonnx.core.modelwrapper import ModelWrapper

from boards.driver.accelerator import Accelerator
from flows.verify import run_dataflow

TB_INPUT = "hls/tb/input.bin"
TB_EXPECTED = "hls/tb/expected.bin"
TB_IMAGES = 8
COSIM_INPUT = "hls/tb/cosim_input.bin"
COSIM_EXPECTED = "hls/tb/cosim_expected.bin"


def write_testbench_data(
    build_dir: Path,
    n: int = TB_IMAGES,
    seed: int = 0,
    files: tuple[str, str] = (TB_INPUT, TB_EXPECTED),
) -> list[Path]:
    """Write the DMA byte buffers of ``n`` random design inputs and their expected outputs to
    ``files`` (input, expected; relative to the build directory)."""
    if n < 1:
        raise ValueError(f"testbench data needs at least one image, not {n}")
    d = Path(build_dir)
    acc = Accelerator.from_build(d, backend="csim")
    ints = acc.random_design_input(n, seed)
    expected, _ = run_dataflow(ModelWrapper(str(d / "dataflow.onnx")), ints)
    written = []
    for rel, buf in zip(files, (acc.pack_input(ints), acc.pack_output(expected)), strict=True):
        path = d / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_bytes(buf.tobytes())
        tmp.replace(path)
        written.append(path)
    return written
