// Generic testbench for bitfab::vvau. tb_config.h is generated per case by
// tests/test_hls_vvau.py and defines struct tb_cfg (derived from bitfab::vvau_config), TB_REPS,
// TB_WEIGHTS_LIMBS (PE*NF*SF words, p-major), TB_N_IN, TB_IN_LIMBS, TB_N_OUT and
// TB_EXPECTED_LIMBS (see tb_check.hpp for the limb format); with an activation table also
// TB_HAS_THRESHOLDS and TB_THRESHOLDS_INT ([PE][NF][entries]).
#include "bitfab/vvau.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

int main(int argc, char** argv) {
  typedef tb_cfg Cfg;
  constexpr unsigned SF = Cfg::MW / Cfg::SIMD, NF = Cfg::MH / Cfg::PE;
  constexpr unsigned WW = Cfg::SIMD * Cfg::W_BITS;
  static_assert(sizeof(TB_WEIGHTS_LIMBS) / 8 == Cfg::PE * NF * SF * bitfab::limbs_per_word(WW),
                "TB_WEIGHTS_LIMBS does not match the config");

  static ap_uint<WW> weights[Cfg::PE][NF * SF];
  bitfab::load_words(TB_WEIGHTS_LIMBS, &weights[0][0], Cfg::PE * NF * SF);
  static bitfab::mvau_activation<Cfg> activation;
#ifdef TB_HAS_THRESHOLDS
  constexpr unsigned long ENTRIES =
      sizeof(activation.thresholds) / sizeof(activation.thresholds[0][0][0]);
  static_assert(sizeof(TB_THRESHOLDS_INT) / 8 == ENTRIES,
                "TB_THRESHOLDS_INT does not match the activation's table");
  bitfab::load_ints(TB_THRESHOLDS_INT, &activation.thresholds[0][0][0], ENTRIES);
#endif

  hls::stream<ap_uint<Cfg::SIMD * Cfg::PE * Cfg::IN_BITS>> in("in");
  hls::stream<ap_uint<Cfg::PE * Cfg::OUT_BITS>> out("out");
  tb::push(in, TB_IN_LIMBS, TB_N_IN);
  tb::Timer timer;
  bitfab::vvau<Cfg>(in, out, weights, activation, TB_REPS);
  timer.report();
  return tb::check(in, out, TB_EXPECTED_LIMBS, TB_N_OUT, argc, argv);
}
