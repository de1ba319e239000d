/// \file dwc.hpp
/// \brief Stream data-width converter: regroup a stream of elements into words of another size.
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

namespace detail {

/// Iterations dwc() needs per rep: it reads whenever fewer than OUT elements are buffered and
/// writes whenever at least OUT are, so every iteration reads, writes or both, and the buffer
/// is empty again at the end of each rep.
constexpr unsigned dwc_iterations(unsigned in_elems, unsigned out_elems, unsigned total) {
  unsigned count = 0, written = 0, iterations = 0;
  while (written < total) {
    if (count < out_elems) count += in_elems;
    if (count >= out_elems) {
      count -= out_elems;
      written += out_elems;
    }
    iterations++;
  }
  return iterations;
}

}  // namespace detail

/// \brief Configuration of dwc(), with the default of every field.
///
/// The code generator emits one config per converter that inherits from this struct and sets
/// its values: `struct dwc0_cfg : bitfab::dwc_config { ... };`. Every field must be set (the
/// defaults of 0 are rejected by static_asserts).
struct dwc_config {
  /// Elements per input word.
  static constexpr unsigned IN_ELEMS = 0;
  /// Elements per output word.
  static constexpr unsigned OUT_ELEMS = 0;
  /// Bits per element, 1 .. 64.
  static constexpr unsigned BITS = 0;
  /// Elements per rep; IN_ELEMS and OUT_ELEMS both divide it.
  static constexpr unsigned TOTAL = 0;
  /// Reps per image (pixels for a per-pixel layer, else 1); the top passes n_images, so the
  /// dataflow region holds only calls (canonical form).
  static constexpr unsigned REPS = 1;
};

/// Stream data-width converter.
///
/// Element order is preserved: element 0 of the first input word is element 0 of the first
/// output word. IN_ELEMS and OUT_ELEMS need not divide each other (6 -> 4 works). Throughput:
/// one input or output word per cycle, max(TOTAL/IN_ELEMS, TOTAL/OUT_ELEMS) cycles per rep when
/// one size divides the other.
/// \tparam CFG configuration struct derived from dwc_config
template <class CFG>
void dwc(hls::stream<ap_uint<CFG::IN_ELEMS * CFG::BITS>>& in,
         hls::stream<ap_uint<CFG::OUT_ELEMS * CFG::BITS>>& out, unsigned n_images) {
#pragma HLS INLINE off
  static_assert(CFG::IN_ELEMS >= 1 && CFG::OUT_ELEMS >= 1 && CFG::BITS >= 1,
                "dwc: IN_ELEMS, OUT_ELEMS and BITS must be at least 1");
  static_assert(CFG::BITS <= 64, "dwc: BITS must be at most 64");
  static_assert(CFG::TOTAL >= 1, "dwc: set TOTAL (at least 1)");
  static_assert(CFG::TOTAL % CFG::IN_ELEMS == 0, "dwc: TOTAL must be divisible by IN_ELEMS");
  static_assert(CFG::TOTAL % CFG::OUT_ELEMS == 0, "dwc: TOTAL must be divisible by OUT_ELEMS");

  constexpr unsigned ITERS = detail::dwc_iterations(CFG::IN_ELEMS, CFG::OUT_ELEMS, CFG::TOTAL);
  const unsigned iterations = CFG::REPS * n_images * ITERS;

#if BITFAB_FAST_CSIM
  // Same schedule as below, the buffer held as one native integer per element.
  uint64_t elems[CFG::IN_ELEMS + CFG::OUT_ELEMS - 1];
  unsigned count = 0;
  for (unsigned i = 0; i < iterations; i++) {
    if (count < CFG::OUT_ELEMS) {
      const detail::FieldReader<CFG::IN_ELEMS, CFG::BITS> x(in.read());
      for (unsigned j = 0; j < CFG::IN_ELEMS; j++) elems[count + j] = x.raw(j);
      count += CFG::IN_ELEMS;
    }
    if (count >= CFG::OUT_ELEMS) {
      detail::FieldWriter<CFG::OUT_ELEMS, CFG::BITS> y;
      for (unsigned j = 0; j < CFG::OUT_ELEMS; j++) y.set_raw(j, elems[j]);
      out.write(y.word());
      count -= CFG::OUT_ELEMS;
      for (unsigned j = 0; j < count; j++) elems[j] = elems[j + CFG::OUT_ELEMS];
    }
  }
#else
  constexpr unsigned IN_W = CFG::IN_ELEMS * CFG::BITS;
  constexpr unsigned OUT_W = CFG::OUT_ELEMS * CFG::BITS;
  // At most OUT_ELEMS-1 elements wait when a word of IN_ELEMS arrives.
  constexpr unsigned BUF_W = (CFG::IN_ELEMS + CFG::OUT_ELEMS - 1) * CFG::BITS;
  ap_uint<BUF_W> buf = 0;
  ap_uint<clog2(CFG::IN_ELEMS + CFG::OUT_ELEMS)> count = 0;
dwc_loop:
  for (unsigned i = 0; i < iterations; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: buf holds `count` (< IN_ELEMS + OUT_ELEMS) elements in its low count*BITS
    // bits, oldest at bit 0, and zeros above; count == 0 at every rep boundary.
    if (count < CFG::OUT_ELEMS) {
      ap_uint<BUF_W> word = ap_uint<IN_W>(in.read());
      buf |= word << (count * CFG::BITS);
      count += CFG::IN_ELEMS;
    }
    if (count >= CFG::OUT_ELEMS) {
      out.write(ap_uint<OUT_W>(buf.range(OUT_W - 1, 0)));
      if (BUF_W > OUT_W) {
        buf >>= OUT_W;
      } else {
        buf = 0;  // IN_ELEMS == 1: the buffer is exactly one output word
      }
      count -= CFG::OUT_ELEMS;
    }
  }
#endif
}

}  // namespace bitfab
