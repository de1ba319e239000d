// bitfab_fork: stream fork (Verilog-2005), the twin of hls/include/bitfab/fork.hpp.
//
// Each input word goes to both outputs, in the same cycle: the word is taken when both
// outputs take it. A pure pass of one word (no register): out0_tvalid depends on in_tvalid and
// on out1_tready, and in_tready on both readies; the FIFOs on every edge end these paths. The
// skip path's FIFO must hold what the other path keeps back, or the fork stalls both paths
// (rtlsim --size-fifos finds its depth).
module bitfab_fork #(
    // bits of a stream word: PE * bits per value
    parameter W = 8
) (
    input  wire         clk,
    input  wire         rst_n,
    input  wire [W-1:0] in_tdata,
    input  wire         in_tvalid,
    output wire         in_tready,
    output wire [W-1:0] out0_tdata,
    output wire         out0_tvalid,
    input  wire         out0_tready,
    output wire [W-1:0] out1_tdata,
    output wire         out1_tvalid,
    input  wire         out1_tready
);
  assign in_tready = out0_tready && out1_tready;
  assign out0_tdata = in_tdata;
  assign out1_tdata = in_tdata;
  assign out0_tvalid = in_tvalid && out1_tready;
  assign out1_tvalid = in_tvalid && out0_tready;
endmodule
