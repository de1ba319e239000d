/// \file activation.hpp
/// \brief Activation policies and the activation object that owns their table, shared by mvau()
/// and thresholding().
///
/// A policy (MultiThreshold, ShiftRequant, PassThrough) is the function: `apply(v, row)` maps a
/// value and its channel's table row to the output field. An activation object is what the
/// kernels take: `activate(nf, p, v)` gives the output field of channel nf*PE + p, and the
/// object holds whatever that needs (finn-hlslib's ThresholdsActivation habit): ThresholdTable
/// owns a table, an activation without parameters (MvauPassThrough) holds nothing.
#pragma once

#include "bitfab/types.hpp"

namespace bitfab {

/// Multi-threshold activation: out = OUT_BIAS + #{ l in [0, N_THRES) : v >= thr[l] }.
///
/// Thresholds are ascending, but all N_THRES comparisons are made (no early exit), so unsorted
/// thresholds still give the count the reference model gives. The output range is checked at
/// compile time: OUT_BIAS .. OUT_BIAS + N_THRES must fit OUT_BITS bits of OUT_KIND.
/// \tparam N_THRES  number of thresholds per channel (>= 1)
/// \tparam OUT_BIAS added to the count (e.g. -2^(OUT_BITS-1) for a signed output)
/// \tparam OUT_KIND Unsigned or Signed (a bipolar activation is Unsigned, OUT_BITS = 1)
/// \tparam OUT_BITS bits of the output field
template <unsigned N_THRES, int OUT_BIAS, Kind OUT_KIND, unsigned OUT_BITS>
struct MultiThreshold {
  static_assert(N_THRES >= 1, "MultiThreshold needs at least one threshold");
  static_assert(OUT_KIND != Kind::Bipolar,
                "a thresholded output is Unsigned or Signed (a bipolar activation is Unsigned, "
                "OUT_BITS = 1, N_THRES = 1, OUT_BIAS = 0)");
  static_assert(OUT_BITS >= 1 && OUT_BITS <= 32, "OUT_BITS must be in [1, 32]");
  static_assert(OUT_KIND == Kind::Signed
                    ? (OUT_BIAS >= -(1LL << (OUT_BITS - 1)) &&
                       OUT_BIAS + (long long)N_THRES <= (1LL << (OUT_BITS - 1)) - 1)
                    : (OUT_BIAS >= 0 && OUT_BIAS + (long long)N_THRES <= (1LL << OUT_BITS) - 1),
                "OUT_BIAS .. OUT_BIAS + N_THRES does not fit OUT_BITS bits of OUT_KIND");
  /// Table entries per channel: the N_THRES thresholds.
  static constexpr unsigned ENTRIES = N_THRES;
  typedef ap_uint<OUT_BITS> out_t;

