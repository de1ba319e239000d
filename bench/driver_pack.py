"""Print the host driver's packing speed in images/s: pack (integers -> input DMA buffer),
unpack (output DMA buffer -> integers) and both, for real builds' stream layouts, against the
bit-by-bit packing the driver used before (tests/packing_reference.py), on the same batch.

    PYTHONPATH=. python bench/driver_pack.py                      # tfc-w1a1 and cnv-w1a1
    PYTHONPATH=. python bench/driver_pack.py --build build/cnv-w1a1-pynq-z2 --batch 500

Without --build, each --model is built once into bench/out/<model> (reused afterwards).
The timed calls are the driver's own (Accelerator.pack_input / unpack_output) on int64
integers, which is what Accelerator.run_head gives them. Figures are wall time on this host,
median of --repeats runs; the reference is timed with fewer runs (it is slow). The issue's
targets (pack + unpack: tfc-w1a1 >= 1,000,000 images/s, cnv-w1a1 >= 100,000 images/s on the
development machine) are printed beside the zoo models; --check exits 1 when one is missed.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the tests package, as fuzz.py

from boards.driver.accelerator import Accelerator, DriverError, StreamSpec  # noqa: E402
from boards.driver.packing import from_storage, to_storage  # noqa: E402
from tests.packing_reference import (  # noqa: E402
    reference_from_beats,
    reference_pack,
    reference_to_beats,
    reference_unpack,
)

OUT = Path(__file__).resolve().parent / "out"
# pack + unpack images/s the issue asks for (issue 11, "Done when")
TARGETS = {"tfc-w1a1": 1_000_000, "cnv-w1a1": 100_000}
# images per batch by default: enough that one batch takes milliseconds
SMALL_IMAGE_BYTES, SMALL_BATCH, LARGE_BATCH = 1024, 10_000, 1_000


def zoo_build(model: str) -> Path:
    """bench/out/<model>, built on first use (the stream layouts are what a build emits)."""
    d = OUT / model
    if (d / "manifest.json").exists() and (d / "deploy" / "accel.json").exists():
        return d
    from flows.build import run_build  # noqa: PLC0415 (only when a build is needed)
    from flows.config import BuildConfig  # noqa: PLC0415

    print(f"building {model} into {d} (once) ...", flush=True)
    return run_build(BuildConfig(model=model, out=d, verify_n=0))


def reference_pack_input(acc: Accelerator, ints: np.ndarray, s: StreamSpec) -> np.ndarray:
    """What pack_input did before: to_storage (int64), bit-by-bit pack, zero-padded beats."""
    flat = to_storage(ints.reshape(len(ints), -1), s.bipolar)
    return reference_to_beats(reference_pack(flat, s.bits, s.elems), acc.beat_bits)


def reference_unpack_output(acc: Accelerator, obuf: np.ndarray, s: StreamSpec) -> np.ndarray:
    words = reference_from_beats(obuf, s.words, s.nbytes)
    out = reference_unpack(words, s.bits, s.elems, s.signed)
    return from_storage(out, s.bipolar).reshape((len(obuf), *s.shape[1:]))


def timed(fn, calls: int) -> tuple[list[float], object]:
    """Seconds of each of ``calls`` calls of ``fn``, and the last result."""
    times = []
    for _ in range(calls):
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return times, out


def layout(s: StreamSpec) -> str:
    kind = "bipolar" if s.bipolar else ("signed" if s.signed else "unsigned")
    return f"{s.words} x {s.elems} x {s.bits}-bit {kind} ({s.nbytes} B/word)"


def bench(d: Path, batch: int | None, repeats: int, ref_repeats: int) -> dict:
    acc = Accelerator.from_build(d, backend="csim")
    model = acc.cfg.get("model", d.name)
    n = batch or (SMALL_BATCH if acc.in_image_bytes < SMALL_IMAGE_BYTES else LARGE_BATCH)
    ints = acc.random_design_input(n)  # int64, as run_head gives them
    rng = np.random.default_rng(1)
    so = acc.sout
    lo = -(1 << (so.bits - 1)) if so.signed else 0
    outs = rng.integers(lo, lo + (1 << so.bits), size=(n, *so.shape[1:]))
    if so.bipolar:
        outs = np.where(outs > 0, 1, -1)
    obuf = acc.pack_output(outs)

    # the first call apart: one-time costs (page faults of fresh buffers, lazy set-up)
    (first_pack,), _ = timed(lambda: acc.pack_input(ints), 1)
    (first_unpack,), _ = timed(lambda: acc.unpack_output(obuf), 1)
    pack_runs, ibuf = timed(lambda: acc.pack_input(ints), repeats)
    unpack_runs, got = timed(lambda: acc.unpack_output(obuf), repeats)
    ref_pack_runs, ref_ibuf = timed(lambda: reference_pack_input(acc, ints, acc.sin), ref_repeats)
    ref_unpack_runs, ref_got = timed(lambda: reference_unpack_output(acc, obuf, so), ref_repeats)
    same = np.array_equal(ibuf, ref_ibuf) and np.array_equal(got, ref_got)
    same = same and np.array_equal(got, outs)
    now = {"pack": pack_runs, "unpack": unpack_runs}
    now["both"] = [p + u for p, u in zip(pack_runs, unpack_runs)]
    before = {"pack": ref_pack_runs, "unpack": ref_unpack_runs}
    before["both"] = [p + u for p, u in zip(ref_pack_runs, ref_unpack_runs)]
    return {
        "model": model,
        "dir": d,
        "batch": n,
        "in": layout(acc.sin),
        "out": layout(so),
        "in_bytes": acc.in_image_bytes,
        "out_bytes": acc.out_image_bytes,
        "now": {k: float(np.median(v)) for k, v in now.items()},
        "before": {k: float(np.median(v)) for k, v in before.items()},
        "first": {"pack": first_pack, "unpack": first_unpack},
        "identical": same,
    }


def report(r: dict, repeats: int, ref_repeats: int) -> bool:
    n = r["batch"]
    print(f"\n{r['model']} ({r['dir']}), batch {n}, wall time on this host")
    print(f"  stream in : {r['in']}, {r['in_bytes']} B/image in the DMA buffer")
    print(f"  stream out: {r['out']}, {r['out_bytes']} B/image in the DMA buffer")
    print(f"  {'':<14}{'now (images/s)':>16}{'before (images/s)':>20}{'speed-up':>10}")
    for k, label in (("pack", "pack"), ("unpack", "unpack"), ("both", "pack + unpack")):
        now, before = n / r["now"][k], n / r["before"][k]
        print(f"  {label:<14}{now:>16,.0f}{before:>20,.0f}{now / before:>9,.0f}x")
    print(
        f"  (now: median of {repeats} runs after a first call of "
        f"{r['first']['pack'] * 1e3:.1f} ms pack / {r['first']['unpack'] * 1e3:.2f} ms unpack; "
        f"before: median of {ref_repeats} runs)"
    )
    print(f"  bytes and values identical to the bit-by-bit packing: {r['identical']}")
    ok = r["identical"]
    target = TARGETS.get(r["model"])
    if target is not None:
        rate = n / r["now"]["both"]
        met = rate >= target
        print(f"  target pack + unpack >= {target:,} images/s: {'met' if met else 'NOT met'}")
        ok = ok and met
    return ok


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", type=Path, action="append", default=[], metavar="DIR")
    ap.add_argument("--model", action="append", default=[], help="zoo model (built if needed)")
    ap.add_argument("--batch", type=int, default=None, help="default: 10,000 or 1,000 by size")
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--reference-repeats", type=int, default=3)
    ap.add_argument("--check", action="store_true", help="exit 1 if a target is missed")
    a = ap.parse_args(argv)
    if a.repeats < 1 or a.reference_repeats < 1 or (a.batch is not None and a.batch < 1):
        ap.error("--batch, --repeats and --reference-repeats must be >= 1")
    dirs = list(a.build)
    if not dirs or a.model:
        dirs += [zoo_build(m) for m in (a.model or list(TARGETS))]
    ok = True
    for d in dirs:
        try:
            r = bench(d, a.batch, a.repeats, a.reference_repeats)
        except DriverError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1
        ok = report(r, a.repeats, a.reference_repeats) and ok
    return 0 if ok or not a.check else 1


if __name__ == "__main__":
    sys.exit(main())
