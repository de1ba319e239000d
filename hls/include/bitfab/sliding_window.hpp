/// \file sliding_window.hpp
/// \brief Convolution input generator: the sliding windows of an NHWC image as a stream
/// (im2col), in the order an MVAU with MW = K_H*K_W*IFM_CH consumes them.
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of sliding_window(), with the default of every field.
///
/// The code generator emits one config per layer that inherits from this struct and sets the
/// layer's values: `struct swu0_cfg : bitfab::sliding_window_config { ... };`. A field left at
/// 0 below has no meaningful default: the layer must set it (static_asserts check).
/// Derived: CF = IFM_CH / SIMD (words per pixel).
struct sliding_window_config {
  /// Input channels; SIMD divides IFM_CH.
  static constexpr unsigned IFM_CH = 0;
  /// Input rows.
  static constexpr unsigned IFM_H = 0;
  /// Input columns.
  static constexpr unsigned IFM_W = 0;
  /// Kernel rows.
  static constexpr unsigned K_H = 0;
  /// Kernel columns.
  static constexpr unsigned K_W = 0;
  /// Rows between two output rows.
  static constexpr unsigned STRIDE_H = 1;
  /// Columns between two output columns.
  static constexpr unsigned STRIDE_W = 1;
  /// Zero rows above the image.
  static constexpr unsigned PAD_T = 0;
  /// Zero columns left of the image.
  static constexpr unsigned PAD_L = 0;
  /// Zero rows below the image.
  static constexpr unsigned PAD_B = 0;
  /// Zero columns right of the image.
  static constexpr unsigned PAD_R = 0;
  /// Output rows: (IFM_H + PAD_T + PAD_B - K_H) / STRIDE_H + 1.
  static constexpr unsigned OFM_H = 0;
  /// Output columns: (IFM_W + PAD_L + PAD_R - K_W) / STRIDE_W + 1.
  static constexpr unsigned OFM_W = 0;
  /// Channels per stream word.
  static constexpr unsigned SIMD = 1;
  /// Bits per channel value.
  static constexpr unsigned BITS = 0;
};

namespace detail {

#if BITFAB_FAST_CSIM
/// C-simulation model of sliding_window(): the same output stream from plain nested loops.
/// Before output row oy it reads the input rows that row needs, then emits the whole row.
/// \tparam CFG sliding_window configuration
template <class CFG>
void sliding_window_csim(hls::stream<ap_uint<CFG::SIMD * CFG::BITS>>& in,
                         hls::stream<ap_uint<CFG::SIMD * CFG::BITS>>& out, unsigned reps) {
  typedef ap_uint<CFG::SIMD * CFG::BITS> word_t;
  constexpr unsigned CF = CFG::IFM_CH / CFG::SIMD;
  constexpr unsigned ROW = CFG::IFM_W * CF;  // words per input row
  constexpr int IH = CFG::IFM_H, IW = CFG::IFM_W, KH = CFG::K_H;
  word_t buf[CFG::K_H * ROW];  // input row r lives in ring slot r % K_H
  const word_t zero = 0;
  for (unsigned rep = 0; rep < reps; rep++) {
    int rows = 0;  // input rows read so far
    for (unsigned oy = 0; oy < CFG::OFM_H; oy++) {
      const int top = int(oy * CFG::STRIDE_H) - int(CFG::PAD_T);
      const int need = top + KH < IH ? top + KH : IH;
      // Row `rows` overwrites row rows - K_H < top: no window from here on needs it.
      for (; rows < need; rows++) {
        word_t* row = buf + (rows % KH) * ROW;
        for (unsigned k = 0; k < ROW; k++) row[k] = in.read();
      }
      for (unsigned ox = 0; ox < CFG::OFM_W; ox++) {
        const int left = int(ox * CFG::STRIDE_W) - int(CFG::PAD_L);
        for (int iy = top; iy < top + KH; iy++) {
          const bool row_pad = iy < 0 || iy >= IH;
          const word_t* row = buf + (row_pad ? 0 : (iy % KH) * ROW);
          for (int ix = left; ix < left + int(CFG::K_W); ix++) {
            if (row_pad || ix < 0 || ix >= IW) {
              for (unsigned f = 0; f < CF; f++) out.write(zero);
            } else {
              const word_t* px = row + ix * CF;
              for (unsigned f = 0; f < CF; f++) out.write(px[f]);
            }
          }
        }
      }
    }
    for (; rows < IH; rows++) {  // rows below the last window are read and dropped
      for (unsigned k = 0; k < ROW; k++) in.read();
    }
  }
}
#endif

}  // namespace detail

