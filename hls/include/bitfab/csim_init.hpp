/// \file csim_init.hpp
/// C-simulation only: fill ap_uint/ap_int parameter memories from plain integer tables.
///
/// g++ compiles large tables of `ap_uint<W>("0x...", 16)` initializers very slowly (minutes
/// for a few thousand words), so generated parameter headers give g++ plain uint64_t limbs
/// and build the ap_uint words once when the library loads. Synthesis sees the
/// ap_uint initializers instead.
#pragma once

#ifndef __SYNTHESIS__
#include <ap_int.h>
#include <stdint.h>

namespace bitfab {

/// words[k] = the W-bit word held in limbs[k*L .. k*L+L), L = ceil(W/64), LSB limb first.
/// \tparam W bits per word
template <int W>
bool load_words(const uint64_t* limbs, ap_uint<W>* words, unsigned long n) {
  const unsigned long L = (W + 63) / 64;
load_words_loop:
  for (unsigned long k = 0; k < n; k++) {
    ap_uint<W> w = 0;
    for (unsigned long i = 0; i < L; i++) w |= ap_uint<W>(limbs[k * L + i]) << (64 * i);
    words[k] = w;
  }
  return true;
}

/// values[k] = ints[k] for an ap_int table seen as flat.
/// \tparam W bits per value
template <int W>
bool load_ints(const long long* ints, ap_int<W>* values, unsigned long n) {
load_ints_loop:
  for (unsigned long k = 0; k < n; k++) values[k] = ints[k];
  return true;
}

}  // namespace bitfab
#endif
