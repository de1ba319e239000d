"""C-simulation of bitfab::vvau (hls/include/bitfab/vvau.hpp) against the VVAU's numpy oracle.

Each case takes its packed weights and activation table from the kind's ``hls`` role (the
same context the code generator renders), its expected words from flows/layers/vvau/ref.py,
and runs the generic testbench hls/tests/tb_vvau.cpp; a corrupted expected word must fail.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from boards.driver.packing import pack_words_as_hex, to_storage
from flows.codegen.hls_types import FieldKind
from flows.datatypes import BIPOLAR
from flows.layers.vvau import hls
from tests.hls_tb import Tb, check_tb, code_paths
from tests.vvau_cases import CASES, VvauCase, build, input_fields

N_WIN = 5


def _tb(case: VvauCase) -> Tb:
    spec, params, x, expected = build(case, N_WIN)
    h = hls.context(spec, params)
    assert h.in_width == spec.simd * spec.pe * h.in_bits
    fields = {
        "MW": h.mw, "MH": h.mh, "SIMD": h.simd, "PE": h.pe,
        "IN_BITS": h.in_bits, "W_BITS": h.w_bits, "ACC_BITS": h.acc_bits, "OUT_BITS": h.out_bits,
        "IN_KIND": FieldKind.from_cxx(h.in_kind), "W_KIND": FieldKind.from_cxx(h.w_kind),
        "OUT_KIND": FieldKind.from_cxx(h.out_kind),
        "N_THRES": h.n_thres, "OUT_BIAS": h.out_bias,
    }  # fmt: skip
    if h.requant_shift >= 0:
        fields.update(REQUANT_SHIFT=h.requant_shift, REQUANT_RNE=h.requant_rne)
    xs = to_storage(input_fields(spec, x), spec.idt == BIPOLAR)
    out = np.asarray(expected, np.int64) & ((1 << h.out_bits) - 1)
    return Tb(
        fields=fields,
        reps=N_WIN,
        in_width=h.in_width,
        in_words=pack_words_as_hex(xs.reshape(-1), h.in_bits, spec.simd * spec.pe),
        out_width=h.out_width,
        out_words=pack_words_as_hex(out.reshape(-1), h.out_bits, spec.pe),
        weight_width=h.simd * h.w_bits,
        weight_words=[w for words in h.weights for w in words],
        thresholds=None if h.thresholds is None else np.asarray(h.thresholds),
        config_base="bitfab::vvau_config",
    )


@pytest.mark.csim
@pytest.mark.parametrize(("case", "path"), code_paths(CASES, lambda c: c.name))
def test_vvau_kernel_matches_the_reference(
    case: VvauCase, path: str, tmp_path: Path, pch: list[str]
) -> None:
    check_tb(tmp_path, "tb_vvau", _tb(case), path, pch)
