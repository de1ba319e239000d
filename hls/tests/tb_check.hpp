/// \file tb_check.hpp
/// \brief Shared output check for the generic testbenches (not part of the HLS library).
///
/// Each testbench pushes the generated input words, runs one kernel and calls check(), which
/// compares every output word with the expected one and prints `PASS` or the first mismatch.
/// `--corrupt-expected K` flips bit 0 of expected word K first: the tests use it to prove that
/// a wrong expected value fails.
///
/// The generated tb_config.h holds words as plain uint64_t limb arrays ((W+63)/64 limbs per
/// word, least significant first) and thresholds as long long: constant-initialized PODs
/// compile instantly, whereas g++ needs minutes for a few thousand ap_uint("0x..", 16)
/// initializers. load_words()/load_ints() (bitfab/csim_init.hpp, the loaders the generated
/// parameter headers use) turn them into ap_uint/ap_int arrays at run time.
#pragma once

#include <ap_int.h>
#include <hls_stream.h>
#include <stdint.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "bitfab/csim_init.hpp"

namespace tb {

/// Write n words (given as limbs) to a stream.
/// \tparam W bits per word
template <int W>
void push(hls::stream<ap_uint<W>>& s, const uint64_t* limbs, unsigned long n) {
  ap_uint<W> w;
  for (unsigned long k = 0; k < n; k++) {
    bitfab::load_words<W>(limbs + k * bitfab::limbs_per_word(W), &w, 1);
    s.write(w);
  }
}

/// Index of the expected word to corrupt, or -1 (from `--corrupt-expected K`).
inline long corrupt_index(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], "--corrupt-expected") == 0) return std::atol(argv[i + 1]);
  }
  return -1;
}

/// Wall-clock timer for the kernel call, reported on stdout as `KERNEL_US <n>`.
class Timer {
 public:
  Timer() : t0_(std::chrono::steady_clock::now()) {}
  void report() const {
    const auto dt = std::chrono::steady_clock::now() - t0_;
    std::printf("KERNEL_US %lld\n",
                (long long)std::chrono::duration_cast<std::chrono::microseconds>(dt).count());
  }

 private:
  std::chrono::steady_clock::time_point t0_;
};

/// Compare `out` with the n expected words (given as limbs); `in` must have been consumed
/// entirely. Returns the process exit code: 0 on PASS, 1 on any mismatch.
/// \tparam IW bits per input word
/// \tparam OW bits per output word
template <int IW, int OW>
int check(hls::stream<ap_uint<IW>>& in, hls::stream<ap_uint<OW>>& out, const uint64_t* expected,
          unsigned long n, int argc, char** argv) {
  const long corrupt = corrupt_index(argc, argv);
  if (!in.empty()) {
    std::printf("MISMATCH input: %lu words left unread\n", (unsigned long)in.size());
    return 1;
  }
  if (out.size() != n) {
    std::printf("MISMATCH count: got %lu output words, expected %lu\n", (unsigned long)out.size(),
                n);
    return 1;
  }
  for (unsigned long k = 0; k < n; k++) {
    ap_uint<OW> want;
    bitfab::load_words<OW>(expected + k * bitfab::limbs_per_word(OW), &want, 1);
    if ((long)k == corrupt) want[0] = !want[0];
    const ap_uint<OW> got = out.read();
    if (got != want) {
      std::printf("MISMATCH word %lu: got %s expected %s\n", k, got.to_string(16).c_str(),
                  want.to_string(16).c_str());
      return 1;
    }
  }
  std::printf("PASS %lu words\n", n);
  return 0;
}

}  // namespace tb
