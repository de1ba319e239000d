/// \file fork.hpp
/// \brief Stream fork: every input word goes to both outputs (a residual block's two paths).
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of stream_fork(); the layer's config inherits from it.
struct fork_config {
  /// Words per image: pixels * channels / PE.
  static constexpr unsigned WORDS = 0;
  /// Bits per stream word: PE * bits per value.
  static constexpr unsigned WIDTH = 0;
};

/// Copies each word to out0 and out1. The two readers drain at their own pace through their
/// FIFOs; the skip path's FIFO must hold what the other path keeps back (rtlsim sizes it).
/// \tparam CFG a fork_config
template <class CFG>
void stream_fork(hls::stream<ap_uint<CFG::WIDTH>>& in, hls::stream<ap_uint<CFG::WIDTH>>& out0,
                 hls::stream<ap_uint<CFG::WIDTH>>& out1, unsigned n_images) {
  static_assert(CFG::WORDS > 0, "WORDS must be set");
  static_assert(CFG::WIDTH > 0, "WIDTH must be set");
fork_words:
  for (unsigned long i = 0; i < (unsigned long)CFG::WORDS * n_images; i++) {
#pragma HLS PIPELINE II = 1
    const ap_uint<CFG::WIDTH> w = in.read();
    out0.write(w);
    out1.write(w);
  }
}

}  // namespace bitfab
