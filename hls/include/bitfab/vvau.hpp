/// \file vvau.hpp
/// \brief Vector-vector-activation unit: a depthwise convolution's per-channel dot products
/// over each sliding window, then the MVAU's activation.
#pragma once

#include "bitfab/mvau.hpp"

namespace bitfab {

/// \brief Configuration of vvau(): the fields of mvau_config, read for a depthwise layer.
///
///  - MW: kernel positions K_H*K_W, the length of each channel's dot product; SIMD divides it.
///  - MH: channels (input = output); PE divides it.
///  - SIMD > 1 needs PE == MH: the window streams a kernel position's channels together, so a
///    word holds several kernel positions only when it holds all channels of each.
/// Every other field (bits, kinds, N_THRES, OUT_BIAS, REQUANT_SHIFT, REPS) means what it means
/// for mvau(), and the activation object is the MVAU's (mvau_activation<CFG>).
struct vvau_config : mvau_config {};

/// Vector-vector-activation unit (FINN's VVAU) over the windows of a sliding_window().
///
/// For each of REPS * n_images windows x (MW kernel positions k of MH channels c, element
/// k*MH + c): acc[c] = sum_k x[k][c] * W[k][c], then y[c] = activation.activate(nf, p, acc[c])
/// for c = nf*PE + p, exactly as mvau() (thresholds, shift requantization, or the accumulator;
/// XNOR mode counts agreeing bits when inputs and weights are Bipolar).
///
/// Stream layout (SF = MW/SIMD, NF = MH/PE), in the window's own element order:
///  - in: SF*NF words per window, word sf*NF + nf field s*PE + p is x[sf*SIMD + s][nf*PE + p]
///    (with SIMD == 1 or NF == 1 these are consecutive elements of the window);
///  - weights[p][nf*SF + sf] field s is W[sf*SIMD + s][nf*PE + p] (mvau()'s layout, W being
///    the [MW, MH] matrix whose column c is channel c's kernel);
///  - out: NF words per window, word nf field p is y[nf*PE + p].
///
/// The loop walks kernel folds outermost and channel folds inside them, as the words arrive,
/// keeping the partial sums of all MH channels (acc[NF][PE]); the last kernel fold emits
/// each channel fold's word. One tile per iteration at II=1: SF*NF cycles per window.
/// \tparam CFG configuration struct derived from vvau_config
template <class CFG>
void vvau(hls::stream<ap_uint<CFG::SIMD * CFG::PE * CFG::IN_BITS>>& in,
          hls::stream<ap_uint<CFG::PE * CFG::OUT_BITS>>& out,
          const ap_uint<CFG::SIMD * CFG::W_BITS>
              weights[CFG::PE][(CFG::MH / CFG::PE) * (CFG::MW / CFG::SIMD)],
          const mvau_activation<CFG>& activation, unsigned n_images) {
#pragma HLS INLINE off
  static_assert(CFG::MW >= 1 && CFG::MH >= 1, "vvau: set MW (kernel positions) and MH (channels)");
  static_assert(CFG::SIMD >= 1 && CFG::PE >= 1, "vvau: SIMD and PE must be at least 1");
  static_assert(CFG::MW % CFG::SIMD == 0, "vvau: MW (kernel positions) must be divisible by SIMD");
  static_assert(CFG::MH % CFG::PE == 0, "vvau: MH (channels) must be divisible by PE");
  static_assert(CFG::SIMD == 1 || CFG::PE == CFG::MH,
                "vvau: SIMD > 1 needs PE == MH (a word of several kernel positions holds all "
                "channels of each)");
  static_assert(CFG::IN_KIND != Kind::Bipolar || CFG::IN_BITS == 1,
                "vvau: a Bipolar input is IN_BITS = 1");
  static_assert(CFG::W_KIND != Kind::Bipolar || CFG::W_BITS == 1,
                "vvau: a Bipolar weight is W_BITS = 1");
  static_assert(CFG::IN_BITS >= 1 && CFG::IN_BITS <= 32, "vvau: IN_BITS must be in [1, 32]");
  static_assert(CFG::W_BITS >= 1 && CFG::W_BITS <= 32, "vvau: W_BITS must be in [1, 32]");
  static_assert(CFG::ACC_BITS >= 2 && CFG::ACC_BITS <= 32, "vvau: ACC_BITS must be in [2, 32]");
  static_assert(CFG::OUT_BITS >= 1 && CFG::OUT_BITS <= 32, "vvau: OUT_BITS must be in [1, 32]");
  static_assert(CFG::OUT_KIND != Kind::Bipolar,
                "vvau: OUT_KIND is Signed or Unsigned (a bipolar activation is Unsigned, 1 bit)");
  static_assert(CFG::REQUANT_SHIFT >= -1, "vvau: REQUANT_SHIFT is -1 (thresholds) or a shift");
  constexpr bool XNOR = CFG::IN_KIND == Kind::Bipolar && CFG::W_KIND == Kind::Bipolar;
  static_assert(!XNOR || CFG::MW < (1ULL << (CFG::ACC_BITS - 1)),
                "vvau: XNOR mode counts up to MW, which must fit ap_int<ACC_BITS>");
  static_assert(CFG::REPS >= 1, "vvau: REPS is at least 1");

  // the MVAU's dot product of SIMD lanes (one PE's kernel positions) with a weight word
  typedef typename detail::mvau_dot<CFG>::type Dot;
  typedef typename Dot::sum_t sum_t;

  constexpr unsigned SF = CFG::MW / CFG::SIMD;
  constexpr unsigned NF = CFG::MH / CFG::PE;
  constexpr unsigned TILES = SF * NF;

  sum_t acc[NF][CFG::PE];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 2
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1

  const unsigned iterations = CFG::REPS * n_images * TILES;
  unsigned sf = 0, nf = 0;
vvau_loop:
  for (unsigned i = 0; i < iterations; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: nf == i % NF, sf == (i / NF) % SF; acc[nf][p] holds the partial sum of
    // channel nf*PE + p over kernel positions 0 .. sf*SIMD - 1 (written NF tiles ago).
    const detail::FieldReader<CFG::SIMD * CFG::PE, CFG::IN_BITS> x(in.read());
    detail::FieldWriter<CFG::PE, CFG::OUT_BITS> y;
  pe_loop:
    for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
      detail::FieldWriter<CFG::SIMD, CFG::IN_BITS> lanes;  // PE p's SIMD kernel positions
    lane_loop:
      for (unsigned s = 0; s < CFG::SIMD; s++) {
#pragma HLS UNROLL
        lanes.set(s, x[s * CFG::PE + p]);
      }
      const sum_t part = Dot::dot(Dot::prepare(lanes.word()), weights[p][nf * SF + sf]);
      const sum_t a = (sf == 0) ? part : sum_t(acc[nf][p] + part);
      acc[nf][p] = a;
      if (sf == SF - 1) y.set(p, activation.activate(nf, p, Dot::finish(a)));
    }
    if (sf == SF - 1) out.write(y.word());
    if (++nf == NF) {
      nf = 0;
      if (++sf == SF) sf = 0;
    }
  }
}

}  // namespace bitfab
