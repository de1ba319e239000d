"""MVAU cycle and resource estimates: features of hls/rtl/bitfab_mvau.v x coefficients
fitted to its Yosys synthesis (bench/calibrate.py, flows/layers/calibration.json)."""

from __future__ import annotations

import math

from flows.datatypes import BIPOLAR, signed_type_holding
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
    PE*SIMD*W_BITS bits; in block RAM when ``ram_style`` says so), the threshold ROM (NF
    words of PE*N_T*ACC_BITS) and the input buffer RAM (SF words of SIMD*IN_BITS)."""
    wb, ib = s.wdt.bitwidth(), s.idt.bitwidth()
    mems = [memory_map(s.pe * s.simd * wb, s.nf * s.sf, rom=True, block=s.ram_style == "block")]
    n_t = _thresholds_per_pe(s)
    if n_t:
        mems.append(memory_map(s.pe * n_t * _acc_bits(s), s.nf, rom=True))
    if s.sf > 1:
        mems.append(memory_map(s.simd * ib, s.sf, rom=False))
    return mems


GROUP = 3  # XNOR lanes counted together into a 2-bit leaf (bitfab_mvau.v GRP)


def tree_adder_bits(leaves: int, leaf_bits: int, cap: int) -> int:
    """Output bits of every adder of bitfab_mvau.v's balanced SIMD tree: level l holds
    ceil(leaves / 2^l) values of min(leaf_bits + l, cap) bits; an odd one out passes, so a
    level adds floor(n / 2) pairs."""
    bits, n, level = 0, leaves, 0
    while n > 1:
        level += 1
        bits += (n // 2) * min(leaf_bits + level, cap)
        n = (n + 1) // 2
    return bits


def lut_features(s: MvauSpec) -> dict[str, float]:
    """What the kernel's LUTs and FFs scale with, one entry per structure of bitfab_mvau.v.

    Lanes by MAC kind: XNOR lanes counted by 3 into 2-bit leaves (one LUT6 a bit,
    ``leaf_bits``), a LUT multiplier of W_BITS x IN_BITS (``lut_mac_bits``), a +-1
    negate-or-pass (``sign_mux_bits``), a DSP's product (``dsp_lanes``); the growing-width
    adder tree over the leaves (``tree_bits``), the accumulators (``acc_bits``), the
    threshold comparators, each a function of the accumulator and the neuron-fold address
    once ABC folds the threshold ROM into it (``cmp_inputs``, as in thresholding), that
    ROM and the weight ROM in logic (``thr_rom_bits``; ``wrom_luts``, ``wrom_bits``), the
    input buffer as mapped (``mem_luts``), the input word and its buffer mux (``in_bits``),
    the control counters.

    XNOR and MAC kernels are two models under one kind: an XNOR kernel's features are
    named ``xnor_*`` (a popcount tree of 2-bit leaves into a narrow accumulator shares no
    fitted cost with a tree of products). ``ff_*``: registers, FF fit only.
    """
    wb, ib = s.wdt.bitwidth(), s.idt.bitwidth()
    lanes = s.pe * s.simd
    acc = _acc_bits(s)
    mems = memories(s)
    n_t = _thresholds_per_pe(s)
    if s.xnor:
        leaves, leaf_bits = -(-s.simd // GROUP), 2
    else:
        ivb = ib if s.idt.signed() and s.idt != BIPOLAR else ib + 1
        wvb = wb if s.wdt.signed() and s.wdt != BIPOLAR else wb + 1
        leaves, leaf_bits = s.simd, min(ivb + wvb, acc)
    wrom, thr_rom = mems[0], (mems[1] if n_t else None)
    thr_logic = thr_rom is not None and thr_rom.kind == "logic"
    addr_bits = (s.nf - 1).bit_length() if thr_logic else acc
    f = {
        "base": 1.0,
        "tree_bits": float(s.pe * tree_adder_bits(leaves, leaf_bits, acc)),
        "acc_bits": float(s.pe * acc),
        "cmp_inputs": float(s.pe * n_t * (acc + addr_bits)),
        "thr_rom_bits": float(s.pe * n_t * acc * s.nf if thr_logic else 0),
        # a logic weight ROM (NF*SF words of PE*SIMD*W_BITS): a LUT6 per 64 words of each
        # bit column (depth 8 and depth 64 both take one), plus what ABC's folding of its
        # contents into the lanes leaves by bits
        "wrom_luts": float(wrom.luts if wrom.kind == "logic" else 0),
        "wrom_bits": float(lanes * wb * s.nf * s.sf if wrom.kind == "logic" else 0),
        "mem_luts": float(sum(m.luts + m.lutram for m in mems[1:] if m is not thr_rom)),
        "ctrl_bits": float(math.ceil(math.log2(max(s.nf * s.sf, 2)))),
        "in_bits": float(s.simd * ib),
    }
    if s.mac == "XNOR":
        f["leaf_bits"] = float(s.pe * leaves * leaf_bits)
        f = {f"xnor_{k}": v for k, v in f.items()}
    elif s.idt == BIPOLAR or s.wdt == BIPOLAR:
        f["sign_mux_bits"] = float(lanes * leaf_bits)
    elif s.mac == "LUT":
        f["lut_mac_bits"] = float(lanes * wb * ib)
    else:
        f["dsp_lanes"] = float(lanes)
    f.update(
        {
            "ff_leaf_bits": float(s.pe * leaves * leaf_bits),
            "ff_mem_bits": float(sum(m.ffs for m in mems)),
            "ff_rom_out_bits": float(lanes * wb if wrom.kind == "logic" else 0),
            "ff_acc_bits": float(2 * s.pe * acc),
            "ff_out_bits": float(s.pe * max(s.odt.bitwidth(), 1)),
        }
    )
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
