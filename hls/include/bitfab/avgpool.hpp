/// \file avgpool.hpp
/// \brief Streaming accumulating pool: the exact integer sum of each K_H x K_W window of an
/// NHWC image (no padding). An average pool is this sum followed by thresholds (the division
/// and the truncation of the reference, as a Thresholding layer).
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of avgpool(), with the default of every field.
///
/// The code generator emits one config per layer that inherits from this struct and sets the
/// layer's values: `struct pool0_cfg : bitfab::avgpool_config { ... };`. A field left at 0
/// below has no meaningful default: the layer must set it (static_asserts check).
/// Derived: CF = CH / PE (words per pixel).
struct avgpool_config {
  /// Channels per pixel; PE divides CH.
  static constexpr unsigned CH = 0;
  /// Input rows.
  static constexpr unsigned IFM_H = 0;
  /// Input columns.
  static constexpr unsigned IFM_W = 0;
  /// Window rows.
  static constexpr unsigned K_H = 0;
  /// Window columns.
  static constexpr unsigned K_W = 0;
  /// Rows between two windows (below K_H: windows overlap).
  static constexpr unsigned STRIDE_H = 1;
  /// Columns between two windows.
  static constexpr unsigned STRIDE_W = 1;
  /// Output rows: (IFM_H - K_H) / STRIDE_H + 1.
  static constexpr unsigned OFM_H = 0;
  /// Output columns: (IFM_W - K_W) / STRIDE_W + 1.
  static constexpr unsigned OFM_W = 0;
  /// Channels per stream word.
  static constexpr unsigned PE = 1;
  /// Bits per input value, 1 .. 32.
  static constexpr unsigned BITS = 0;
  /// Bits per output sum, BITS .. 32: holds every window sum (the code generator's choice).
  static constexpr unsigned OBITS = 0;
  /// How input values and output sums are read: Signed two's complement or Unsigned.
  static constexpr Kind KIND = Kind::Unsigned;
};

namespace detail {

/// The N BITS-wide fields of a word as N OBITS-wide fields of the same values.
/// \tparam K     kind of the fields (sign extension for Signed)
/// \tparam N     fields per word
/// \tparam BITS  bits per input field
/// \tparam OBITS bits per output field (at least BITS)
template <Kind K, unsigned N, unsigned BITS, unsigned OBITS>
ap_uint<N * OBITS> widen_fields(const ap_uint<N * BITS>& a) {
#pragma HLS INLINE
  const FieldReader<N, BITS> fa(a);
  FieldWriter<N, OBITS> r;
widen_fields_loop:
  for (unsigned p = 0; p < N; p++) {
#pragma HLS UNROLL
    r.set(p, encode<K, OBITS>(decode_value<K, BITS>(fa[p])));
  }
  return r.word();
}

/// Field-wise sum of two words of N OBITS-wide fields. The caller guarantees every sum fits a
/// field (partial window sums lie within the window sum's range).
/// \tparam K     kind of the fields
/// \tparam N     fields per word
/// \tparam OBITS bits per field
template <Kind K, unsigned N, unsigned OBITS>
ap_uint<N * OBITS> add_fields(const ap_uint<N * OBITS>& a, const ap_uint<N * OBITS>& b) {
#pragma HLS INLINE
  const FieldReader<N, OBITS> fa(a), fb(b);
  FieldWriter<N, OBITS> r;
add_fields_loop:
  for (unsigned p = 0; p < N; p++) {
#pragma HLS UNROLL
    r.set(p, encode<K, OBITS>(decode_value<K, OBITS>(fa[p]) + decode_value<K, OBITS>(fb[p])));
  }
  return r.word();
}

}  // namespace detail

