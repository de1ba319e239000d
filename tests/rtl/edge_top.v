// A hand-written bitfab_top for tests/rtl/test_edge.py: the generated top's port list around
// a trivial layer, so the edge (bitfab_ctrl, bitfab_axis_in, bitfab_axis_out) and the harness
// hls/rtl/tb/top_tb.cpp are tested without the code generator.
//
//   s_axis -> axis_in -> fifo 0 -> layer -> fifo 1 -> axis_out -> m_axis
//
// The layer adds 1 to each word (an IW-bit word zero-extended or truncated to OW bits, plus 1
// modulo 2**OW). With STALL = 1 it never outputs (the deadlock case). SLOW = k > 0 lets the
// layer pass a word only every k+1 cycles (a bottleneck that fills fifo 0).
module bitfab_top #(
    parameter DW = 64,
    parameter IW = 8,
    parameter OW = 8,
    parameter IN_BYTES = 1,
    parameter OUT_BYTES = 1,
    parameter WORDS = 4,
    parameter DEPTH0 = 4,
    parameter DEPTH1 = 100,
    parameter STALL = 0,
    parameter SLOW = 0
) (
    input  wire            ap_clk,
    input  wire            ap_rst_n,
    input  wire [DW-1:0]   s_axis_TDATA,
    input  wire            s_axis_TVALID,
    output wire            s_axis_TREADY,
    input  wire            s_axis_TLAST,
    input  wire [DW/8-1:0] s_axis_TKEEP,
    output wire [DW-1:0]   m_axis_TDATA,
    output wire            m_axis_TVALID,
    input  wire            m_axis_TREADY,
    output wire            m_axis_TLAST,
    output wire [DW/8-1:0] m_axis_TKEEP,
    input  wire [5:0]      s_axi_control_AWADDR,
    input  wire            s_axi_control_AWVALID,
    output wire            s_axi_control_AWREADY,
    input  wire [31:0]     s_axi_control_WDATA,
    input  wire [3:0]      s_axi_control_WSTRB,
    input  wire            s_axi_control_WVALID,
    output wire            s_axi_control_WREADY,
    output wire [1:0]      s_axi_control_BRESP,
    output wire            s_axi_control_BVALID,
    input  wire            s_axi_control_BREADY,
    input  wire [5:0]      s_axi_control_ARADDR,
    input  wire            s_axi_control_ARVALID,
    output wire            s_axi_control_ARREADY,
    output wire [31:0]     s_axi_control_RDATA,
    output wire [1:0]      s_axi_control_RRESP,
    output wire            s_axi_control_RVALID,
    input  wire            s_axi_control_RREADY,
`ifdef BITFAB_PROBES
    output wire [2*36-1:0] probes,
`endif
    output wire            interrupt
);
  wire start, done;
  wire [31:0] n_images;

  bitfab_ctrl ctrl (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .AWADDR(s_axi_control_AWADDR), .AWVALID(s_axi_control_AWVALID),
      .AWREADY(s_axi_control_AWREADY), .WDATA(s_axi_control_WDATA),
      .WSTRB(s_axi_control_WSTRB), .WVALID(s_axi_control_WVALID),
      .WREADY(s_axi_control_WREADY), .BRESP(s_axi_control_BRESP),
      .BVALID(s_axi_control_BVALID), .BREADY(s_axi_control_BREADY),
      .ARADDR(s_axi_control_ARADDR), .ARVALID(s_axi_control_ARVALID),
      .ARREADY(s_axi_control_ARREADY), .RDATA(s_axi_control_RDATA),
      .RRESP(s_axi_control_RRESP), .RVALID(s_axi_control_RVALID),
      .RREADY(s_axi_control_RREADY), .interrupt(interrupt),
      .start(start), .n_images(n_images), .done(done)
  );

  wire [IW-1:0] e0_data, f0_data;
  wire e0_valid, e0_ready, f0_valid, f0_ready;
  wire [OW-1:0] e1_data, f1_data;
  wire e1_valid, e1_ready, f1_valid, f1_ready;
  wire [31:0] count0, count1;
  wire in_busy, out_busy;

  bitfab_axis_in #(.DW(DW), .IW(IW), .BYTES(IN_BYTES), .WORDS(WORDS)) edge_in (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .n_images(n_images),
      .s_tdata(s_axis_TDATA), .s_tvalid(s_axis_TVALID), .s_tready(s_axis_TREADY),
      .s_tlast(s_axis_TLAST),
      .out_tdata(e0_data), .out_tvalid(e0_valid), .out_tready(e0_ready), .busy(in_busy)
  );

  bitfab_fifo #(.WIDTH(IW), .DEPTH(DEPTH0)) fifo0 (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .in_tdata(e0_data), .in_tvalid(e0_valid), .in_tready(e0_ready),
      .out_tdata(f0_data), .out_tvalid(f0_valid), .out_tready(f0_ready), .count(count0)
  );

  // the layer: a pure pass of one word, plus one
  reg [31:0] wait_cnt;
  wire layer_open = (STALL == 0) && (wait_cnt == 0);
  wire [OW-1:0] widened = f0_data;
  assign e1_data = widened + 1'b1;
  assign e1_valid = f0_valid && layer_open;
  assign f0_ready = e1_ready && layer_open;
  always @(posedge ap_clk) begin
    if (!ap_rst_n) wait_cnt <= 0;
    else if (e1_valid && e1_ready) wait_cnt <= SLOW;
    else if (wait_cnt != 0) wait_cnt <= wait_cnt - 1;
  end

  bitfab_fifo #(.WIDTH(OW), .DEPTH(DEPTH1)) fifo1 (
      .clk(ap_clk), .rst_n(ap_rst_n),
      .in_tdata(e1_data), .in_tvalid(e1_valid), .in_tready(e1_ready),
      .out_tdata(f1_data), .out_tvalid(f1_valid), .out_tready(f1_ready), .count(count1)
  );

  bitfab_axis_out #(.DW(DW), .OW(OW), .BYTES(OUT_BYTES), .WORDS(WORDS)) edge_out (
      .clk(ap_clk), .rst_n(ap_rst_n), .start(start), .n_images(n_images),
      .in_tdata(f1_data), .in_tvalid(f1_valid), .in_tready(f1_ready),
      .m_tdata(m_axis_TDATA), .m_tvalid(m_axis_TVALID), .m_tready(m_axis_TREADY),
      .m_tlast(m_axis_TLAST), .m_tkeep(m_axis_TKEEP), .done(done), .busy(out_busy)
  );

`ifdef BITFAB_PROBES
  assign probes = {count1, f1_ready, f1_valid, e1_ready, e1_valid,
                   count0, f0_ready, f0_valid, e0_ready, e0_valid};
`endif
endmodule
