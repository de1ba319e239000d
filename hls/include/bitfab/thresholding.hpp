/// \file thresholding.hpp
/// \brief Standalone multi-threshold activation over a stream of channels-last pixels.
#pragma once

#include "bitfab/activation.hpp"
#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of thresholding(); the code generator emits one such struct per layer.
///
/// \code
/// struct act0_cfg {
///   static constexpr unsigned C = 64;         // channels per pixel
///   static constexpr unsigned PE = 8;         // channels per stream word; PE | C
///   static constexpr unsigned IN_BITS = 8;    // bits per input field
///   static constexpr bitfab::Kind IN_KIND = bitfab::Kind::Signed;
///   static constexpr unsigned T_BITS = 9;     // width of ap_int thresholds
///   static constexpr unsigned OUT_BITS = 2;   // bits per output field
///   static constexpr bitfab::Kind OUT_KIND = bitfab::Kind::Unsigned;  // Signed or Unsigned
///   static constexpr unsigned N_THRES = 3;    // thresholds per channel, >= 1
///   static constexpr int OUT_BIAS = 0;        // added to the threshold count
/// };
/// \endcode
///
/// Per rep (pixel) there are NF = C/PE words; word nf field p is channel c = nf*PE + p and
/// out = OUT_BIAS + #{l : decode(x) >= thresholds[p][nf][l]}.
/// \tparam CFG configuration struct, see the fields documented above
template <class CFG>
void thresholding(hls::stream<ap_uint<CFG::PE * CFG::IN_BITS>>& in,
                  hls::stream<ap_uint<CFG::PE * CFG::OUT_BITS>>& out,
                  const ap_int<CFG::T_BITS> thresholds[CFG::PE][CFG::C / CFG::PE][CFG::N_THRES],
                  unsigned reps) {
#pragma HLS INLINE off
  static_assert(CFG::PE >= 1, "thresholding: PE must be at least 1");
  static_assert(CFG::C % CFG::PE == 0, "thresholding: C must be divisible by PE");
  static_assert(CFG::N_THRES >= 1, "thresholding: N_THRES must be at least 1");
  static_assert(CFG::IN_KIND != Kind::Bipolar || CFG::IN_BITS == 1,
                "thresholding: a Bipolar input is IN_BITS = 1");
  static_assert(CFG::IN_BITS >= 1 && CFG::IN_BITS <= 32, "thresholding: IN_BITS in [1, 32]");
  static_assert(CFG::T_BITS >= 1 && CFG::T_BITS <= 64, "thresholding: T_BITS in [1, 64]");

  typedef MultiThreshold<CFG::N_THRES, CFG::OUT_BIAS, CFG::OUT_KIND, CFG::OUT_BITS> Act;
  constexpr unsigned NF = CFG::C / CFG::PE;

#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 1
#pragma HLS ARRAY_PARTITION variable = thresholds complete dim = 3

  unsigned nf = 0;
thres_loop:
  for (unsigned i = 0; i < reps * NF; i++) {
#pragma HLS PIPELINE II = 1
    // Invariant: nf == i % NF, the channel group of the word read in this iteration.
    const detail::FieldReader<CFG::PE, CFG::IN_BITS> x(in.read());
    detail::FieldWriter<CFG::PE, CFG::OUT_BITS> y;
  pe_loop:
    for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
      y.set(p, Act::apply(decode_value<CFG::IN_KIND, CFG::IN_BITS>(x[p]), thresholds[p][nf]));
    }
    out.write(y.word());
    if (++nf == NF) nf = 0;
  }
}

}  // namespace bitfab
