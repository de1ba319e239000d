/// \file types.hpp
/// \brief Data kinds, field decode/encode and compile-time helpers shared by every bitfab kernel.
///
/// Layout contract (the same as boards/driver/packing.py): element j of a stream word occupies
/// bits [j*BITS, (j+1)*BITS), LSB first, two's complement for signed data; a BIPOLAR value is one
/// bit, 1 = +1 and 0 = -1.
///
/// C-simulation speed: under g++ (no __SYNTHESIS__) words are unpacked through native 64-bit
/// limbs (detail::Limbs) instead of ap_uint part selects. Define BITFAB_NO_FAST_CSIM to make g++
/// run the synthesizable code path instead; both paths give identical results (the test suite
/// runs both).
#pragma once

#include <ap_int.h>
#include <hls_stream.h>
#include <stdint.h>

#include <type_traits>
#include <utility>

#if !defined(__SYNTHESIS__) && !defined(BITFAB_NO_FAST_CSIM)
#define BITFAB_FAST_CSIM 1
#else
#define BITFAB_FAST_CSIM 0
#endif

namespace bitfab {

/// How the bits of one stream field are read as a number.
enum class Kind {
  Unsigned,  ///< plain binary, 0 .. 2^BITS-1
  Signed,    ///< two's complement, -2^(BITS-1) .. 2^(BITS-1)-1
  Bipolar    ///< one bit: 1 = +1, 0 = -1
};

/// Ceiling of log2(x): the number of bits that index x distinct values (clog2(1) == 0).
constexpr unsigned clog2(unsigned long long x) {
  unsigned r = 0;
  while (r < 64 && (1ULL << r) < x) {
    ++r;
  }
  return r;
}

/// Width of the signed integer that holds every value of a field.
/// \tparam K    kind of the field
/// \tparam BITS bits of the stored field
template <Kind K, unsigned BITS>
constexpr unsigned value_bits() {
  return K == Kind::Signed ? BITS : BITS + 1;
}

/// Signed ap_int type that holds every value of a field.
/// \tparam K    kind of the field
/// \tparam BITS bits of the stored field
template <Kind K, unsigned BITS>
struct value_of {
  typedef ap_int<value_bits<K, BITS>()> type;
};

/// Value of a stored field as a (synthesizable) signed ap_int.
/// \tparam K    kind of the field
/// \tparam BITS bits of the stored field
template <Kind K, unsigned BITS>
typename value_of<K, BITS>::type decode_value(const ap_uint<BITS>& field) {
#pragma HLS INLINE
  static_assert(BITS >= 1, "a field has at least one bit");
  static_assert(K != Kind::Bipolar || BITS == 1, "a Bipolar field is exactly 1 bit wide");
  typedef typename value_of<K, BITS>::type V;
  if (K == Kind::Bipolar) {
    return field[0] ? V(1) : V(-1);
  }
  if (K == Kind::Signed) {
    return V(ap_int<BITS>(field));  // same width: reinterpret the bits as two's complement
  }
  return V(field);
}

/// Value of a stored field as an int (Bipolar: 1 -> +1, 0 -> -1; Signed: two's complement).
/// \tparam K    kind of the field
/// \tparam BITS bits of the stored field
template <Kind K, unsigned BITS>
int decode(ap_uint<BITS> field) {
#pragma HLS INLINE
  static_assert(value_bits<K, BITS>() <= 32, "decode() returns int: the value must fit 32 bits");
  return decode_value<K, BITS>(field).to_int();
}

/// Stored field for an output value: Bipolar stores v > 0 as 1; Signed and Unsigned store the
/// low BITS bits of v (two's complement). Range checks are the caller's (see MultiThreshold).
/// \tparam K    kind of the field
/// \tparam BITS bits of the stored field
/// \tparam V    integer or ap_int type of the value (deduced)
template <Kind K, unsigned BITS, class V>
ap_uint<BITS> encode(const V& v) {
#pragma HLS INLINE
  static_assert(K != Kind::Bipolar || BITS == 1, "a Bipolar field is exactly 1 bit wide");
  if (K == Kind::Bipolar) {
    return ap_uint<BITS>(v > 0 ? 1 : 0);
  }
  return ap_uint<BITS>(ap_int<BITS>(v));
}

namespace detail {

#if BITFAB_FAST_CSIM
/// True when the C-simulation model of T exposes its 64-bit limbs (ap_private::get_pVal), as
/// the ap_types shipped with hls4ml and Vitis do; otherwise Limbs falls back to part selects.
/// \tparam T an ap_uint type
template <class T, class = void>
struct has_limb_access : std::false_type {};
/// \copydoc has_limb_access
template <class T>
struct has_limb_access<T, decltype(void(std::declval<const T&>().V.get_pVal(0)))> : std::true_type {
};

/// A W-bit word held as native 64-bit limbs, LSB first (C-simulation only).
/// \tparam W width of the word in bits
template <unsigned W>
struct Limbs {
  static constexpr unsigned N = (W + 63) / 64;
  uint64_t v[N];

