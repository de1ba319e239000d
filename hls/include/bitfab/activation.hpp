/// \file activation.hpp
/// \brief Activation policies shared by mvau() and thresholding().
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

/// Identity activation: the value itself, as OUT_BITS two's complement (truncated to the low
/// OUT_BITS bits; the compiler sizes OUT_BITS so nothing is lost).
/// \tparam OUT_BITS bits of the output field
template <unsigned OUT_BITS>
struct PassThrough {
  /// \tparam V value type (ap_int)
  template <class V>
  static ap_uint<OUT_BITS> apply(const V& v) {
#pragma HLS INLINE
    return encode<Kind::Signed, OUT_BITS>(v);
  }
};

}  // namespace bitfab
