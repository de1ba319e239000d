`default_nettype none
// edgetest: the design's edge as bitfab_top instantiates it, without layers or FIFOs: the
// AXI-Lite control (bitfab_ctrl) and both AXI-Stream adapters (bitfab_axis_in/out), their
// layer-side ports left as ports (out of context, nothing is optimised away).
// bench/calibrate.py synthesizes it over a grid to fit flows/layers/edge_cost.py.
module edgetest #(
    parameter DW = 64,
    parameter IW = 8,
    parameter IBYTES = 1,
    parameter IWORDS = 1,
    parameter OW = 8,
    parameter OBYTES = 1,
    parameter OWORDS = 1
) (
    input  wire            clk,
    input  wire            rst_n,
    input  wire [5:0]      AWADDR,
    input  wire            AWVALID,
    output wire            AWREADY,
    input  wire [31:0]     WDATA,
    input  wire [3:0]      WSTRB,
    input  wire            WVALID,
    output wire            WREADY,
    output wire [1:0]      BRESP,
    output wire            BVALID,
    input  wire            BREADY,
    input  wire [5:0]      ARADDR,
    input  wire            ARVALID,
    output wire            ARREADY,
    output wire [31:0]     RDATA,
    output wire [1:0]      RRESP,
    output wire            RVALID,
    input  wire            RREADY,
    output wire            interrupt,
    input  wire [DW-1:0]   s_tdata,
    input  wire            s_tvalid,
    output wire            s_tready,
    input  wire            s_tlast,
    output wire [IW-1:0]   w_tdata,
    output wire            w_tvalid,
    input  wire            w_tready,
    input  wire [OW-1:0]   r_tdata,
    input  wire            r_tvalid,
    output wire            r_tready,
    output wire [DW-1:0]   m_tdata,
    output wire            m_tvalid,
    input  wire            m_tready,
    output wire            m_tlast,
    output wire [DW/8-1:0] m_tkeep
);
  wire start, done;
  wire [31:0] n_images;
  bitfab_ctrl ctrl (
      .clk(clk), .rst_n(rst_n),
      .AWADDR(AWADDR), .AWVALID(AWVALID), .AWREADY(AWREADY),
      .WDATA(WDATA), .WSTRB(WSTRB), .WVALID(WVALID), .WREADY(WREADY),
      .BRESP(BRESP), .BVALID(BVALID), .BREADY(BREADY),
      .ARADDR(ARADDR), .ARVALID(ARVALID), .ARREADY(ARREADY),
      .RDATA(RDATA), .RRESP(RRESP), .RVALID(RVALID), .RREADY(RREADY),
      .interrupt(interrupt), .start(start), .n_images(n_images), .done(done));
  bitfab_axis_in #(.DW(DW), .IW(IW), .BYTES(IBYTES), .WORDS(IWORDS)) dma_in (
      .clk(clk), .rst_n(rst_n), .start(start), .n_images(n_images),
      .s_tdata(s_tdata), .s_tvalid(s_tvalid), .s_tready(s_tready), .s_tlast(s_tlast),
      .out_tdata(w_tdata), .out_tvalid(w_tvalid), .out_tready(w_tready), .busy());
  bitfab_axis_out #(.DW(DW), .OW(OW), .BYTES(OBYTES), .WORDS(OWORDS)) dma_out (
      .clk(clk), .rst_n(rst_n), .start(start), .n_images(n_images), .done(done),
      .in_tdata(r_tdata), .in_tvalid(r_tvalid), .in_tready(r_tready),
      .m_tdata(m_tdata), .m_tvalid(m_tvalid), .m_tready(m_tready), .m_tlast(m_tlast),
      .m_tkeep(m_tkeep), .busy());
endmodule
