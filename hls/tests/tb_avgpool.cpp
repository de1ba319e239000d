// Generic testbench for bitfab::avgpool. tb_config.h is generated per case by
// tests/test_hls_window_kernels.py and defines struct tb_cfg (derived from bitfab::avgpool_config),
// TB_REPS, TB_N_IN, TB_IN_LIMBS, TB_N_OUT and TB_EXPECTED_LIMBS (see tb_check.hpp).
#include "bitfab/avgpool.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

int main(int argc, char** argv) {
  typedef tb_cfg Cfg;
  hls::stream<ap_uint<Cfg::PE * Cfg::BITS>> in("in");
  hls::stream<ap_uint<Cfg::PE * Cfg::OBITS>> out("out");
  tb::push(in, TB_IN_LIMBS, TB_N_IN);
  tb::Timer timer;
  bitfab::avgpool<Cfg>(in, out, TB_REPS);
  timer.report();
  return tb::check(in, out, TB_EXPECTED_LIMBS, TB_N_OUT, argc, argv);
}