/// Sliding-window (convolution input) generator, finn-hlslib's ConvolutionInputGenerator.
///
/// Per image (`reps` images, channels-last, batch 1 each):
///  - in: IFM_H*IFM_W pixels, row-major (y, then x), CF words each; word f field s is channel
///    f*SIMD + s.
///  - out: for each output pixel (oy, ox) row-major, for each kernel position (ky, kx)
///    row-major, for each fold f: word f of input pixel (oy*STRIDE_H + ky - PAD_T,
///    ox*STRIDE_W + kx - PAD_L), or an all-zero word where that position is padding. That is
///    K_H*K_W*CF words per output pixel, element order (ky, kx, c) with c fastest: the input
///    vector of an MVAU with MW = K_H*K_W*IFM_CH, SIMD = this SIMD.
///
/// The padding word is all zero bits, the integer 0 of Signed and Unsigned data; for Bipolar
/// data (1 bit, 0 = -1) it is -1, so zero-padded bipolar convolutions need another padding.
///
/// Hardware: a ring of K_H input rows (K_H*IFM_W*CF words, BRAM for CNV-size images; input row
/// r sits in slot r % K_H). Each input word is read exactly once. One loop at II=1 emits one
/// output word per iteration whenever the word it needs has arrived (or is padding) and, in the
/// same iteration, reads the next input word whenever the ring position it overwrites is no
/// longer needed by the current or any later window, so reading the next rows overlaps with
/// emitting the current one. Cycles per image: the OFM_H*OFM_W*K_H*K_W*CF output words plus
/// the reads that cannot overlap (the first window's rows, the rows below the last window),
/// e.g. 8,159 for CNV's first layer (32x32x3, K=3, SIMD=3: 8,100 output words); the input
/// stalls while a row is emitted. Under g++ the fast path (detail::sliding_window_csim) gives
/// the same output stream from plain nested loops.
/// \tparam CFG configuration struct derived from sliding_window_config
template <class CFG>
void sliding_window(hls::stream<ap_uint<CFG::SIMD * CFG::BITS>>& in,
                    hls::stream<ap_uint<CFG::SIMD * CFG::BITS>>& out, unsigned reps) {
#pragma HLS INLINE off
  static_assert(CFG::SIMD >= 1 && CFG::BITS >= 1, "sliding_window: SIMD and BITS must be >= 1");
  static_assert(CFG::IFM_CH >= 1, "sliding_window: set IFM_CH (at least 1)");
  static_assert(CFG::IFM_CH % CFG::SIMD == 0, "sliding_window: IFM_CH must be divisible by SIMD");
  static_assert(CFG::IFM_H >= 1 && CFG::IFM_W >= 1, "sliding_window: empty input image");
  static_assert(CFG::K_H >= 1 && CFG::K_W >= 1, "sliding_window: K_H and K_W must be >= 1");
  static_assert(CFG::STRIDE_H >= 1 && CFG::STRIDE_W >= 1,
                "sliding_window: STRIDE_H and STRIDE_W must be >= 1");
  static_assert(CFG::IFM_H + CFG::PAD_T + CFG::PAD_B >= CFG::K_H,
                "sliding_window: the padded image is shorter than the kernel");
  static_assert(CFG::IFM_W + CFG::PAD_L + CFG::PAD_R >= CFG::K_W,
                "sliding_window: the padded image is narrower than the kernel");
  static_assert(CFG::OFM_H == (CFG::IFM_H + CFG::PAD_T + CFG::PAD_B - CFG::K_H) / CFG::STRIDE_H + 1,
                "sliding_window: OFM_H must be (IFM_H + PAD_T + PAD_B - K_H) / STRIDE_H + 1");
  static_assert(CFG::OFM_W == (CFG::IFM_W + CFG::PAD_L + CFG::PAD_R - CFG::K_W) / CFG::STRIDE_W + 1,
                "sliding_window: OFM_W must be (IFM_W + PAD_L + PAD_R - K_W) / STRIDE_W + 1");

#if BITFAB_FAST_CSIM
  detail::sliding_window_csim<CFG>(in, out, reps);
#else
  typedef ap_uint<CFG::SIMD * CFG::BITS> word_t;
  constexpr unsigned CF = CFG::IFM_CH / CFG::SIMD;
  constexpr unsigned IN_WORDS = CFG::IFM_H * CFG::IFM_W * CF;
  constexpr unsigned OUT_WORDS = CFG::OFM_H * CFG::OFM_W * CFG::K_H * CFG::K_W * CF;
  constexpr int IH = CFG::IFM_H, IW = CFG::IFM_W, KH = CFG::K_H;
  constexpr int SH = CFG::STRIDE_H, SW = CFG::STRIDE_W;
  constexpr unsigned TOP_SLOT = detail::ring_slot(-(long long)CFG::PAD_T, CFG::K_H);
  // Loop trip counts for the csynth report: pragma arguments are constants, not expressions.
  constexpr unsigned MIN_ITERATIONS = OUT_WORDS;
  constexpr unsigned MAX_ITERATIONS = IN_WORDS + OUT_WORDS;
  (void)MIN_ITERATIONS;  // used by LOOP_TRIPCOUNT only
  (void)MAX_ITERATIONS;

  word_t buf[CFG::K_H * CFG::IFM_W * CF];  // word (slot, x, f) at (slot*IFM_W + x)*CF + f
#pragma HLS BIND_STORAGE variable = buf type = ram_s2p
  // Within one iteration the load (an emitted word) and the store (the word read) never share
  // an address (see the loop invariant below), so HLS need not order them: intra false. The
  // dependence between iterations must stay (inter true, the default): an emitted word is
  // often the one stored one iteration earlier (a true read-after-write at distance 1), and
  // finn-hlslib's `inter false` would read stale data on the board while C-sim still passed.
#pragma HLS DEPENDENCE variable = buf type = intra dependent = false

  // Read side: the next input word is (ry, rx, rf); rslot == ry % K_H.
  unsigned ry = 0, rx = 0, rf = 0, rslot = 0;
  // Write side: output pixel (oy, ox) has its window's top-left corner at input (top, left);
  // the next output word is kernel position (ky, kx) fold f, i.e. input (iy, ix) fold f with
  // iy == top + ky, ix == left + kx; tslot == ring_slot(top), eslot == ring_slot(iy).
  unsigned oy = 0, ox = 0, ky = 0, kx = 0, f = 0, tslot = TOP_SLOT, eslot = TOP_SLOT;
  int top = -int(CFG::PAD_T), left = -int(CFG::PAD_L), iy = top, ix = left;
  bool wdone = false;  // every output word of this image has been written
  unsigned img = 0;

sliding_window_loop:
  while (img < reps) {
#pragma HLS PIPELINE II = 1 style = flp
#pragma HLS LOOP_TRIPCOUNT min = MIN_ITERATIONS max = MAX_ITERATIONS
    // Invariant: ring position (slot s, column x) holds the latest input row r with
    // r % K_H == s whose column x was read; a word is overwritten only when no remaining
    // output word of this image needs it, so every word read and still needed is in the ring.
    //
    // Reading (ry, rx) overwrites row old = ry - K_H at column rx. That row is dead when
    // this image's output is done, when it is above the current window (tops only grow), or
    // when it is in the current window, above the next window (or this is the last output
    // row) and left of the current window (later windows of this row start further right).
    // When this is the last output row, rows below its window are dead as well.
    const int old = int(ry) - KH;
    const bool last_row = oy == CFG::OFM_H - 1;
    const bool dead = wdone || old < top || (last_row && old >= top + KH) ||
                      (old < top + KH && (last_row || old < top + SH) && int(rx) < left);
    const bool do_read = ry < CFG::IFM_H && dead;
    // The output word is padding or its input word has been read (row-major comparison).
    const bool pad = iy < 0 || iy >= IH || ix < 0 || ix >= IW;
    const bool arrived =
        iy < int(ry) || (iy == int(ry) && (ix < int(rx) || (ix == int(rx) && f < rf)));
    const bool do_write = !wdone && (pad || arrived);
    // The two ring accesses of one iteration never meet: a word is emitted only once read,
    // and the word being overwritten is dead.
    if (do_write) {
      word_t w = 0;
      if (!pad) w = buf[(eslot * CFG::IFM_W + unsigned(ix)) * CF + f];
      out.write(w);
      if (++f == CF) {
        f = 0;
        ix++;
        if (++kx == CFG::K_W) {
          kx = 0;
          ix = left;
          iy++;
          eslot = detail::ring_add(eslot, 1, CFG::K_H);
          if (++ky == CFG::K_H) {
            ky = 0;
            left += SW;
            iy = top;
            ix = left;
            eslot = tslot;
            if (++ox == CFG::OFM_W) {
              ox = 0;
              left = -int(CFG::PAD_L);
              top += SH;
              iy = top;
              ix = left;
              tslot = detail::ring_add(tslot, CFG::STRIDE_H % CFG::K_H, CFG::K_H);
              eslot = tslot;
              if (++oy == CFG::OFM_H) wdone = true;
            }
          }
        }
      }
    }
    if (do_read) {
      buf[(rslot * CFG::IFM_W + rx) * CF + rf] = in.read();
      if (++rf == CF) {
        rf = 0;
        if (++rx == CFG::IFM_W) {
          rx = 0;
          ry++;
          rslot = detail::ring_add(rslot, 1, CFG::K_H);
        }
      }
    }
    if (wdone && ry == CFG::IFM_H) {  // image done: start the next one
      ry = 0;
      rslot = 0;
      oy = 0;
      top = -int(CFG::PAD_T);
      iy = top;
      ix = left;
      tslot = TOP_SLOT;
      eslot = TOP_SLOT;
      wdone = false;
      img++;
    }
  }
#endif
}

}  // namespace bitfab