  Limbs() {
    for (unsigned i = 0; i < N; i++) v[i] = 0;
  }
  explicit Limbs(const ap_uint<W>& w) {
    if (W <= 64) {
      v[0] = w.to_uint64();
    } else {
      load(w, has_limb_access<ap_uint<W>>());
    }
  }
  void load(const ap_uint<W>& w, std::true_type) {
    for (unsigned i = 0; i < N; i++) v[i] = w.V.get_pVal(i);
    if (W % 64) v[N - 1] &= (1ULL << (W % 64)) - 1;
  }
  void load(const ap_uint<W>& w, std::false_type) {
    for (unsigned i = 0; i < N; i++) {
      const unsigned lo = 64 * i;
      const unsigned hi = lo + 63 < W - 1 ? lo + 63 : W - 1;
      v[i] = w.range(hi, lo).to_uint64();
    }
  }
  /// The `bits`-wide field starting at bit `lo` (bits <= 64).
  uint64_t field(unsigned lo, unsigned bits) const {
    const unsigned i = lo >> 6, off = lo & 63;
    uint64_t f = v[i] >> off;
    if (off + bits > 64) f |= v[i + 1] << (64 - off);
    return bits >= 64 ? f : (f & ((1ULL << bits) - 1));
  }
  /// OR `f` into the (so far zero) `bits`-wide field starting at bit `lo`.
  void set_field(unsigned lo, unsigned bits, uint64_t f) {
    const unsigned i = lo >> 6, off = lo & 63;
    if (bits < 64) f &= (1ULL << bits) - 1;
    v[i] |= f << off;
    if (off + bits > 64) v[i + 1] |= f >> (64 - off);
  }
  ap_uint<W> word() const {
    ap_uint<W> w = 0;
    if (W <= 64) {
      w = v[0];
      return w;
    }
    for (unsigned i = 0; i < N; i++) {
      const unsigned lo = 64 * i;
      const unsigned hi = lo + 63 < W - 1 ? lo + 63 : W - 1;
      w.range(hi, lo) = ap_uint<64>(v[i]);
    }
    return w;
  }
};
#endif

/// How a kernel holds a W-bit stream word between reading and using it: the ap_uint itself in
/// hardware, native 64-bit limbs under fast C-simulation (the same bits). `load` makes the held
/// value from a word, `store` gives the word back, `zero` is the all-zero word. This is the one
/// place that chooses the storage of a word: FieldReader, FieldWriter, the MVAU's input buffer
/// and maxpool's line buffers all hold words through it.
/// \tparam W width of the word in bits
template <unsigned W>
struct WordStore {
  typedef ap_uint<W> word_t;
#if BITFAB_FAST_CSIM
  typedef Limbs<W> held_t;
  static held_t zero() { return held_t(); }
  static held_t load(const word_t& w) { return held_t(w); }
  static word_t store(const held_t& v) { return v.word(); }
#else
  typedef word_t held_t;
  static held_t zero() {
#pragma HLS INLINE
    return word_t(0);
  }
  static held_t load(const word_t& w) {
#pragma HLS INLINE
    return w;
  }
  static word_t store(const held_t& v) {
#pragma HLS INLINE
    return v;
  }
#endif
};

/// Read access to the N fields of BITS bits packed in one stream word.
/// \tparam N    fields per word
/// \tparam BITS bits per field
template <unsigned N, unsigned BITS>
class FieldReader {
 public:
  typedef ap_uint<N * BITS> word_t;
  FieldReader() {}
  explicit FieldReader(const word_t& w) : w_(WordStore<N * BITS>::load(w)) {}
  /// Stored bits of field i.
  ap_uint<BITS> operator[](unsigned i) const {
#pragma HLS INLINE
#if BITFAB_FAST_CSIM
    return ap_uint<BITS>(w_.field(i * BITS, BITS));
#else
    return w_.range(i * BITS + BITS - 1, i * BITS);
#endif
  }
#if BITFAB_FAST_CSIM
  /// Stored bits of field i as a native integer (C-simulation only).
  uint64_t raw(unsigned i) const { return w_.field(i * BITS, BITS); }
#endif

