// Generic testbench for bitfab::sliding_window. tb_config.h is generated per case by
// tests/test_hls_window_kernels.py and defines struct tb_cfg (derived from
// bitfab::sliding_window_config), TB_REPS, TB_N_IN, TB_IN_LIMBS, TB_N_OUT and TB_EXPECTED_LIMBS
// (see tb_check.hpp).
//
// `--bench N` feeds the generated input N times (N*TB_REPS images in one kernel call) and
// checks every copy of the output; KERNEL_US then times all of them (throughput).
#include <cstdlib>
#include <cstring>

#include "bitfab/sliding_window.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

/// N from `--bench N`, 1 without it.
static unsigned long bench_copies(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; i++) {
    if (std::strcmp(argv[i], "--bench") == 0) return std::strtoul(argv[i + 1], nullptr, 10);
  }
  return 1;
}

int main(int argc, char** argv) {
  typedef tb_cfg Cfg;
  typedef ap_uint<Cfg::SIMD * Cfg::BITS> word_t;
  const unsigned long copies = bench_copies(argc, argv);
  hls::stream<word_t> in("in");
  hls::stream<word_t> out("out");
  for (unsigned long c = 0; c < copies; c++) tb::push(in, TB_IN_LIMBS, TB_N_IN);
  tb::Timer timer;
  bitfab::sliding_window<Cfg>(in, out, TB_REPS * copies);
  timer.report();
  // All copies but the last are checked here, the last one (and the counts) by tb::check.
  if (out.size() != copies * TB_N_OUT) {
    std::printf("MISMATCH count: got %lu output words, expected %lu\n", (unsigned long)out.size(),
                copies * TB_N_OUT);
    return 1;
  }
  for (unsigned long c = 0; c + 1 < copies; c++) {
    for (unsigned long k = 0; k < TB_N_OUT; k++) {
      word_t want;
      bitfab::load_words<Cfg::SIMD * Cfg::BITS>(
          TB_EXPECTED_LIMBS + k * bitfab::limbs_per_word(Cfg::SIMD * Cfg::BITS), &want, 1);
      if (out.read() != want) {
        std::printf("MISMATCH copy %lu word %lu\n", c, k);
        return 1;
      }
    }
  }
  return tb::check(in, out, TB_EXPECTED_LIMBS, TB_N_OUT, argc, argv);
}
