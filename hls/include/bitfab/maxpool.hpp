/// \file maxpool.hpp
/// \brief Streaming max pool over the K_H x K_W windows of an NHWC image (no padding).
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of maxpool(), with the default of every field.
///
/// The code generator emits one config per layer that inherits from this struct and sets the
/// layer's values: `struct pool0_cfg : bitfab::maxpool_config { ... };`. A field left at 0
/// below has no meaningful default: the layer must set it (static_asserts check).
/// Derived: CF = CH / PE (words per pixel).
struct maxpool_config {
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
  /// Bits per value, 1 .. 32 (1 for Bipolar).
  static constexpr unsigned BITS = 0;
  /// How values compare: Signed two's complement, Unsigned, Bipolar (max is an OR).
  static constexpr Kind KIND = Kind::Unsigned;
};

namespace detail {

/// Field-wise maximum of two stream words of N fields of BITS bits, synthesizable.
/// \tparam K    kind of the fields (how they compare)
/// \tparam N    fields per word
/// \tparam BITS bits per field
template <Kind K, unsigned N, unsigned BITS>
ap_uint<N * BITS> max_fields(const ap_uint<N * BITS>& a, const ap_uint<N * BITS>& b) {
#pragma HLS INLINE
  if (K == Kind::Bipolar) return a | b;  // 1 = +1 beats 0 = -1
  const FieldReader<N, BITS> fa(a), fb(b);
  FieldWriter<N, BITS> r;
max_fields_loop:
  for (unsigned p = 0; p < N; p++) {
#pragma HLS UNROLL
    const bool b_wins = decode_value<K, BITS>(fb[p]) > decode_value<K, BITS>(fa[p]);
    r.set(p, b_wins ? fb[p] : fa[p]);
  }
  return r.word();
}

#if BITFAB_FAST_CSIM
/// Bit BITS-1 of every whole BITS-wide field of a 64-bit limb (C-simulation only).
constexpr uint64_t field_msbs(unsigned bits) {
  uint64_t m = 0;
  for (unsigned lo = 0; lo + bits <= 64; lo += bits) m |= 1ULL << (lo + bits - 1);
  return m;
}

/// Field-wise maximum of words held as native limbs (C-simulation only): whole limbs at a time
/// (SWAR) when no field straddles two limbs, field by field otherwise.
/// \tparam K    kind of the fields
/// \tparam N    fields per word
/// \tparam BITS bits per field
template <Kind K, unsigned N, unsigned BITS>
struct NativeMax {
  typedef Limbs<N * BITS> word;
  static constexpr bool SWAR = N * BITS <= 64 || 64 % BITS == 0;

  /// Field-wise max of the fields of two limbs (fields from bit 0, none straddling).
  static uint64_t limb_max(uint64_t a, uint64_t b) {
    if (BITS == 1) return K == Kind::Signed ? (a & b) : (a | b);  // Signed: 1 is -1
    constexpr uint64_t H = field_msbs(BITS);
    constexpr uint64_t ONES = (1ULL << (BITS % 64)) - 1;
    // Compare as unsigned; flipping the sign bits maps two's complement order onto it.
    const uint64_t x = K == Kind::Signed ? a ^ H : a;
    const uint64_t y = K == Kind::Signed ? b ^ H : b;
    // Per-field x - y without borrows crossing fields (Hacker's Delight 2-18), then the
    // borrow out of each field's top bit: set exactly where x < y.
    const uint64_t diff = ((x | H) - (y & ~H)) ^ ((x ^ ~y) & H);
    const uint64_t lt = ((~x & y) | (~(x ^ y) & diff)) & H;
    const uint64_t take_b = (lt >> (BITS - 1)) * ONES;  // spread each flag over its field
    return (b & take_b) | (a & ~take_b);
  }

  static void max_into(word& acc, const word& x) {
    if (SWAR) {
      for (unsigned i = 0; i < word::N; i++) acc.v[i] = limb_max(acc.v[i], x.v[i]);
      return;
    }
    word r;
    for (unsigned p = 0; p < N; p++) {
      const uint64_t fa = acc.field(p * BITS, BITS), fb = x.field(p * BITS, BITS);
      const bool b_wins = decode_native<K, BITS>(fb) > decode_native<K, BITS>(fa);
      r.set_field(p * BITS, BITS, b_wins ? fb : fa);
    }
    acc = r;
  }
};
#endif

/// How maxpool() holds and compares words: held as WordStore holds them (ap_uint words in
/// hardware, native limbs under g++: the same bits), compared by max_fields() in hardware and
/// NativeMax under g++.
/// \tparam CFG maxpool configuration
template <class CFG>
struct PoolWords : WordStore<CFG::PE * CFG::BITS> {
  typedef typename WordStore<CFG::PE * CFG::BITS>::held_t value_t;
#if BITFAB_FAST_CSIM
  static value_t max(value_t a, const value_t& b) {
    NativeMax<CFG::KIND, CFG::PE, CFG::BITS>::max_into(a, b);
    return a;
  }
#else
  static value_t max(const value_t& a, const value_t& b) {
#pragma HLS INLINE
    return max_fields<CFG::KIND, CFG::PE, CFG::BITS>(a, b);
  }
#endif
};

}  // namespace detail

