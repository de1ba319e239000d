// bitfab_dwc: stream data-width converter (Verilog-2005), the twin of
// hls/include/bitfab/dwc.hpp.
//
// Regroups words of IN_ELEMS fields of BITS bits into words of OUT_ELEMS fields, element order
// kept (field 0 of the first input word is field 0 of the first output word); the sizes need
// not divide each other (6 -> 4 works). As in dwc.hpp the buffer is empty at every repetition
// boundary when both sizes divide the repetition's elements, so the kernel needs no count of
// them: it converts one continuous stream of elements.
//
// The buffer holds `count` < IN_ELEMS + OUT_ELEMS elements, oldest at bit 0. out_tvalid is
// count >= OUT_ELEMS (registered); a word is taken when, after this cycle's output, fewer than
// OUT_ELEMS elements remain (in_tready depends on out_tready), so one input or one output word
// moves a cycle: max(words in, words out) cycles per repetition.
module bitfab_dwc #(
    parameter IN_ELEMS = 1,
    parameter OUT_ELEMS = 1,
    parameter BITS = 8,
    parameter IN_W = IN_ELEMS * BITS,
    parameter OUT_W = OUT_ELEMS * BITS
) (
    input  wire             clk,
    input  wire             rst_n,
    input  wire [IN_W-1:0]  in_tdata,
    input  wire             in_tvalid,
    output wire             in_tready,
    output wire [OUT_W-1:0] out_tdata,
    output wire             out_tvalid,
    input  wire             out_tready
);
  localparam BUF_N = IN_ELEMS + OUT_ELEMS - 1;
  localparam BUF_W = BUF_N * BITS;

  reg [BUF_W-1:0] buffer;
  reg [31:0] count;
  wire pop = out_tvalid && out_tready;
  wire [31:0] left = pop ? count - OUT_ELEMS : count;
  wire push = in_tvalid && in_tready;
  wire [BUF_W-1:0] kept = pop ? (buffer >> OUT_W) : buffer;
  wire [BUF_W-1:0] in_ext = in_tdata;
  assign in_tready = left < OUT_ELEMS;
  assign out_tvalid = count >= OUT_ELEMS;
  assign out_tdata = buffer[OUT_W-1:0];

  always @(posedge clk) begin
    if (!rst_n) begin
      buffer <= {BUF_W{1'b0}};
      count <= 0;
    end else begin
      buffer <= push ? (kept | (in_ext << (left * BITS))) : kept;
      count <= push ? left + IN_ELEMS : left;
    end
  end
endmodule
