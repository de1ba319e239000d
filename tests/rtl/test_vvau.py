"""bitfab_vvau under Verilator against the VVAU's numpy oracle (flows/layers/vvau/ref.py).

Each case (tests/vvau_cases.py) takes the instance from the rtl role, writes its memories,
streams windows with random valid/ready gaps and compares every output field exactly; at full
rate the kernel takes the cost model's SF*NF cycles a window.
"""

from __future__ import annotations

import numpy as np
import pytest

from boards.driver.packing import to_storage
from flows.datatypes import BIPOLAR
from flows.layers.vvau import cost, rtl
from tests.helpers import in_ci
from tests.rtl.test_mvau import _mem_file
from tests.rtl_tb import pack, run_kernel, unpack
from tests.vvau_cases import CASES, VvauCase, build, input_fields

N_WIN = 6


def simulate(case: VvauCase, seed: int = 0, valid_pct: int = 100, ready_pct: int = 100):
    spec, params, x, expected = build(case, N_WIN)
    inst = rtl.context(spec, params)
    p = inst.params
    assert inst.module == "bitfab_vvau" and (p["CH"], p["K"]) == (spec.ch, spec.kk)
    assert inst.in_width == spec.simd * spec.pe * p["IN_BITS"]
    kparams: dict[str, int | str] = dict(p)
    for name, lines in inst.memories.items():
        kparams[name] = _mem_file(lines)
    xs = to_storage(input_fields(spec, x), spec.idt == BIPOLAR)
    words = [pack(xs[n, t], p["IN_BITS"]) for n in range(N_WIN) for t in range(xs.shape[1])]
    run = run_kernel(
        "bitfab_vvau",
        kparams,
        words,
        N_WIN * spec.nf,
        seed=seed,
        valid_pct=valid_pct,
        ready_pct=ready_pct,
    )
    assert run.returncode == 0, run.stderr
    got = np.array([unpack(wd, p["OUT_BITS"], spec.pe) for wd in run.words]).reshape(N_WIN, -1)
    mask = (1 << p["OUT_BITS"]) - 1
    np.testing.assert_array_equal(got, np.asarray(expected, np.int64) & mask)
    return spec, run


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_vvau_matches_the_reference_at_full_rate(case):
    spec, run = simulate(case)
    per_win = cost.cycles(spec)
    assert per_win == spec.nf * spec.sf
    c = run.cycles  # window v's words leave exactly SF*NF cycles after window v-1's
    assert all(c[i] - c[i - spec.nf] == per_win for i in range(spec.nf, len(c)))


GAPS = [(60, 50), (100, 35), (45, 100)]


@pytest.mark.parametrize("case", [CASES[0], CASES[3], CASES[4]], ids=lambda c: c.name)
@pytest.mark.parametrize("gaps", in_ci(GAPS), ids=lambda g: f"v{g[0]}r{g[1]}")
def test_vvau_under_valid_and_ready_gaps(case, gaps):
    simulate(case, seed=sum(gaps), valid_pct=gaps[0], ready_pct=gaps[1])
