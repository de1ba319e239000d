"""Fit the HLS backend's resource factors over the calibrated RTL estimate.

    python bench/calibrate_hls.py [--write]

No HLS synthesis runs here, so the HLS estimate is the RTL estimate (calibrated against Yosys,
bench/calibrate.py) times one factor per resource, fitted to the one published Vivado result of
a folding we reproduce exactly: FINN's cnv-w1a1 (bench/finn_published.json, with its source).
Run it after bench/calibrate.py, since the factor is relative to that fit. ``--write`` updates
flows/hls_factors.json.
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from qonnx.core.modelwrapper import ModelWrapper  # noqa: E402

from flows.build import run_build  # noqa: E402
from flows.config import BuildConfig  # noqa: E402
from flows.estimate import HLS_FACTORS, folded_resources  # noqa: E402
from flows.fold import apply_folding  # noqa: E402

PUBLISHED = Path(__file__).with_name("finn_published.json")
MODEL = "cnv-w1a1"
BEAT_BITS = 64  # the Pynq-Z1's HP port, where FINN's figure was measured


def rtl_estimate(model: str, folding: dict) -> dict[str, int]:
    """The calibrated RTL estimate of ``model`` folded as ``folding`` (FIFOs, DWCs included)."""
    out = Path(tempfile.mkdtemp(prefix="calibrate-hls-")) / model
    run_build(BuildConfig(model=model, out=out, board="pynq-z1", to_step="partition"))
    df = ModelWrapper(str(out / "dataflow.onnx"))
    apply_folding(df, folding, PUBLISHED)
    return folded_resources(df, BEAT_BITS)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--write", action="store_true", help=f"update {HLS_FACTORS}")
    a = ap.parse_args()
    pub = json.loads(PUBLISHED.read_text())["models"][MODEL]
    est = rtl_estimate(MODEL, pub["folding"])
    factors = {k: round(pub["published"][k] / est[k], 4) for k in ("LUT", "BRAM18") if est[k]}
    factors["DSP"] = 1.0
    print(f"{MODEL} with FINN's folding: RTL estimate {est}")
    p = pub["published"]
    print(f"published (Vivado, HLS): LUT {p['LUT']}, BRAM18 {p['BRAM18']}")
    print(f"HLS factors over the RTL estimate: {factors}")
    data = {
        "factors": factors,
        "source": (
            f"HLS = RTL estimate x factor, fitted {datetime.date.today()} on FINN's {MODEL} "
            f"folding: {pub['published']['resources_source']}; one point, so its error on other "
            "designs is not measured"
        ),
        "rtl_estimate": est,
        "published": {k: pub["published"][k] for k in ("LUT", "BRAM18")},
    }
    if a.write:
        HLS_FACTORS.write_text(json.dumps(data, indent=2) + "\n")
        print(f"wrote {HLS_FACTORS}")


if __name__ == "__main__":
    main()
