"""MVAU cycle and resource estimates: features of hls/rtl/bitfab_mvau.v x coefficients
fitted to its Yosys synthesis (bench/calibrate.py, flows/layers/calibration.json)."""

from __future__ import annotations

import math

from flows.datatypes import signed_type_holding
from flows.layers import calibration
from flows.layers.base import MemoryMap, memory_map
from flows.layers.mvau.spec import MvauSpec


def cycles(s: MvauSpec) -> int:
    """Cycles per image: every (neuron fold, synapse fold) pair takes one cycle per pixel."""
    return s.nf * s.sf * s.pixels


def _acc_bits(s: MvauSpec) -> int:
    """ACC_BITS as the RTL role sets it (XNOR: the popcount 0..MW; else the accumulator)."""
    if s.xnor:
        return signed_type_holding(0, s.mw + 1).bitwidth()
    return s.acc_dt.bitwidth()


def _thresholds_per_pe(s: MvauSpec) -> int:
    if s.n_thres == 0:
        return 0
    return 1 if s.requant == "shift" else s.n_thres


def memories(s: MvauSpec) -> list[MemoryMap]:
    """The kernel's memories as synthesis maps them: the weight ROM (NF*SF words of
    PE*SIMD*W_BITS bits), the threshold ROM (NF words of PE*N_T*ACC_BITS) and the input
    buffer RAM (SF words of SIMD*IN_BITS)."""
    wb, ib = s.wdt.bitwidth(), s.idt.bitwidth()
    mems = [memory_map(s.pe * s.simd * wb, s.nf * s.sf, rom=True)]
    n_t = _thresholds_per_pe(s)
    if n_t:
        mems.append(memory_map(s.pe * n_t * _acc_bits(s), s.nf, rom=True))
    if s.sf > 1:
        mems.append(memory_map(s.simd * ib, s.sf, rom=False))
    return mems


def lut_features(s: MvauSpec) -> dict[str, float]:
    """What the kernel's LUTs and FFs scale with, one entry per structure of the RTL.

    Lanes by MAC kind (an XNOR, a LUT multiplier of W_BITS x IN_BITS, a DSP's product
    register), the SIMD adder tree over product bits, the accumulators, the threshold
    comparators, the memories as mapped (``memories``) and the control counters.
    """
    wb, ib = s.wdt.bitwidth(), s.idt.bitwidth()
    lanes = s.pe * s.simd
    acc = _acc_bits(s)
    prod = 1 if s.xnor else ib + wb + 2
    mems = memories(s)
    f = {
        "base": 1.0,
        "acc_bits": float(s.pe * acc),
        "sum_bits": float(lanes * min(prod, acc)),
        "thr_bits": float(s.pe * _thresholds_per_pe(s) * acc),
        "mem_luts": float(sum(m.luts + m.lutram for m in mems)),
        "mem_ffs": float(sum(m.ffs for m in mems)),
        "ctrl_bits": float(math.ceil(math.log2(max(s.nf * s.sf, 2)))),
        "io_bits": float(s.simd * ib + s.pe * max(s.odt.bitwidth(), 1)),
    }
    if s.mac == "XNOR":
        f["xnor_lanes"] = float(lanes)
    elif s.mac == "LUT":
        f["lut_mac_bits"] = float(lanes * wb * ib)
    else:
        f["dsp_lanes"] = float(lanes)
    # the ROM's registered output when it is logic (a BRAM holds its own output register)
    f["rom_out_bits"] = float(lanes * wb if mems[0].kind == "logic" else 0)
    return f


def resources(s: MvauSpec) -> dict[str, int]:
    """LUT (logic + LUTRAM), BRAM18, DSP: fitted logic plus the memories as mapped;
    a DSP lane is one DSP48 (the product; the adder tree stays in LUTs)."""
    f = lut_features(s)
    return {
        "LUT": calibration.estimate("mvau", "LUT", f),
        "BRAM18": sum(m.bram18 for m in memories(s)),
        "DSP": s.pe * s.simd if s.mac == "DSP" else 0,
    }
