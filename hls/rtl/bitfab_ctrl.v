// bitfab_ctrl: the AXI4-Lite control slave of bitfab_top, with the register map Vitis HLS
// gives an ap_ctrl_hs top with one scalar argument (UG1399), so the driver
// (boards/driver/accelerator.py) and the block design serve both backends (Verilog-2005).
//
//   0x00 control  bit 0 ap_start  (R/W, set by the host; stays 1 until the design takes the
//                                  start, then takes the value of auto_restart)
//                 bit 1 ap_done   (R, clear on read)
//                 bit 2 ap_idle   (R, 1 after reset and after done, 0 while running)
//                 bit 3 ap_ready  (R, clear on read; set when the design takes a start)
//                 bit 7 auto_restart (R/W)
//   0x04 GIE      bit 0 global interrupt enable
//   0x08 IER      bit 0 ap_done, bit 1 ap_ready interrupt enables
//   0x0C ISR      bit 0 ap_done, bit 1 ap_ready (a write of 1 toggles the bit)
//   0x10 n_images (R/W, 32 bits, byte strobes honoured)
//
// The design side: `start` pulses for one cycle when ap_start is set and the design is idle,
// with `n_images` (the register) stable; `done` (one-cycle pulse from bitfab_axis_out) ends
// the run: ap_done and ap_idle go high. interrupt = GIE & |(ISR).
//
// Channel handshakes follow the Vitis HLS slave: write address, then write data, then the
// response; a read address, then the data. Responses are always OKAY.
module bitfab_ctrl #(
    parameter ADDR_W = 6
) (
    input  wire              clk,
    input  wire              rst_n,
    input  wire [ADDR_W-1:0] AWADDR,
    input  wire              AWVALID,
    output wire              AWREADY,
    input  wire [31:0]       WDATA,
    input  wire [3:0]        WSTRB,
    input  wire              WVALID,
    output wire              WREADY,
    output wire [1:0]        BRESP,
    output wire              BVALID,
    input  wire              BREADY,
    input  wire [ADDR_W-1:0] ARADDR,
    input  wire              ARVALID,
    output wire              ARREADY,
    output reg  [31:0]       RDATA,
    output wire [1:0]        RRESP,
    output wire              RVALID,
    input  wire              RREADY,
    output wire              interrupt,
    output wire              start,
    output wire [31:0]       n_images,
    input  wire              done
);
  localparam ADDR_CTRL = 6'h00, ADDR_GIE = 6'h04, ADDR_IER = 6'h08, ADDR_ISR = 6'h0C,
      ADDR_N_IMAGES = 6'h10;
  localparam WRIDLE = 2'd0, WRDATA = 2'd1, WRRESP = 2'd2;
  localparam RDIDLE = 1'b0, RDDATA = 1'b1;

  reg [1:0] wstate;
  reg rstate;
  reg [ADDR_W-1:0] waddr;

  reg ap_start, ap_done, ap_ready, auto_restart, running, gie;
  reg [1:0] ier, isr;
  reg [31:0] n_images_r;

  wire w_hs = WVALID && WREADY;
  wire ar_hs = ARVALID && ARREADY;
  wire [31:0] wmask = {{8{WSTRB[3]}}, {8{WSTRB[2]}}, {8{WSTRB[1]}}, {8{WSTRB[0]}}};
  wire wr_ctrl = w_hs && waddr == ADDR_CTRL && WSTRB[0];

  assign AWREADY = rst_n && wstate == WRIDLE;
  assign WREADY = wstate == WRDATA;
  assign BRESP = 2'b00;
  assign BVALID = wstate == WRRESP;
  assign ARREADY = rst_n && rstate == RDIDLE;
  assign RRESP = 2'b00;
  assign RVALID = rstate == RDDATA;

  assign start = ap_start && !running;
  assign n_images = n_images_r;
  assign interrupt = gie && (isr != 2'b00);

  // write channel
  always @(posedge clk) begin
    if (!rst_n) begin
      wstate <= WRIDLE;
      waddr <= {ADDR_W{1'b0}};
    end else begin
      case (wstate)
        WRIDLE: if (AWVALID) begin
          wstate <= WRDATA;
          waddr <= AWADDR;
        end
        WRDATA: if (WVALID) wstate <= WRRESP;
        default: if (BREADY) wstate <= WRIDLE;
      endcase
    end
  end

  // read channel: the data is captured at the address handshake
  always @(posedge clk) begin
    if (!rst_n) begin
      rstate <= RDIDLE;
      RDATA <= 32'd0;
    end else begin
      case (rstate)
        RDIDLE: if (ARVALID) begin
          rstate <= RDDATA;
          case (ARADDR)
            ADDR_CTRL: RDATA <= {24'd0, auto_restart, 3'd0, ap_ready, !running, ap_done, ap_start};
            ADDR_GIE: RDATA <= {31'd0, gie};
            ADDR_IER: RDATA <= {30'd0, ier};
            ADDR_ISR: RDATA <= {30'd0, isr};
            ADDR_N_IMAGES: RDATA <= n_images_r;
            default: RDATA <= 32'd0;
          endcase
        end
        default: if (RREADY) rstate <= RDIDLE;
      endcase
    end
  end

  // registers and the run state
  wire rd_ctrl = ar_hs && ARADDR == ADDR_CTRL;
  always @(posedge clk) begin
    if (!rst_n) begin
      ap_start <= 1'b0;
      ap_done <= 1'b0;
      ap_ready <= 1'b0;
      auto_restart <= 1'b0;
      running <= 1'b0;
      gie <= 1'b0;
      ier <= 2'b00;
      isr <= 2'b00;
      n_images_r <= 32'd0;
    end else begin
      // ap_start: the host sets it; taking the start leaves auto_restart in it
      if (wr_ctrl && WDATA[0]) ap_start <= 1'b1;
      else if (start) ap_start <= auto_restart;
      if (wr_ctrl) auto_restart <= WDATA[7];
      // the run
      if (start) running <= 1'b1;
      else if (done) running <= 1'b0;
      // ap_done / ap_ready: set by the event, cleared by a read of 0x00 (the event wins)
      if (done && running) ap_done <= 1'b1;
      else if (rd_ctrl) ap_done <= 1'b0;
      if (start) ap_ready <= 1'b1;
      else if (rd_ctrl) ap_ready <= 1'b0;
      // interrupts
      if (w_hs && waddr == ADDR_GIE && WSTRB[0]) gie <= WDATA[0];
      if (w_hs && waddr == ADDR_IER && WSTRB[0]) ier <= WDATA[1:0];
      if (w_hs && waddr == ADDR_ISR && WSTRB[0]) isr <= isr ^ WDATA[1:0];
      else begin
        if (ier[0] && done && running) isr[0] <= 1'b1;
        if (ier[1] && start) isr[1] <= 1'b1;
      end
      if (w_hs && waddr == ADDR_N_IMAGES) n_images_r <= (n_images_r & ~wmask) | (WDATA & wmask);
    end
  end
endmodule
