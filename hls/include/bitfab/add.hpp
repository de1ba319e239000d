/// \file add.hpp
/// \brief Lane-wise sum of two integer streams (a residual add), exact: the output type holds
/// every sum, and the requantization after it is a separate thresholding layer. Each input
/// has a constant integer multiplier that puts paths of different scales on one integer
/// scale (1 and 1 when they share a scale: a plain adder).
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of stream_add(); the layer's config inherits from it.
struct add_config {
  /// Words per image on each stream: pixels * channels / PE.
  static constexpr unsigned WORDS = 0;
  /// Lanes (channels) per word.
  static constexpr unsigned PE = 1;
  /// Bits and encoding of input a's values.
  static constexpr unsigned A_BITS = 0;
  static constexpr Kind A_KIND = Kind::Unsigned;
  /// Bits and encoding of input b's values.
  static constexpr unsigned B_BITS = 0;
  static constexpr Kind B_KIND = Kind::Unsigned;
  /// Constant multipliers of a and b (non-zero; |A_MUL*a + B_MUL*b| fits OUT_BITS).
  static constexpr long long A_MUL = 1;
  static constexpr long long B_MUL = 1;
  /// Bits and encoding of the sums (wide enough for every A_MUL*a + B_MUL*b).
  static constexpr unsigned OUT_BITS = 0;
  static constexpr Kind OUT_KIND = Kind::Unsigned;
};

/// out[p] = A_MUL*a[p] + B_MUL*b[p] for each of the PE lanes of one word from each input.
/// \tparam CFG an add_config
template <class CFG>
void stream_add(hls::stream<ap_uint<CFG::PE * CFG::A_BITS>>& in_a,
                hls::stream<ap_uint<CFG::PE * CFG::B_BITS>>& in_b,
                hls::stream<ap_uint<CFG::PE * CFG::OUT_BITS>>& out, unsigned n_images) {
  static_assert(CFG::WORDS > 0, "WORDS must be set");
  static_assert(CFG::A_BITS > 0 && CFG::B_BITS > 0 && CFG::OUT_BITS > 0, "bits must be set");
  static_assert(CFG::A_KIND != Kind::Bipolar && CFG::B_KIND != Kind::Bipolar,
                "a residual add takes integer (non-bipolar) inputs");
  static_assert(CFG::OUT_KIND != Kind::Bipolar, "the sum is an integer");
  static_assert(CFG::A_MUL != 0 && CFG::B_MUL != 0, "a multiplier is non-zero");
  static_assert(CFG::OUT_BITS <= 32, "a sum has at most 32 bits");
add_words:
  for (unsigned long i = 0; i < (unsigned long)CFG::WORDS * n_images; i++) {
#pragma HLS PIPELINE II = 1
    const detail::FieldReader<CFG::PE, CFG::A_BITS> a(in_a.read());
    const detail::FieldReader<CFG::PE, CFG::B_BITS> b(in_b.read());
    detail::FieldWriter<CFG::PE, CFG::OUT_BITS> r;
  add_lanes:
    for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
      // exact in 64 bits: each product is below 2^32 in magnitude (the sum fits OUT_BITS)
      const ap_int<64> sum = ap_int<64>(CFG::A_MUL) * decode_value<CFG::A_KIND, CFG::A_BITS>(a[p]) +
                             ap_int<64>(CFG::B_MUL) * decode_value<CFG::B_KIND, CFG::B_BITS>(b[p]);
      r.set(p, encode<CFG::OUT_KIND, CFG::OUT_BITS>(sum));
    }
    out.write(r.word());
  }
}

}  // namespace bitfab
