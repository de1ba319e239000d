// bitfab_axis_in: DMA beats -> layer words, the input edge of bitfab_top (Verilog-2005).
//
// HLS twin: bitfab::dma_to_stream (hls/include/bitfab/iodma.hpp). The host lays an image out
// as WORDS words of BYTES bytes (WB = 8*BYTES bits each, little-endian, boards/driver/
// packing.py) padded to whole DW-bit beats (BEATS per image). Word w of an image is bits
// [w*WB +: IW] of the image; the bits IW..WB-1 of each word and the image's padding are dropped.
//
// A `start` pulse loads n_images: the module then takes exactly n_images*BEATS beats (s_tready
// is low otherwise, so beats of a later batch wait in the DMA) and emits n_images*WORDS
// words. s_tlast is ignored (the count decides).
//
// Datapath: a bit buffer `sbuf` holding `have` valid bits, LSB first, every bit above `have`
// zero. A beat is ORed in at bit `have` (the last beat of an image masked to its real bits,
// so the padding never enters the buffer and images simply concatenate); a word leaves from
// bits [IW-1:0] and the buffer shifts right by WB. Both can happen in one cycle, so the module
// moves one beat and one word per cycle: an image takes max(BEATS, WORDS) cycles.
// s_tready depends only on the module's state; out_tvalid too.
module bitfab_axis_in #(
    parameter DW = 64,     // beat bits: 32, 64 or 128
    parameter IW = 8,      // word bits the layer reads
    parameter BYTES = 1,   // bytes each word occupies in the DMA buffer
    parameter WORDS = 1    // words per image
) (
    input  wire          clk,
    input  wire          rst_n,
    input  wire          start,
    input  wire [31:0]   n_images,
    input  wire [DW-1:0] s_tdata,
    input  wire          s_tvalid,
    output wire          s_tready,
    input  wire          s_tlast,
    output wire [IW-1:0] out_tdata,
    output wire          out_tvalid,
    input  wire          out_tready,
    output wire          busy
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
  localparam PAD = BEATS * DW - WORDS * WB;  // padding bits of an image's last beat
  localparam CAP = WB + 2 * DW;  // buffer bits: a beat is taken while have <= WB + DW
  // counters as wide as their ranges: a 32-bit `have` would make the buffer's shifter take
  // a 32-bit amount, and synthesis cannot see that it never exceeds CAP
  localparam HB = clog2(CAP + 1);

  reg [CAP-1:0] sbuf;
  reg [HB-1:0] have;  // valid bits in sbuf
  reg [31:0] imgs_left;  // images whose beats are still to come
  reg [clog2(BEATS)-1:0] beat;  // beat index within the current image

  wire [DW-1:0] last_mask = {DW{1'b1}} >> PAD;
  wire take = s_tvalid && s_tready;
  wire give = out_tvalid && out_tready;
  wire last_of_image = beat == BEATS - 1;
  wire [DW-1:0] beat_bits = last_of_image ? (s_tdata & last_mask) : s_tdata;
  wire [HB-1:0] have_after_give = give ? have - WB : have;
  wire [CAP-1:0] kept = give ? (sbuf >> WB) : sbuf;
  wire [CAP-1:0] incoming = {{(CAP - DW) {1'b0}}, beat_bits} << have_after_give;

  assign s_tready = (imgs_left != 0) && (have <= WB + DW);
  assign out_tvalid = have >= WB;
  assign out_tdata = sbuf[IW-1:0];
  assign busy = (imgs_left != 0) || (have != 0);

  always @(posedge clk) begin
    if (!rst_n) begin
      sbuf <= {CAP{1'b0}};
      have <= 0;
      imgs_left <= 0;
      beat <= 0;
    end else begin
      sbuf <= take ? (kept | incoming) : kept;
      have <= have_after_give + (take ? (last_of_image ? DW - PAD : DW) : 0);
      if (start) begin
        imgs_left <= n_images;
        beat <= 0;
      end else if (take) begin
        beat <= last_of_image ? 0 : beat + 1;
        if (last_of_image) imgs_left <= imgs_left - 1;
      end
    end
  end
endmodule
