/// \file iodma.hpp
/// \brief The design's edge to the AXI DMAs: byte beats with TLAST in, layer words out, and back.
///
/// A DMA moves bytes in beats of DW bits. The host lays an image out as WORDS words of BYTES
/// bytes each (boards/driver/packing.py) and pads the image to whole beats, so every image
/// starts on a beat boundary and a batch is a plain concatenation of images. The output side
/// packs the same way and raises TLAST on the last beat of the last image of the batch: the
/// S2MM DMA ends its transfer there, so one DMA transfer carries one whole batch.
#pragma once

#include "bitfab/types.hpp"

#ifdef BITFAB_AP_AXI
#include <ap_axi_sdata.h>
#endif

namespace bitfab {

#ifdef BITFAB_AP_AXI
/// Vitis HLS: its own side-channel type, so the port gets TKEEP/TSTRB/TLAST.
template <int DW>
using axis_word = ap_axiu<DW, 0, 0, 0>;
#else
/// g++ C-simulation: the same fields as ap_axiu, without the vendor header.
template <int DW>
struct axis_word {
  ap_uint<DW> data;
  ap_uint<DW / 8> keep;
  ap_uint<DW / 8> strb;
  ap_uint<1> last;
};
#endif

/// Beats per image of WORDS words of BYTES bytes.
template <int DW, int BYTES, int WORDS>
struct beat_layout {
  static constexpr int WORD_BITS = BYTES * 8;
  static constexpr int BEATS = (WORDS * WORD_BITS + DW - 1) / DW;
};

/// DMA beats -> words of IW bits (each stored in BYTES bytes), n_images images.
///
/// One beat in and one word out can happen in the same iteration (the RTL twin,
/// bitfab_axis_in.v, does the same in one cycle), so an image takes max(BEATS, WORDS)
/// iterations at II=1, not BEATS + WORDS: a beat is taken whenever the buffer has room for it.
template <int DW, int IW, int BYTES, int WORDS>
void dma_to_stream(hls::stream<axis_word<DW>>& in, hls::stream<ap_uint<IW>>& out,
                   unsigned n_images) {
  constexpr int WB = beat_layout<DW, BYTES, WORDS>::WORD_BITS;
  constexpr int BEATS = beat_layout<DW, BYTES, WORDS>::BEATS;
  constexpr int CAP = WB + 2 * DW;  // a beat is taken while have <= WB + DW
  static_assert(IW <= WB, "a word must fit its bytes");
images:
  for (unsigned img = 0; img < n_images; img++) {
    ap_uint<CAP> buf = 0;  // bits received but not yet sent, LSB first
    int have = 0;
    int beats = 0;
  words:
    for (int w = 0; w < WORDS;) {
#pragma HLS PIPELINE II = 1 style = flp
      const bool give = have >= WB;
      const bool take = beats < BEATS && have <= WB + DW;
      ap_uint<CAP> kept = give ? ap_uint<CAP>(buf >> WB) : buf;
      int kept_have = give ? have - WB : have;
      if (take) {
        // the last beat of an image carries padding above the last word; it is dropped
        // with buf when the image ends
        kept |= ap_uint<CAP>(in.read().data) << kept_have;
        kept_have += DW;
        beats++;
      }
      if (give) {
        out.write(ap_uint<IW>(buf(IW - 1, 0)));
        w++;
      }
      buf = kept;
      have = kept_have;
    }
  }
}

/// Words of OW bits (stored in BYTES bytes) -> DMA beats, TLAST on the batch's last beat.
///
/// As in dma_to_stream, a word in and a beat out can happen in the same iteration (as in
/// bitfab_axis_out.v): an image takes max(WORDS, BEATS) iterations at II=1.
template <int DW, int OW, int BYTES, int WORDS>
void stream_to_dma(hls::stream<ap_uint<OW>>& in, hls::stream<axis_word<DW>>& out,
                   unsigned n_images) {
  constexpr int WB = beat_layout<DW, BYTES, WORDS>::WORD_BITS;
  constexpr int BEATS = beat_layout<DW, BYTES, WORDS>::BEATS;
  constexpr int CAP = WB + 2 * DW;  // a word is taken while have <= 2 * DW
  static_assert(OW <= WB, "a word must fit its bytes");
images:
  for (unsigned img = 0; img < n_images; img++) {
    ap_uint<CAP> buf = 0;
    int have = 0;
    int w = 0;
    int beats = 0;
  beats_loop:
    while (beats < BEATS) {
#pragma HLS PIPELINE II = 1 style = flp
      // a full beat, or the zero-padded end of the image once every word is in
      const bool give = have >= DW || (w == WORDS && have > 0);
      const bool take = w < WORDS && have <= 2 * DW;
      ap_uint<CAP> kept = give ? ap_uint<CAP>(buf >> DW) : buf;
      int kept_have = give ? (have > DW ? have - DW : 0) : have;
      if (take) {
        kept |= ap_uint<CAP>(in.read()) << kept_have;
        kept_have += WB;
        w++;
      }
      if (give) {
        axis_word<DW> b;
        b.data = buf(DW - 1, 0);
        b.keep = -1;
        b.strb = -1;
        beats++;
        b.last = (img + 1 == n_images && beats == BEATS) ? 1 : 0;
        out.write(b);
      }
      buf = kept;
      have = kept_have;
    }
  }
}

}  // namespace bitfab
