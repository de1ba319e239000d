// Generic testbench for bitfab::mvau. tb_config.h is generated per case by
// tests/test_hls_kernels.py and defines: struct tb_cfg, TB_REPS, TB_WEIGHTS, TB_THRESHOLDS,
// TB_N_IN, TB_IN[], TB_N_OUT, TB_EXPECTED[].
#include "bitfab/mvau.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

int main(int argc, char** argv) {
  hls::stream<ap_uint<tb_cfg::SIMD * tb_cfg::IN_BITS>> in("in");
  hls::stream<ap_uint<tb_cfg::PE * tb_cfg::OUT_BITS>> out("out");
  for (unsigned long i = 0; i < TB_N_IN; i++) in.write(TB_IN[i]);
  tb::Timer timer;
  bitfab::mvau<tb_cfg>(in, out, TB_WEIGHTS, TB_THRESHOLDS, TB_REPS);
  timer.report();
  return tb::check(in, out, TB_EXPECTED, TB_N_OUT, argc, argv);
}