  /// Activation of one value against the thresholds of its channel.
  /// \tparam V value type (ap_int or native integer)
  /// \tparam T threshold type (ap_int)
  template <class V, class T>
  static ap_uint<OUT_BITS> apply(const V& v, const T (&thr)[N_THRES]) {
#pragma HLS INLINE
#if BITFAB_FAST_CSIM
    const int64_t x = detail::to_native(v);
    int count = 0;
    for (unsigned l = 0; l < N_THRES; l++) count += x >= detail::to_native(thr[l]);
    return encode<OUT_KIND, OUT_BITS>(OUT_BIAS + count);
#else
    ap_uint<clog2(N_THRES + 1)> count = 0;
  thres_loop:
    for (unsigned l = 0; l < N_THRES; l++) {
#pragma HLS UNROLL
      if (v >= thr[l]) count++;
    }
    return encode<OUT_KIND, OUT_BITS>(OUT_BIAS + int(count));
#endif
  }
};

/// Shift requantization: out = clip(R((v + off) / 2^SHIFT), OUT_BIAS, OUT_BIAS + N_THRES),
/// R = floor, or round-half-to-even when RNE.
///
/// The compiler chooses it only where it reproduces the layer's exact thresholds on the whole
/// accumulator range (flows/layers/mvau/requant.py), so it computes the same function as
/// MultiThreshold with one adder, a shift, a rounding fix-up and a clamp per PE.
/// \tparam N_THRES  number of output steps (levels - 1)
/// \tparam SHIFT    the shift k
/// \tparam RNE      round half to even (else floor)
/// \tparam OUT_BIAS lowest output value
/// \tparam OUT_KIND Unsigned or Signed
/// \tparam OUT_BITS bits of the output field
template <unsigned N_THRES, unsigned SHIFT, bool RNE, int OUT_BIAS, Kind OUT_KIND,
          unsigned OUT_BITS>
struct ShiftRequant {
  static_assert(N_THRES >= 1, "ShiftRequant needs at least two output levels");
  static_assert(SHIFT < 32, "ShiftRequant: SHIFT must be below 32");
  /// Table entries per channel: the offset.
  static constexpr unsigned ENTRIES = 1;
  typedef ap_uint<OUT_BITS> out_t;
  /// \tparam V value type (ap_int or native integer)
  /// \tparam T offset type (ap_int)
  template <class V, class T>
  static ap_uint<OUT_BITS> apply(const V& v, const T (&off)[1]) {
#pragma HLS INLINE
#if BITFAB_FAST_CSIM
    const int64_t d = detail::to_native(v) + detail::to_native(off[0]);
    int64_t q = d >> SHIFT;  // arithmetic shift: floor division by 2^SHIFT
    if (RNE && SHIFT > 0) {
      const int64_t r = d & ((int64_t(1) << SHIFT) - 1), half = int64_t(1) << (SHIFT - 1);
      q += (r > half) || (r == half && (q & 1));
    }
#else
    const ap_int<64> d = ap_int<64>(v) + ap_int<64>(off[0]);
    ap_int<64> q = d >> SHIFT;
    if (RNE && SHIFT > 0) {
      const ap_int<64> r = d & ((ap_int<64>(1) << SHIFT) - 1), half = ap_int<64>(1) << (SHIFT - 1);
      if (r > half || (r == half && q[0])) q++;
    }
#endif
    if (q < OUT_BIAS) q = OUT_BIAS;
    if (q > OUT_BIAS + (long long)N_THRES) q = OUT_BIAS + N_THRES;
    return encode<OUT_KIND, OUT_BITS>(int(q));
  }
};

/// Identity activation: the value itself, as OUT_BITS two's complement (truncated to the low
/// OUT_BITS bits; the compiler sizes OUT_BITS so nothing is lost).
/// \tparam OUT_BITS bits of the output field
template <unsigned OUT_BITS>
struct PassThrough {
  typedef ap_uint<OUT_BITS> out_t;
  /// \tparam V value type (ap_int)
  template <class V>
  static ap_uint<OUT_BITS> apply(const V& v) {
#pragma HLS INLINE
    return encode<Kind::Signed, OUT_BITS>(v);
  }
};

/// Activation object that owns the table of a policy (finn-hlslib's ThresholdsActivation): the
/// row of output channel nf*PE + p is `thresholds[p][nf]`, Policy::ENTRIES entries (ascending
/// thresholds for MultiThreshold, the one offset for ShiftRequant).
///
/// An aggregate, so a parameter header initializes it as `= {{ {{...}, ...}, ... }}`. For one
/// read of every PE's row per cycle the caller partitions `thresholds` completely in
/// dimensions 1 and 3 (the generated top does, next to the kernel call).
/// \tparam Policy MultiThreshold or ShiftRequant
/// \tparam PE     channels served in parallel (first index)
/// \tparam NF     channel groups (second index)
/// \tparam T      entry type (ap_int)
template <class Policy, unsigned PE, unsigned NF, class T>
struct ThresholdTable {
  T thresholds[PE][NF][Policy::ENTRIES];

  /// Output field of channel nf*PE + p for its value `v`.
  /// \tparam V value type (ap_int)
  template <class V>
  typename Policy::out_t activate(unsigned nf, unsigned p, const V& v) const {
#pragma HLS INLINE
    return Policy::apply(v, thresholds[p][nf]);
  }
};

}  // namespace bitfab
