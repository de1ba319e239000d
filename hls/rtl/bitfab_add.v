// bitfab_add: lane-wise sum of two integer streams (Verilog-2005), the twin of
// hls/include/bitfab/add.hpp: out[p] = A_MUL*a[p] + B_MUL*b[p], exact (OUT_BITS holds every
// sum). The constant multipliers put two paths of different scales on one integer scale; at
// 1 (paths sharing a scale) the lane is a plain adder.
//
// One word from each input makes one output word. The sum is registered (a skid-free output
// register: in_tready = both inputs valid and the register free or being emptied), so one
// word a cycle: PIXELS*CH/PE cycles per image. KIND: 0 unsigned, 1 signed (two's complement).
module bitfab_add #(
    // lanes (channels) per word
    parameter PE = 1,
    // bits and kind of input a's values
    parameter A_BITS = 4,
    parameter A_KIND = 0,
    // bits and kind of input b's values
    parameter B_BITS = 4,
    parameter B_KIND = 0,
    // constant multipliers of a and b (non-zero, signed)
    parameter A_MUL = 1,
    parameter B_MUL = 1,
    // bits of a sum (at most 32)
    parameter OUT_BITS = 5
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire [PE*A_BITS-1:0]   in0_tdata,
    input  wire                   in0_tvalid,
    output wire                   in0_tready,
    input  wire [PE*B_BITS-1:0]   in1_tdata,
    input  wire                   in1_tvalid,
    output wire                   in1_tready,
    output wire [PE*OUT_BITS-1:0] out_tdata,
    output wire                   out_tvalid,
    input  wire                   out_tready
);
  initial begin
    if (A_KIND > 1 || B_KIND > 1) $error("%m: inputs must be unsigned (0) or signed (1)");
    if (OUT_BITS < A_BITS || OUT_BITS < B_BITS) $error("%m: OUT_BITS narrower than an input");
    if (OUT_BITS > 32) $error("%m: OUT_BITS above 32");
    if (A_MUL == 0 || B_MUL == 0) $error("%m: a multiplier is zero");
  end

  reg [PE*OUT_BITS-1:0] sum;
  reg full;
  wire take = in0_tvalid && in1_tvalid && (!full || out_tready);
  assign in0_tready = take;
  assign in1_tready = take;
  assign out_tvalid = full;
  assign out_tdata = sum;

  // the multipliers modulo 2^OUT_BITS: the products and the sum are exact modulo 2^OUT_BITS,
  // and OUT_BITS holds the true sum, so its low OUT_BITS bits are the sum
  localparam [31:0] A_MUL32 = A_MUL;
  localparam [31:0] B_MUL32 = B_MUL;
  localparam [OUT_BITS-1:0] AM = A_MUL32[OUT_BITS-1:0];
  localparam [OUT_BITS-1:0] BM = B_MUL32[OUT_BITS-1:0];

  wire [PE*OUT_BITS-1:0] next;
  genvar p;
  generate
    for (p = 0; p < PE; p = p + 1) begin : g_lane
      wire [A_BITS-1:0] a = in0_tdata[p*A_BITS+:A_BITS];
      wire [B_BITS-1:0] b = in1_tdata[p*B_BITS+:B_BITS];
      // extend each input to OUT_BITS by its kind, scale, then add modulo 2^OUT_BITS (exact)
      wire [OUT_BITS-1:0] ax = A_KIND == 1 ? {{(OUT_BITS - A_BITS) {a[A_BITS-1]}}, a}
                                           : {{(OUT_BITS - A_BITS) {1'b0}}, a};
      wire [OUT_BITS-1:0] bx = B_KIND == 1 ? {{(OUT_BITS - B_BITS) {b[B_BITS-1]}}, b}
                                           : {{(OUT_BITS - B_BITS) {1'b0}}, b};
      wire [OUT_BITS-1:0] as, bs;
      if (A_MUL == 1) begin : g_a1
        assign as = ax;
      end else begin : g_am
        assign as = ax * AM;
      end
      if (B_MUL == 1) begin : g_b1
        assign bs = bx;
      end else begin : g_bm
        assign bs = bx * BM;
      end
      assign next[p*OUT_BITS+:OUT_BITS] = as + bs;
    end
  endgenerate

  always @(posedge clk) begin
    if (!rst_n) begin
      full <= 1'b0;
    end else if (take) begin
      full <= 1'b1;
    end else if (out_tready) begin
      full <= 1'b0;
    end
  end
  always @(posedge clk) if (take) sum <= next;
endmodule
