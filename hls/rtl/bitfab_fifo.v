// bitfab_fifo: the FIFO on every edge of the dataflow design (Verilog-2005).
//
// First-word-fall-through, valid/ready on both sides. in_tready depends only on the FIFO's
// own state (never on out_tready), so back-pressure never forms a combinational path through
// a chain of layers: every layer's ready ends at its FIFO.
//
// Two implementations by depth, both holding exactly DEPTH words:
//  - DEPTH <= SRL_MAX: a register array read asynchronously (shift-register / LUTRAM);
//  - deeper: a RAM with a registered read (block RAM) of DEPTH-2 words followed by a two-word
//    output buffer, which keeps one word a cycle flowing across the RAM's read latency.
// `count` is the number of words held, for simulation probes (unused in synthesis).
module bitfab_fifo #(
    parameter WIDTH = 8,
    parameter DEPTH = 2,
    parameter SRL_MAX = 64
) (
    input  wire             clk,
    input  wire             rst_n,
    input  wire [WIDTH-1:0] in_tdata,
    input  wire             in_tvalid,
    output wire             in_tready,
    output wire [WIDTH-1:0] out_tdata,
    output wire             out_tvalid,
    input  wire             out_tready,
    output wire [31:0]      count
);
  function integer clog2;
    input integer v;
    integer r;
    begin
      r = 0;
      while ((1 << r) < v) r = r + 1;
      clog2 = (r < 1) ? 1 : r;
    end
  endfunction

  generate
    if (DEPTH <= SRL_MAX) begin : g_srl
      localparam AW = clog2(DEPTH);
      localparam UW = clog2(DEPTH + 1);  // holds 0 .. DEPTH
      reg [WIDTH-1:0] mem[0:DEPTH-1];
      reg [AW-1:0] wptr, rptr;
      reg [UW-1:0] used;
      wire push = in_tvalid && (used != DEPTH[UW-1:0]);
      wire pop = out_tvalid && out_tready;
      assign in_tready = used != DEPTH[UW-1:0];
      assign out_tvalid = used != 0;
      assign out_tdata = mem[rptr];
      assign count = {{(32-UW){1'b0}}, used};
      always @(posedge clk) begin
        if (push) mem[wptr] <= in_tdata;
      end
      always @(posedge clk) begin
        if (!rst_n) begin
          wptr <= 0;
          rptr <= 0;
          used <= 0;
        end else begin
          if (push) wptr <= (wptr == DEPTH - 1) ? {AW{1'b0}} : wptr + 1'b1;
          if (pop) rptr <= (rptr == DEPTH - 1) ? {AW{1'b0}} : rptr + 1'b1;
          used <= used + push - pop;
        end
      end
    end else begin : g_ram
      localparam RD = DEPTH - 2;
      localparam AW = clog2(RD);
      localparam UW = clog2(RD + 1);  // holds 0 .. RD
      localparam CW = clog2(DEPTH + 1);
      reg [WIDTH-1:0] mem[0:RD-1];
      reg [WIDTH-1:0] rdata;
      reg [AW-1:0] wptr, rptr;
      reg [UW-1:0] ram_used;
      reg inflight;
      // the output buffer: two words, b0 is the head
      reg [WIDTH-1:0] b0, b1;
      reg [1:0] bcount;
      wire full = (ram_used == RD[UW-1:0]);
      wire push = in_tvalid && !full;
      wire pop = out_tvalid && out_tready;
      wire [1:0] after_pop = bcount - {1'b0, pop};
      wire rd = (ram_used != 0) && (after_pop + {1'b0, inflight} < 2'd2);
      wire [CW-1:0] held = ram_used + inflight + bcount;  // at most DEPTH
      assign in_tready = !full;
      assign out_tvalid = bcount != 0;
      assign out_tdata = b0;
      assign count = {{(32-CW){1'b0}}, held};
      always @(posedge clk) begin
        if (push) mem[wptr] <= in_tdata;
        if (rd) rdata <= mem[rptr];
      end
      always @(posedge clk) begin
        if (!rst_n) begin
          wptr <= 0;
          rptr <= 0;
          ram_used <= 0;
          inflight <= 1'b0;
          bcount <= 0;
        end else begin
          if (push) wptr <= (wptr == RD - 1) ? {AW{1'b0}} : wptr + 1'b1;
          if (rd) rptr <= (rptr == RD - 1) ? {AW{1'b0}} : rptr + 1'b1;
          ram_used <= ram_used + push - rd;
          inflight <= rd;
          // pop the head, then append the word the RAM read last cycle
          if (pop) b0 <= b1;
          if (inflight) begin
            if (after_pop == 0) b0 <= rdata;
            else b1 <= rdata;
          end
          bcount <= after_pop + inflight;
        end
      end
    end
  endgenerate
endmodule
