/// \file label_select.hpp
/// \brief Top-1 label select: the index of the largest of N values.
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of label_select(), with the default of every field.
///
/// A layer's config inherits from this struct and sets its values:
/// `struct top1_cfg : bitfab::label_select_config { ... };`. A field left at 0 below has no
/// meaningful default: the layer must set it (static_asserts check).
struct label_select_config {
  /// Values per rep (classes).
  static constexpr unsigned N = 0;
  /// Values per input word; PE divides N.
  static constexpr unsigned PE = 1;
  /// Bits per input field, 1 .. 32.
  static constexpr unsigned IN_BITS = 0;
  /// How input fields read as numbers.
  static constexpr Kind IN_KIND = Kind::Signed;
  /// Bits of the output index, 1 .. 32; N <= 2^OUT_BITS.
  static constexpr unsigned OUT_BITS = 0;
};

/// Top-1 label select.
///
/// Reads N/PE words per rep (word nf field p is value nf*PE + p) and writes one word holding
/// the index of the maximum; on ties the lowest index wins.
/// \tparam CFG configuration struct derived from label_select_config
template <class CFG>
void label_select(hls::stream<ap_uint<CFG::PE * CFG::IN_BITS>>& in,
                  hls::stream<ap_uint<CFG::OUT_BITS>>& out, unsigned reps) {
#pragma HLS INLINE off
  static_assert(CFG::N >= 1, "label_select: set N (at least 1)");
  static_assert(CFG::PE >= 1, "label_select: PE must be at least 1");
  static_assert(CFG::IN_BITS >= 1 && CFG::IN_BITS <= 32,
                "label_select: IN_BITS must be in [1, 32]");
  static_assert(CFG::N % CFG::PE == 0, "label_select: N must be divisible by PE");
  static_assert(CFG::IN_KIND != Kind::Bipolar || CFG::IN_BITS == 1,
                "label_select: a Bipolar input is IN_BITS = 1");
  static_assert(CFG::OUT_BITS >= 1 && CFG::OUT_BITS <= 32,
                "label_select: OUT_BITS must be in [1, 32]");
  static_assert(CFG::N <= (1ULL << CFG::OUT_BITS), "label_select: N indices must fit OUT_BITS");

  typedef typename value_of<CFG::IN_KIND, CFG::IN_BITS>::type value_t;
  typedef ap_uint<clog2(CFG::N) + 1> index_t;
  constexpr unsigned NF = CFG::N / CFG::PE;

  value_t best = 0;
  index_t best_index = 0;
  index_t base = 0;
  unsigned nf = 0;
select_loop:
  for (unsigned i = 0; i < reps * NF; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: nf == i % NF, base == nf * PE, and (best, best_index) is the first maximum
    // of the values 0 .. base-1 of the current rep.
    const detail::FieldReader<CFG::PE, CFG::IN_BITS> x(in.read());
    value_t word_best = decode_value<CFG::IN_KIND, CFG::IN_BITS>(x[0]);
    index_t word_index = 0;
  pe_loop:
    for (unsigned p = 1; p < CFG::PE; p++) {
#pragma HLS UNROLL
      const value_t v = decode_value<CFG::IN_KIND, CFG::IN_BITS>(x[p]);
      if (v > word_best) {  // strict: the earlier index keeps a tie
        word_best = v;
        word_index = p;
      }
    }
    if (nf == 0 || word_best > best) {
      best = word_best;
      best_index = base + word_index;
    }
    if (++nf == NF) {
      out.write(ap_uint<CFG::OUT_BITS>(best_index));
      nf = 0;
      base = 0;
    } else {
      base += CFG::PE;
    }
  }
}

}  // namespace bitfab
