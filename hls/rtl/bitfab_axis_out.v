// bitfab_axis_out: layer words -> DMA beats with TLAST, the output edge of bitfab_top
// (Verilog-2005).
//
// HLS twin: bitfab::stream_to_dma (hls/include/bitfab/iodma.hpp). Each word of OW bits is
// stored in WB = 8*BYTES bits (zero-extended); an image's WORDS words are packed LSB first and
// zero-padded to whole DW-bit beats (BEATS per image); m_tlast is high on the last beat of the
// last image of the batch; m_tkeep is all ones.
//
// A `start` pulse loads n_images: the module takes exactly n_images*WORDS words (in_tready is
// low otherwise) and gives n_images*BEATS beats, then pulses `done` for one cycle after the
// last beat was accepted (one cycle after start when n_images is 0).
//
// Datapath: a bit buffer `sbuf` holding `have` valid bits, every bit above `have` zero. A word
// is ORed in at bit `have`; the last word of an image counts its image's padding too
// (have += WB + PAD: the padding bits are the zeros already above), so images concatenate
// beat-aligned. A beat leaves from bits [DW-1:0] whenever have >= DW. One word and one beat
// can move in the same cycle: an image takes max(WORDS, BEATS) cycles. in_tready and
// m_tvalid depend only on the module's state.
module bitfab_axis_out #(
    parameter DW = 64,     // beat bits: 32, 64 or 128
    parameter OW = 8,      // word bits the last layer writes
    parameter BYTES = 1,   // bytes each word occupies in the DMA buffer
    parameter WORDS = 1    // words per image
) (
    input  wire            clk,
    input  wire            rst_n,
    input  wire            start,
    input  wire [31:0]     n_images,
    input  wire [OW-1:0]   in_tdata,
    input  wire            in_tvalid,
    output wire            in_tready,
    output wire [DW-1:0]   m_tdata,
    output wire            m_tvalid,
    input  wire            m_tready,
    output wire            m_tlast,
    output wire [DW/8-1:0] m_tkeep,
    output reg             done,
    output wire            busy
);
  function integer clog2;  // bits for 0 .. v-1 (at least 1)
    input integer v;
    integer r;
    begin
      r = 0;
      while ((1 << r) < v) r = r + 1;
      clog2 = (r < 1) ? 1 : r;
    end
  endfunction

  localparam WB = 8 * BYTES;
  localparam BEATS = (WORDS * WB + DW - 1) / DW;  // beats per image
  localparam PAD = BEATS * DW - WORDS * WB;  // zero bits that end an image
  localparam T = 2 * DW + WB;  // a word is taken while have <= T
  localparam CAP = T + WB + DW;  // > T + WB + PAD
  // counters as wide as their ranges: a 32-bit `have` would make the buffer's shifter take
  // a 32-bit amount, and synthesis cannot see that it never exceeds CAP
  localparam HB = clog2(CAP + 1);

  reg [CAP-1:0] sbuf;
  reg [HB-1:0] have;
  reg [31:0] win_left;  // images whose words are still to come
  reg [clog2(WORDS)-1:0] word;  // word index within the image being taken
  reg [31:0] bout_left;  // images whose beats are still to go
  reg [clog2(BEATS)-1:0] beat;  // beat index within the image being given
  reg pending;  // a start with zero images: done next cycle

  wire take = in_tvalid && in_tready;
  wire give = m_tvalid && m_tready;
  wire last_word = word == WORDS - 1;
  wire last_beat = beat == BEATS - 1;
  wire [HB-1:0] have_after_give = give ? have - DW : have;
  wire [CAP-1:0] kept = give ? (sbuf >> DW) : sbuf;
  wire [CAP-1:0] incoming = {{(CAP - OW) {1'b0}}, in_tdata} << have_after_give;

  assign in_tready = (win_left != 0) && (have <= T);
  assign m_tvalid = have >= DW;
  assign m_tdata = sbuf[DW-1:0];
  assign m_tlast = (bout_left == 1) && last_beat;
  assign m_tkeep = {(DW / 8) {1'b1}};
  assign busy = bout_left != 0;

  always @(posedge clk) begin
    if (!rst_n) begin
      sbuf <= {CAP{1'b0}};
      have <= 0;
      win_left <= 0;
      word <= 0;
      bout_left <= 0;
      beat <= 0;
      done <= 1'b0;
      pending <= 1'b0;
    end else begin
      sbuf <= take ? (kept | incoming) : kept;
      have <= have_after_give + (take ? (last_word ? WB + PAD : WB) : 0);
      done <= (give && m_tlast) || pending;
      pending <= start && (n_images == 0);
      if (start) begin
        win_left <= n_images;
        word <= 0;
      end else if (take) begin
        word <= last_word ? 0 : word + 1;
        if (last_word) win_left <= win_left - 1;
      end
      if (start) begin
        bout_left <= n_images;
        beat <= 0;
      end else if (give) begin
        beat <= last_beat ? 0 : beat + 1;
        if (last_beat) bout_left <= bout_left - 1;
      end
    end
  end
endmodule
