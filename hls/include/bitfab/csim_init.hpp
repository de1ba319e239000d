/// \file csim_init.hpp
/// \brief C-simulation only: fill ap_uint/ap_int parameter memories from plain integer tables.
///
/// g++ compiles large tables of `ap_uint<W>("0x...", 16)` initializers very slowly (minutes
/// for a few thousand words), so generated parameter headers give g++ plain uint64_t limbs
/// and build the ap_uint words once when the library loads. Synthesis sees the
/// ap_uint initializers instead. The kernel testbenches (hls/tests/tb_check.hpp) load their
/// generated tables with the same functions.
#pragma once

#ifndef __SYNTHESIS__
#include <ap_int.h>
#include <stdint.h>

namespace bitfab {

/// Number of 64-bit limbs of one word of `bits` bits.
constexpr unsigned long limbs_per_word(unsigned long bits) { return (bits + 63) / 64; }

/// words[k] = the W-bit word held in limbs[k*L .. k*L+L), L = limbs_per_word(W), LSB limb first.
/// Returns true, so that a static bool can run it once when the library loads.
/// \tparam W bits per word
template <int W>
bool load_words(const uint64_t* limbs, ap_uint<W>* words, unsigned long n) {
  const unsigned long L = limbs_per_word(W);
load_words_loop:
  for (unsigned long k = 0; k < n; k++) {
    ap_uint<W> w = 0;
    for (unsigned long i = 0; i < L; i++) w |= ap_uint<W>(limbs[k * L + i]) << (64 * i);
    words[k] = w;
  }
  return true;
}

/// values[k] = ints[k] for an ap_int table seen as flat. Returns true, as load_words() does.
/// \tparam W bits per value
template <int W>
bool load_ints(const long long* ints, ap_int<W>* values, unsigned long n) {
load_ints_loop:
  for (unsigned long k = 0; k < n; k++) values[k] = ints[k];
  return true;
}

}  // namespace bitfab
#endif
