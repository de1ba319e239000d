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
template <int DW, int IW, int BYTES, int WORDS>
void dma_to_stream(hls::stream<axis_word<DW>>& in, hls::stream<ap_uint<IW>>& out,
                   unsigned n_images) {
  constexpr int WB = beat_layout<DW, BYTES, WORDS>::WORD_BITS;
  static_assert(IW <= WB, "a word must fit its bytes");
images:
  for (unsigned img = 0; img < n_images; img++) {
    ap_uint<WB + DW> buf = 0;  // bits received but not yet sent, LSB first
    int have = 0;
  words:
    for (int w = 0; w < WORDS;) {
#pragma HLS PIPELINE II = 1 style = flp
      if (have >= WB) {
        out.write(ap_uint<IW>(buf(IW - 1, 0)));
        buf >>= WB;
        have -= WB;
        w++;
      } else {
        // the last beat of an image carries padding above the last word; it is dropped
        // with buf when the image ends
        buf |= ap_uint<WB + DW>(in.read().data) << have;
        have += DW;
      }
    }
  }
}

/// Words of OW bits (stored in BYTES bytes) -> DMA beats, TLAST on the batch's last beat.
template <int DW, int OW, int BYTES, int WORDS>
void stream_to_dma(hls::stream<ap_uint<OW>>& in, hls::stream<axis_word<DW>>& out,
                   unsigned n_images) {
  constexpr int WB = beat_layout<DW, BYTES, WORDS>::WORD_BITS;
  constexpr int BEATS = beat_layout<DW, BYTES, WORDS>::BEATS;
  static_assert(OW <= WB, "a word must fit its bytes");
images:
  for (unsigned img = 0; img < n_images; img++) {
    ap_uint<WB + DW> buf = 0;
    int have = 0;
    int w = 0;
    int beats = 0;
  beats_loop:
    while (beats < BEATS) {
#pragma HLS PIPELINE II = 1 style = flp
      if (have >= DW || w == WORDS) {  // a full beat, or the zero-padded end of the image
        axis_word<DW> b;
        b.data = buf(DW - 1, 0);
        b.keep = -1;
        b.strb = -1;
        beats++;
        b.last = (img + 1 == n_images && beats == BEATS) ? 1 : 0;
        out.write(b);
        buf >>= DW;
        have = have > DW ? have - DW : 0;
      } else {
        buf |= ap_uint<WB + DW>(in.read()) << have;
        have += WB;
        w++;
      }
    }
  }
}

}  // namespace bitfab
