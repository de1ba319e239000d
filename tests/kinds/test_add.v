// Test-only stand-in of the elementwise add (tests/kinds/branches.py): lane-wise sum of two
// unsigned streams, one word when both inputs have one.
module test_add #(
    parameter PE = 1,
    parameter IN_BITS = 2,
    parameter OUT_BITS = 3
) (
    input  wire                   clk,
    input  wire                   rst_n,
    input  wire [PE*IN_BITS-1:0]  in0_tdata,
    input  wire                   in0_tvalid,
    output wire                   in0_tready,
    input  wire [PE*IN_BITS-1:0]  in1_tdata,
    input  wire                   in1_tvalid,
    output wire                   in1_tready,
    output wire [PE*OUT_BITS-1:0] out_tdata,
    output wire                   out_tvalid,
    input  wire                   out_tready
);
  genvar p;
  generate
    for (p = 0; p < PE; p = p + 1) begin : g_lane
      wire [OUT_BITS-1:0] a = in0_tdata[p*IN_BITS+:IN_BITS];
      wire [OUT_BITS-1:0] b = in1_tdata[p*IN_BITS+:IN_BITS];
      assign out_tdata[p*OUT_BITS+:OUT_BITS] = a + b;
    end
  endgenerate
  assign out_tvalid = in0_tvalid && in1_tvalid;
  assign in0_tready = out_tready && in1_tvalid;
  assign in1_tready = out_tready && in0_tvalid;
endmodule
