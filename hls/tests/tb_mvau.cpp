// Generic testbench for bitfab::mvau. tb_config.h is generated per case by
// tests/test_hls_kernels.py and defines struct tb_cfg, TB_REPS, TB_WEIGHTS_LIMBS (PE*NF*SF
// words, p-major), TB_THRESHOLDS_INT (PE*NF*max(N_THRES,1)), TB_N_IN, TB_IN_LIMBS, TB_N_OUT and
// TB_EXPECTED_LIMBS (see tb_check.hpp for the limb format).
#include "bitfab/mvau.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

int main(int argc, char** argv) {
  typedef tb_cfg Cfg;
  constexpr unsigned SF = Cfg::MW / Cfg::SIMD, NF = Cfg::MH / Cfg::PE;
  constexpr unsigned NT = bitfab::detail::thres_per_channel<Cfg>();  // 1 in shift mode
  constexpr unsigned WW = Cfg::SIMD * Cfg::W_BITS;
  static_assert(sizeof(TB_WEIGHTS_LIMBS) / 8 == Cfg::PE * NF * SF * bitfab::limbs_per_word(WW),
                "TB_WEIGHTS_LIMBS does not match the config");
  static_assert(sizeof(TB_THRESHOLDS_INT) / 8 == Cfg::PE * NF * NT,
                "TB_THRESHOLDS_INT does not match the config");

  static ap_uint<WW> weights[Cfg::PE][NF * SF];
  static ap_int<Cfg::ACC_BITS> thresholds[Cfg::PE][NF][NT];
  bitfab::load_words(TB_WEIGHTS_LIMBS, &weights[0][0], Cfg::PE * NF * SF);
  bitfab::load_ints(TB_THRESHOLDS_INT, &thresholds[0][0][0], Cfg::PE * NF * NT);

  hls::stream<ap_uint<Cfg::SIMD * Cfg::IN_BITS>> in("in");
  hls::stream<ap_uint<Cfg::PE * Cfg::OUT_BITS>> out("out");
  tb::push(in, TB_IN_LIMBS, TB_N_IN);
  tb::Timer timer;
  bitfab::mvau<Cfg>(in, out, weights, thresholds, TB_REPS);
  timer.report();
  return tb::check(in, out, TB_EXPECTED_LIMBS, TB_N_OUT, argc, argv);
}
