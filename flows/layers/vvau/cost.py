"""VVAU cycle and resource estimates: features of hls/rtl/bitfab_vvau.v x coefficients fitted
to its Yosys synthesis (bench/calibrate.py, flows/layers/calibration.json)."""

from __future__ import annotations

import math

from flows.datatypes import BIPOLAR
from flows.layers import calibration
from flows.layers.base import MemoryMap, memory_map
from flows.layers.mvau.cost import GROUP, _acc_bits, _thresholds_per_pe, tree_adder_bits
from flows.layers.vvau.spec import VvauSpec


def cycles(s: VvauSpec) -> int:
    """Cycles per image: one (kernel fold, channel fold) tile a clock, per output pixel."""
    return s.nf * s.sf * s.pixels


def memories(s: VvauSpec) -> list[MemoryMap]:
    """The kernel's memories as synthesis maps them: the weight ROM (NF*SF words of
    PE*SIMD*W_BITS bits), the threshold ROM (NF words of PE*N_T*ACC_BITS) when there is an
    activation, and the accumulator bank (NF words of PE*ACC_BITS, read combinationally)."""
    acc = _acc_bits(s)
    mems = [memory_map(s.pe * s.simd * s.wdt.bitwidth(), s.nf * s.sf, rom=True)]
    mems.append(memory_map(s.pe * acc, s.nf, rom=False, async_read=True))
    n_t = _thresholds_per_pe(s)
    if n_t:
        mems.append(memory_map(s.pe * n_t * acc, s.nf, rom=True))
    return mems


def lut_features(s: VvauSpec) -> dict[str, float]:
    """What the kernel's LUTs and FFs scale with, one entry per structure of bitfab_vvau.v:
    the lanes by MAC kind (as the MVAU's: XNOR leaves, LUT multipliers, sign muxes, DSP
    products), each PE's adder tree over its SIMD leaves, the accumulator adders and their
    bank as mapped (``accmem_luts``; in flip-flops when a single word), the threshold
    comparators (``cmp_inputs``) and ROM in logic, the weight ROM in logic, the input word's
    register and the counters. With a single weight word (PE = C, SIMD = K_H*K_W) the weights
    are constants that synthesis folds into the lanes (``const_lane_bits``: a constant
    multiply costs about its input bits) and the bank is one register (no LUTs).
    ``ff_*``: registers, FF fit only."""
    wb, ib = s.wdt.bitwidth(), s.idt.bitwidth()
    lanes = s.pe * s.simd
    acc = _acc_bits(s)
    wrom, accmem = memories(s)[:2]
    n_t = _thresholds_per_pe(s)
    thr_rom = memories(s)[2] if n_t else None
    thr_logic = thr_rom is not None and thr_rom.kind == "logic"
    if s.xnor:
        leaves, leaf_bits = -(-s.simd // GROUP), 2
    else:
        ivb = ib if s.idt.signed() and s.idt != BIPOLAR else ib + 1
        wvb = wb if s.wdt.signed() and s.wdt != BIPOLAR else wb + 1
        leaves, leaf_bits = s.simd, min(ivb + wvb, acc)
    addr_bits = (s.nf - 1).bit_length() if thr_logic else acc
    const_w = s.nf * s.sf == 1
    f = {
        "base": 1.0,
        "tree_bits": float(s.pe * tree_adder_bits(leaves, leaf_bits, acc)),
        "acc_bits": float(s.pe * acc),
        "accmem_luts": float(0 if s.nf == 1 else accmem.luts + accmem.lutram),
        "cmp_inputs": float(s.pe * n_t * (acc + addr_bits)),
        "thr_rom_bits": float(s.pe * n_t * acc * s.nf if thr_logic else 0),
        "wrom_luts": float(wrom.luts if wrom.kind == "logic" and not const_w else 0),
        "ctrl_bits": float(math.ceil(math.log2(max(s.nf * s.sf, 2)))),
        "in_bits": float(lanes * ib),
    }
    if s.mac == "XNOR":  # a constant weight bit makes the lane a wire or an inverter
        f["xnor_leaf_bits"] = float(s.pe * leaves * leaf_bits)
    elif const_w:
        f["const_lane_bits"] = float(lanes * ib)
    elif s.idt == BIPOLAR or s.wdt == BIPOLAR:
        f["sign_mux_bits"] = float(lanes * leaf_bits)
    elif s.mac == "LUT":
        f["lut_mac_bits"] = float(lanes * wb * ib)
    else:
        f["dsp_lanes"] = float(lanes)
    f.update(
        {
            "ff_leaf_bits": float(s.pe * leaves * leaf_bits),
            "ff_mem_bits": float(s.pe * acc if s.nf == 1 else accmem.ffs),
            "ff_rom_out_bits": float(lanes * wb if wrom.kind == "logic" else 0),
            "ff_acc_bits": float(2 * s.pe * acc),
            "ff_out_bits": float(s.pe * max(s.odt.bitwidth(), 1)),
        }
    )
    return f


def resources(s: VvauSpec) -> dict[str, int]:
    """LUT (logic + LUTRAM), BRAM18, DSP: fitted logic plus the memories as mapped; a DSP
    lane is one DSP48 (the product)."""
    return {
        "LUT": calibration.estimate("vvau", "LUT", lut_features(s)),
        "BRAM18": sum(m.bram18 for m in memories(s)),
        "DSP": s.pe * s.simd if s.mac == "DSP" else 0,
    }
