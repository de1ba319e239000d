// Test-only stand-in of the stream fork (tests/kinds/branches.py): each input word goes to
// both outputs in the same cycle, so a full branch stalls both (what makes FIFO sizing matter).
module test_fork #(
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