 private:
  typename WordStore<N * BITS>::held_t w_;
};

/// Builds one stream word from N fields of BITS bits; every field must be set exactly once.
/// \tparam N    fields per word
/// \tparam BITS bits per field
template <unsigned N, unsigned BITS>
class FieldWriter {
 public:
  typedef ap_uint<N * BITS> word_t;
  FieldWriter() : w_(WordStore<N * BITS>::zero()) {}
  /// Store the bits of field i.
  void set(unsigned i, const ap_uint<BITS>& f) {
#pragma HLS INLINE
#if BITFAB_FAST_CSIM
    w_.set_field(i * BITS, BITS, f.to_uint64());
#else
    w_.range(i * BITS + BITS - 1, i * BITS) = f;
#endif
  }
#if BITFAB_FAST_CSIM
  /// Store field i from a native integer (C-simulation only).
  void set_raw(unsigned i, uint64_t f) { w_.set_field(i * BITS, BITS, f); }
#endif
  word_t word() const {
#pragma HLS INLINE
    return WordStore<N * BITS>::store(w_);
  }

 private:
  typename WordStore<N * BITS>::held_t w_;
};

/// Slot `step` places after `slot` in a ring of `size` slots (slot < size, step <= size).
inline unsigned ring_add(unsigned slot, unsigned step, unsigned size) {
#pragma HLS INLINE
  return slot + step >= size ? slot + step - size : slot + step;
}

/// Slot `step` places before `slot` in a ring of `size` slots (slot < size, step <= size).
inline unsigned ring_sub(unsigned slot, unsigned step, unsigned size) {
#pragma HLS INLINE
  return slot >= step ? slot - step : slot + size - step;
}

/// Slot of row `r` (possibly negative, in the top padding) in a ring of `size` rows, r mod size.
constexpr unsigned ring_slot(long long r, unsigned size) {
  return unsigned(((r % (long long)size) + size) % size);
}

#if BITFAB_FAST_CSIM
/// Value of a stored field (bits above BITS zero) as a native integer, the same value decode()
/// gives (C-simulation only).
/// \tparam K    kind of the field
/// \tparam BITS bits of the stored field
template <Kind K, unsigned BITS>
inline int64_t decode_native(uint64_t f) {
  if (K == Kind::Bipolar) return int64_t(f << 1) - 1;
  if (K == Kind::Signed && BITS < 64) {
    const uint64_t sign = 1ULL << ((BITS - 1) % 64);
    return int64_t(f ^ sign) - int64_t(sign);  // branch-free sign extension
  }
  return int64_t(f);
}

/// An ap_int/ap_uint value (at most 64 bits) or a native integer as int64_t (C-simulation only).
/// \tparam W width of the ap type
/// \tparam S signedness of the ap type
template <int W, bool S>
inline int64_t to_native(const ap_int_base<W, S>& v) {
  static_assert(W <= 64, "to_native: at most 64 bits");
  return v.to_int64();
}
inline int64_t to_native(int64_t v) { return v; }
#endif

}  // namespace detail
}  // namespace bitfab
