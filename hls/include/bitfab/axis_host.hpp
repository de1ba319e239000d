/// \file axis_host.hpp
/// \brief Host side of the DMA edge, for testbenches only: bytes <-> beats, TLAST checked.
///
/// The g++ C-simulation library and the Vitis HLS testbench both feed the design through
/// these, so both see the beats a DMA would move from the host's byte buffer.
#pragma once

#include "bitfab/iodma.hpp"

namespace bitfab {

/// Push ``beats`` beats of DW bits read little-endian from ``src``; TLAST on the last one
/// (what MM2S does at the end of a transfer).
template <int DW>
void bytes_to_beats(const unsigned char* src, long beats, hls::stream<axis_word<DW>>& out) {
  constexpr int BB = DW / 8;
  for (long i = 0; i < beats; i++) {
    axis_word<DW> b;
    b.data = 0;
    for (int k = 0; k < BB; k++) b.data.range(8 * k + 7, 8 * k) = src[i * BB + k];
    b.keep = -1;
    b.strb = -1;
    b.last = (i + 1 == beats) ? 1 : 0;
    out.write(b);
  }
}

/// Pop ``beats`` beats into ``dst``. Returns 0, -1 if the design sent fewer beats, -3 if
/// TLAST is missing on the last beat or raised before it (S2MM would end the transfer early).
template <int DW>
int beats_to_bytes(hls::stream<axis_word<DW>>& in, long beats, unsigned char* dst) {
  constexpr int BB = DW / 8;
  for (long i = 0; i < beats; i++) {
    if (in.empty()) return -1;
    axis_word<DW> b = in.read();
    for (int k = 0; k < BB; k++) dst[i * BB + k] = b.data.range(8 * k + 7, 8 * k);
    if (int(b.last) != (i + 1 == beats ? 1 : 0)) return -3;
  }
  return 0;
}

}  // namespace bitfab
