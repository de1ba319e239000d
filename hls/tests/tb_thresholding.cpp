// Generic testbench for bitfab::thresholding. tb_config.h is generated per case by
// tests/test_hls_kernels.py and defines struct tb_cfg (derived from bitfab::thresholding_config),
// TB_REPS, TB_THRESHOLDS_INT (PE*(C/PE)*N_THRES), TB_N_IN, TB_IN_LIMBS, TB_N_OUT and
// TB_EXPECTED_LIMBS (see tb_check.hpp).
#include "bitfab/thresholding.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

int main(int argc, char** argv) {
  typedef tb_cfg Cfg;
  constexpr unsigned NF = Cfg::C / Cfg::PE;
  static_assert(sizeof(TB_THRESHOLDS_INT) / 8 == Cfg::PE * NF * Cfg::N_THRES,
                "TB_THRESHOLDS_INT does not match the config");

  static bitfab::thresholding_activation<Cfg> activation;
  bitfab::load_ints(TB_THRESHOLDS_INT, &activation.thresholds[0][0][0],
                    Cfg::PE * NF * Cfg::N_THRES);

  hls::stream<ap_uint<Cfg::PE * Cfg::IN_BITS>> in("in");
  hls::stream<ap_uint<Cfg::PE * Cfg::OUT_BITS>> out("out");
  tb::push(in, TB_IN_LIMBS, TB_N_IN);
  tb::Timer timer;
  bitfab::thresholding<Cfg>(in, out, activation, TB_REPS);
  timer.report();
  return tb::check(in, out, TB_EXPECTED_LIMBS, TB_N_OUT, argc, argv);
}