/// Sum pool (the sum an ONNX AveragePool divides, no padding, ceil_mode = 0) over K_H x K_W
/// windows at the given strides; windows overlap when a stride is below the kernel size, and
/// rows/columns past the last whole window are dropped. A global pool is K = the image.
///
/// Per image (`reps` images, channels-last):
///  - in: IFM_H*IFM_W pixels row-major, CF words of PE BITS-wide fields each; word f field p
///    is channel f*PE + p.
///  - out: OFM_H*OFM_W pixels row-major, CF words of PE OBITS-wide fields; channel c of output
///    (oy, ox) is the exact sum of channel c over input rows oy*STRIDE_H .. +K_H-1 and columns
///    ox*STRIDE_W .. +K_W-1 (Signed: two's complement values and sums).
///
/// Separable, as maxpool(): `cols` keeps the last K_W input pixels of the current row; when an
/// input pixel closes a window horizontally, the sum of those K_W pixels (the row sum of
/// output column ox) goes into `rows`, a ring of K_H rows of OFM_W*CF words; when its row
/// also closes a window vertically, the sum of the K_H row sums is the output. One input word
/// per iteration at II=1: IFM_H*IFM_W*CF cycles per image.
/// \tparam CFG configuration struct derived from avgpool_config
template <class CFG>
void avgpool(hls::stream<ap_uint<CFG::PE * CFG::BITS>>& in,
             hls::stream<ap_uint<CFG::PE * CFG::OBITS>>& out, unsigned reps) {
#pragma HLS INLINE off
  static_assert(CFG::CH >= 1, "avgpool: set CH (at least 1)");
  static_assert(CFG::PE >= 1, "avgpool: PE must be at least 1");
  static_assert(CFG::CH % CFG::PE == 0, "avgpool: CH must be divisible by PE");
  static_assert(CFG::BITS >= 1 && CFG::BITS <= 32, "avgpool: BITS must be in [1, 32]");
  static_assert(CFG::OBITS >= CFG::BITS && CFG::OBITS <= 32,
                "avgpool: OBITS must be in [BITS, 32]");
  static_assert(CFG::KIND != Kind::Bipolar, "avgpool: sums Signed or Unsigned values");
  static_assert(CFG::K_H >= 1 && CFG::K_W >= 1, "avgpool: K_H and K_W must be >= 1");
  static_assert(CFG::STRIDE_H >= 1 && CFG::STRIDE_W >= 1,
                "avgpool: STRIDE_H and STRIDE_W must be >= 1");
  static_assert(CFG::IFM_H >= CFG::K_H && CFG::IFM_W >= CFG::K_W,
                "avgpool: the image is smaller than the window");
  static_assert(CFG::OFM_H == (CFG::IFM_H - CFG::K_H) / CFG::STRIDE_H + 1,
                "avgpool: OFM_H must be (IFM_H - K_H) / STRIDE_H + 1");
  static_assert(CFG::OFM_W == (CFG::IFM_W - CFG::K_W) / CFG::STRIDE_W + 1,
                "avgpool: OFM_W must be (IFM_W - K_W) / STRIDE_W + 1");

  typedef ap_uint<CFG::PE * CFG::BITS> in_t;
  typedef ap_uint<CFG::PE * CFG::OBITS> sum_t;
  constexpr unsigned CF = CFG::CH / CFG::PE;
  constexpr unsigned ITERS = CFG::IFM_H * CFG::IFM_W * CF;

  in_t cols[CFG::K_W][CF];                // input column x in slot x % K_W
  sum_t rows[CFG::K_H][CFG::OFM_W * CF];  // row sums of input row y in slot y % K_H
#pragma HLS ARRAY_PARTITION variable = cols complete dim = 1
#pragma HLS ARRAY_PARTITION variable = rows complete dim = 1

  unsigned x = 0, y = 0, f = 0, xslot = 0, yslot = 0;
  unsigned x_end = CFG::K_W - 1, y_end = CFG::K_H - 1;  // last column/row of the next window
  unsigned h = 0;                                       // == ox*CF + f at a window's column end
avgpool_loop:
  for (unsigned i = 0; i < reps * ITERS; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: the input word is (y, x, f) of the current image, i == its index mod ITERS;
    // cols[s][f] holds the latest column with x % K_W == s of row y (for this f once read);
    // rows[s] holds the row sums of the latest row with y % K_H == s; x_end (y_end) is the
    // last column (row) of the first window not closed yet, past the image after the last one.
    const in_t v = in.read();
    if (x == x_end) {
      sum_t m = detail::widen_fields<CFG::KIND, CFG::PE, CFG::BITS, CFG::OBITS>(v);
    col_loop:
      for (unsigned j = 1; j < CFG::K_W; j++) {
#pragma HLS UNROLL
        const in_t c = cols[detail::ring_sub(xslot, j, CFG::K_W)][f];
        m = detail::add_fields<CFG::KIND, CFG::PE, CFG::OBITS>(
            m, detail::widen_fields<CFG::KIND, CFG::PE, CFG::BITS, CFG::OBITS>(c));
      }
      if (y == y_end) {
        sum_t o = m;
      row_loop:
        for (unsigned j = 1; j < CFG::K_H; j++) {
#pragma HLS UNROLL
          o = detail::add_fields<CFG::KIND, CFG::PE, CFG::OBITS>(
              o, rows[detail::ring_sub(yslot, j, CFG::K_H)][h]);
        }
        out.write(o);
      }
      rows[yslot][h] = m;
      h++;
    }
    cols[xslot][f] = v;
    if (++f == CF) {
      f = 0;
      if (x == x_end) x_end += CFG::STRIDE_W;
      xslot = detail::ring_add(xslot, 1, CFG::K_W);
      if (++x == CFG::IFM_W) {
        x = 0;
        xslot = 0;
        x_end = CFG::K_W - 1;
        h = 0;
        if (y == y_end) y_end += CFG::STRIDE_H;
        yslot = detail::ring_add(yslot, 1, CFG::K_H);
        if (++y == CFG::IFM_H) {
          y = 0;
          yslot = 0;
          y_end = CFG::K_H - 1;
        }
      }
    }
  }
}

}  // namespace bitfab
