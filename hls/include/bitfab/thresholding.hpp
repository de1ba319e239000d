/// \file thresholding.hpp
/// \brief Standalone multi-threshold activation over a stream of channels-last pixels.
#pragma once

#include "bitfab/activation.hpp"
#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of thresholding(), with the default of every field.
///
/// The code generator emits one config per layer that inherits from this struct and sets the
/// layer's values: `struct act0_cfg : bitfab::thresholding_config { ... };`. A field left at 0
/// below has no meaningful default: the layer must set it (static_asserts check).
struct thresholding_config {
  /// Channels per pixel.
  static constexpr unsigned C = 0;
  /// Channels per stream word (thresholded in parallel); PE divides C.
  static constexpr unsigned PE = 1;
  /// Bits per input field, 1 .. 32.
  static constexpr unsigned IN_BITS = 0;
  /// How input fields read as numbers.
  static constexpr Kind IN_KIND = Kind::Unsigned;
  /// Width of the ap_int thresholds, 1 .. 64.
  static constexpr unsigned T_BITS = 0;
  /// Bits per output field, 1 .. 32.
  static constexpr unsigned OUT_BITS = 0;
  /// How output fields read: Signed or Unsigned (a bipolar activation is Unsigned, 1 bit).
  static constexpr Kind OUT_KIND = Kind::Unsigned;
  /// Thresholds per channel, at least 1.
  static constexpr unsigned N_THRES = 0;
  /// Lowest output value (added to the threshold count).
  static constexpr int OUT_BIAS = 0;
  /// Reps per image (pixels for a per-pixel layer, else 1); the top passes n_images, so the
  /// dataflow region holds only calls (canonical form).
  static constexpr unsigned REPS = 1;
};

/// The activation object thresholding<CFG>() takes: a ThresholdTable of MultiThreshold whose
/// `thresholds[p][nf][l]` is threshold l of channel nf*PE + p, ascending in l.
/// \tparam CFG thresholding configuration
template <class CFG>
using thresholding_activation =
    ThresholdTable<MultiThreshold<CFG::N_THRES, CFG::OUT_BIAS, CFG::OUT_KIND, CFG::OUT_BITS>,
                   CFG::PE, CFG::C / CFG::PE, ap_int<CFG::T_BITS>>;

/// Multi-threshold activation per channel of a stream of channels-last pixels.
///
/// Per rep (REPS pixels an image, n_images images) there are NF = C/PE words; word nf field p
/// is channel c = nf*PE + p and out = OUT_BIAS + #{l : decode(x) >= thresholds[p][nf][l]}. The
/// caller partitions the activation's `thresholds` completely in dimensions 1 and 3 (the
/// generated top does).
/// \tparam CFG configuration struct derived from thresholding_config
template <class CFG>
void thresholding(hls::stream<ap_uint<CFG::PE * CFG::IN_BITS>>& in,
                  hls::stream<ap_uint<CFG::PE * CFG::OUT_BITS>>& out,
                  const thresholding_activation<CFG>& activation, unsigned n_images) {
#pragma HLS INLINE off
  static_assert(CFG::C >= 1, "thresholding: set C (at least 1)");
  static_assert(CFG::PE >= 1, "thresholding: PE must be at least 1");
  static_assert(CFG::C % CFG::PE == 0, "thresholding: C must be divisible by PE");
  static_assert(CFG::N_THRES >= 1, "thresholding: N_THRES must be at least 1");
  static_assert(CFG::IN_KIND != Kind::Bipolar || CFG::IN_BITS == 1,
                "thresholding: a Bipolar input is IN_BITS = 1");
  static_assert(CFG::IN_BITS >= 1 && CFG::IN_BITS <= 32, "thresholding: IN_BITS in [1, 32]");
  static_assert(CFG::T_BITS >= 1 && CFG::T_BITS <= 64, "thresholding: T_BITS in [1, 64]");

  constexpr unsigned NF = CFG::C / CFG::PE;

  const unsigned iterations = CFG::REPS * n_images * NF;
  unsigned nf = 0;
thres_loop:
  for (unsigned i = 0; i < iterations; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: nf == i % NF, the channel group of the word read in this iteration.
    const detail::FieldReader<CFG::PE, CFG::IN_BITS> x(in.read());
    detail::FieldWriter<CFG::PE, CFG::OUT_BITS> y;
  pe_loop:
    for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
      y.set(p, activation.activate(nf, p, decode_value<CFG::IN_KIND, CFG::IN_BITS>(x[p])));
    }
    out.write(y.word());
    if (++nf == NF) nf = 0;
  }
}

}  // namespace bitfab