/// Max pool (ONNX MaxPool, no padding, ceil_mode = 0) over K_H x K_W windows at the given
/// strides; windows overlap when a stride is below the kernel size, and rows/columns past the
/// last whole window are dropped.
///
/// Per image (`reps` images, channels-last):
///  - in: IFM_H*IFM_W pixels row-major, CF words each; word f field p is channel f*PE + p.
///  - out: OFM_H*OFM_W pixels row-major in the same layout; channel c of output (oy, ox) is
///    the maximum of channel c over input rows oy*STRIDE_H .. +K_H-1 and columns
///    ox*STRIDE_W .. +K_W-1. Signed compares two's complement, Unsigned as unsigned, Bipolar
///    (1 bit, 1 = +1) makes the max an OR.
///
/// Two line buffers, separable: `cols` keeps the last K_W input pixels of the current row;
/// when an input pixel closes a window horizontally, the max over those K_W pixels (the row
/// max `h` of output column ox) goes into `rows`, a ring of K_H rows of OFM_W*CF words; when
/// its row also closes a window vertically, the max of the K_H row maxes is the output. One
/// input word per iteration at II=1: IFM_H*IFM_W*CF cycles per image.
/// \tparam CFG configuration struct derived from maxpool_config
template <class CFG>
void maxpool(hls::stream<ap_uint<CFG::PE * CFG::BITS>>& in,
             hls::stream<ap_uint<CFG::PE * CFG::BITS>>& out, unsigned reps) {
#pragma HLS INLINE off
  static_assert(CFG::CH >= 1, "maxpool: set CH (at least 1)");
  static_assert(CFG::PE >= 1, "maxpool: PE must be at least 1");
  static_assert(CFG::CH % CFG::PE == 0, "maxpool: CH must be divisible by PE");
  static_assert(CFG::BITS >= 1 && CFG::BITS <= 32, "maxpool: BITS must be in [1, 32]");
  static_assert(CFG::KIND != Kind::Bipolar || CFG::BITS == 1, "maxpool: Bipolar is BITS = 1");
  static_assert(CFG::K_H >= 1 && CFG::K_W >= 1, "maxpool: K_H and K_W must be >= 1");
  static_assert(CFG::STRIDE_H >= 1 && CFG::STRIDE_W >= 1,
                "maxpool: STRIDE_H and STRIDE_W must be >= 1");
  static_assert(CFG::IFM_H >= CFG::K_H && CFG::IFM_W >= CFG::K_W,
                "maxpool: the image is smaller than the window");
  static_assert(CFG::OFM_H == (CFG::IFM_H - CFG::K_H) / CFG::STRIDE_H + 1,
                "maxpool: OFM_H must be (IFM_H - K_H) / STRIDE_H + 1");
  static_assert(CFG::OFM_W == (CFG::IFM_W - CFG::K_W) / CFG::STRIDE_W + 1,
                "maxpool: OFM_W must be (IFM_W - K_W) / STRIDE_W + 1");

  typedef detail::PoolWords<CFG> Words;
  typedef typename Words::value_t value_t;
  constexpr unsigned CF = CFG::CH / CFG::PE;
  constexpr unsigned ITERS = CFG::IFM_H * CFG::IFM_W * CF;

  value_t cols[CFG::K_W][CF];               // input column x in slot x % K_W
  value_t rows[CFG::K_H][CFG::OFM_W * CF];  // row maxes of input row y in slot y % K_H
#pragma HLS ARRAY_PARTITION variable = cols complete dim = 1
#pragma HLS ARRAY_PARTITION variable = rows complete dim = 1

  unsigned x = 0, y = 0, f = 0, xslot = 0, yslot = 0;
  unsigned x_end = CFG::K_W - 1, y_end = CFG::K_H - 1;  // last column/row of the next window
  unsigned h = 0;                                       // == ox*CF + f at a window's column end
maxpool_loop:
  for (unsigned i = 0; i < reps * ITERS; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: the input word is (y, x, f) of the current image, i == its index mod ITERS;
    // cols[s][f] holds the latest column with x % K_W == s of row y (for this f once read);
    // rows[s] holds the row maxes of the latest row with y % K_H == s; x_end (y_end) is the
    // last column (row) of the first window not closed yet, past the image after the last one.
    const value_t v = Words::load(in.read());
    if (x == x_end) {
      value_t m = v;
    col_loop:
      for (unsigned j = 1; j < CFG::K_W; j++) {
#pragma HLS UNROLL
        m = Words::max(m, cols[detail::ring_sub(xslot, j, CFG::K_W)][f]);
      }
      if (y == y_end) {
        value_t o = m;
      row_loop:
        for (unsigned j = 1; j < CFG::K_H; j++) {
#pragma HLS UNROLL
          o = Words::max(o, rows[detail::ring_sub(yslot, j, CFG::K_H)][h]);
        }
        out.write(Words::store(o));
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
