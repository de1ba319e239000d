// bitfab_dwc: stream data-width converter (Verilog-2005), the twin of
// hls/include/bitfab/dwc.hpp.
//
// Regroups words of IN_ELEMS fields of BITS bits into words of OUT_ELEMS fields, element order
// kept (field 0 of the first input word is field 0 of the first output word); the sizes need
// not divide each other (6 -> 4 works). As in dwc.hpp the buffer is empty at every repetition
// boundary when both sizes divide the repetition's elements, so the kernel needs no count of
// them: it converts one continuous stream of elements.
//
// The buffer works in chunks of G = gcd(IN_ELEMS, OUT_ELEMS) elements: every word in or out
// is a whole number of chunks, so the fill level is one too and a pushed word can only land at
// OUT_ELEMS/G offsets. That keeps the counter and the placement shifter as small as the two
// sizes allow (32 -> 8 needs no shifter at all), in Vivado as in Yosys.
//
// The buffer holds `count` < IN_G + OUT_G chunks, oldest at bit 0. out_tvalid is
// count >= OUT_G (registered); a word is taken when, after this cycle's output, fewer than
// OUT_G chunks remain (in_tready depends on out_tready), so one input or one output word
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
  function integer clog2;  // bits for 0 .. v-1 (at least 1)
    input integer v;
    integer r;
    begin
      r = 0;
      while ((1 << r) < v) r = r + 1;
      clog2 = (r < 1) ? 1 : r;
    end
  endfunction

  function integer gcd;
    input integer x, y;
    integer a, b, t;
    begin
      a = x;
      b = y;
      while (b != 0) begin
        t = a % b;
        a = b;
        b = t;
      end
      gcd = a;
    end
  endfunction

  localparam G = gcd(IN_ELEMS, OUT_ELEMS);
  localparam CB = G * BITS;  // bits of a chunk
  localparam IN_G = IN_ELEMS / G;
  localparam OUT_G = OUT_ELEMS / G;
  localparam UP = (IN_G == 1);  // IN_ELEMS divides OUT_ELEMS
  localparam DOWN = (OUT_G == 1) && !UP;  // OUT_ELEMS divides IN_ELEMS
  // chunks held: an upsizer needs one output word, a downsizer one input word, the general
  // case the rest of an output word plus a whole input word
  localparam BUF_N = UP ? OUT_G : DOWN ? IN_G : IN_G + OUT_G - 1;
  localparam BUF_W = BUF_N * CB;
  localparam CW = clog2(IN_G + OUT_G);  // count: 0 .. IN_G + OUT_G - 1
  localparam SW = clog2(OUT_G);  // a pushed word lands at chunk 0 .. OUT_G-1

  reg [BUF_W-1:0] buffer;
  reg [CW-1:0] count;
  wire pop = out_tvalid && out_tready;
  wire [CW-1:0] left = pop ? count - OUT_G : count;
  wire push = in_tvalid && in_tready;
  assign in_tready = left < OUT_G;
  assign out_tvalid = count >= OUT_G;
  assign out_tdata = buffer[OUT_W-1:0];

  always @(posedge clk) begin
    if (!rst_n) count <= 0;
    else count <= push ? left + IN_G : left;
  end

  generate
    if (UP) begin : g_up
      // each word shifts in at the top; after OUT_G of them the first is at chunk 0. The data
      // registers only load (clock enable push): no logic per bit, and no reset needed, since
      // out_tvalid waits for OUT_G fresh words
      always @(posedge clk) if (push) buffer <= {in_tdata, buffer[BUF_W-1:CB]};
    end else if (DOWN) begin : g_down
      // a word is taken only into an empty buffer (left = 0), then shifts out a chunk per pop
      always @(posedge clk)
        if (push) buffer <= in_tdata;
        else if (pop) buffer <= buffer >> CB;
    end else begin : g_any
      // the general case ORs a word in above what is left, so the free chunks must be zero:
      // the buffer is reset, and shifts zeros in
      wire [BUF_W-1:0] kept = pop ? (buffer >> OUT_W) : buffer;
      wire [BUF_W-1:0] in_ext = in_tdata;
      // Where a pushed word lands, registered: a push needs left < OUT_G, which holds when
      // count < OUT_G (no pop possible, left = count) or, with a pop, count < 2 OUT_G
      // (left = count - OUT_G), so the offset is the count less OUT_G when it is at least
      // OUT_G, whether or not this cycle pops. Registering it keeps the count arithmetic out
      // of every buffer bit's logic.
      wire [CW-1:0] next = push ? left + IN_G : left;
      wire [CW-1:0] next_at = (next >= OUT_G) ? next - OUT_G : next;
      reg [SW-1:0] at;
      always @(posedge clk)
        if (!rst_n) begin
          buffer <= {BUF_W{1'b0}};
          at <= {SW{1'b0}};
        end else begin
          buffer <= push ? (kept | (in_ext << (at * CB))) : kept;
          at <= next_at[SW-1:0];
        end
    end
  endgenerate
endmodule
