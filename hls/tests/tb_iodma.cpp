// Testbench for the DMA edge (bitfab/iodma.hpp). tb_config.h is generated per case by
// tests/test_hls_iodma.py: struct tb_cfg {DW, IW, BYTES, WORDS}, TB_REPS images, the input
// beats TB_IN_LIMBS (TB_N_IN, host layout of boards/driver/packing.py) and the words they
// carry, TB_EXPECTED_LIMBS (TB_N_OUT).
// dma_to_stream must give exactly the expected words; stream_to_dma must turn them back into
// the input beats (padding zero) with TLAST on the last beat only.
#include "bitfab/iodma.hpp"
#include "tb_check.hpp"
#include "tb_config.h"

int main(int argc, char** argv) {
  typedef tb_cfg C;
  const long corrupt = tb::corrupt_index(argc, argv);
  hls::stream<bitfab::axis_word<C::DW>> beats_in("beats_in"), beats_out("beats_out");
  hls::stream<ap_uint<C::IW>> words("words"), words_back("words_back");
  for (unsigned long i = 0; i < TB_N_IN; i++) {
    bitfab::axis_word<C::DW> b;
    bitfab::load_words<C::DW>(TB_IN_LIMBS + i * bitfab::limbs_per_word(C::DW), &b.data, 1);
    b.keep = -1;
    b.strb = -1;
    b.last = i + 1 == TB_N_IN;
    beats_in.write(b);
  }
  bitfab::dma_to_stream<C::DW, C::IW, C::BYTES, C::WORDS>(beats_in, words, TB_REPS);
  if (!beats_in.empty() || words.size() != TB_N_OUT) {
    std::printf("MISMATCH count: %lu beats unread, %lu words (expected %lu)\n",
                (unsigned long)beats_in.size(), (unsigned long)words.size(), TB_N_OUT);
    return 1;
  }
  for (unsigned long k = 0; k < TB_N_OUT; k++) {
    ap_uint<C::IW> want;
    bitfab::load_words<C::IW>(TB_EXPECTED_LIMBS + k * bitfab::limbs_per_word(C::IW), &want, 1);
    if ((long)k == corrupt) want[0] = !want[0];
    const ap_uint<C::IW> got = words.read();
    if (got != want) {
      std::printf("MISMATCH word %lu: got %s expected %s\n", k, got.to_string(16).c_str(),
                  want.to_string(16).c_str());
      return 1;
    }
    words_back.write(got);
  }
  bitfab::stream_to_dma<C::DW, C::IW, C::BYTES, C::WORDS>(words_back, beats_out, TB_REPS);
  if (!words_back.empty() || beats_out.size() != TB_N_IN) {
    std::printf("MISMATCH beats: %lu out, expected %lu\n", (unsigned long)beats_out.size(),
                TB_N_IN);
    return 1;
  }
  for (unsigned long i = 0; i < TB_N_IN; i++) {
    ap_uint<C::DW> want;
    bitfab::load_words<C::DW>(TB_IN_LIMBS + i * bitfab::limbs_per_word(C::DW), &want, 1);
    const bitfab::axis_word<C::DW> b = beats_out.read();
    if (b.data != want || int(b.last) != (i + 1 == TB_N_IN ? 1 : 0)) {
      std::printf("MISMATCH beat %lu: got %s last=%d\n", i, b.data.to_string(16).c_str(),
                  int(b.last));
      return 1;
    }
  }
  std::printf("PASS %lu words, %lu beats\n", TB_N_OUT, TB_N_IN);
  return 0;
}
