// bitfab_avgpool: streaming accumulating pool over K_H x K_W windows of NHWC images, no
// padding, floor mode (Verilog-2005), the twin of hls/include/bitfab/avgpool.hpp (same output,
// bit for bit). The output is the exact sum of each window; an average pool's division and
// truncation follow as a Thresholding layer.
//
// Per image IFM_H*IFM_W pixels row-major, CF = CH/PE words each (word f field p is channel
// f*PE + p, BITS bits); out OFM_H*OFM_W pixels in the same layout with OBITS-bit fields,
// channel c of (oy, ox) the sum over rows oy*STRIDE_H .. +K_H-1 and columns
// ox*STRIDE_W .. +K_W-1. KIND: 0 unsigned, 1 signed (two's complement inputs and sums).
//
// Separable, as bitfab_maxpool.v: `cols`, K_W RAMs of CF words, keeps the last K_W pixels of
// the row; when a pixel closes a window horizontally, the sum m over those K_W pixels (output
// column ox, word h = ox*CF + f of the row) is added to the partial sums of the output rows
// whose windows hold this input row. Those live in R = ceil(K_H/STRIDE_H) RAMs of OFM_W*CF
// words (output row oy in RAM oy mod R); the input row that closes a window emits its sum.
//
// Pipeline: a word is taken and the RAMs read (synchronously) in one cycle; the next cycle
// computes the sums from the read words, writes the RAMs and loads the output register. A
// write of the word before (same address) is forwarded. One input word a cycle:
// IFM_H*IFM_W*CF cycles per image. in_tready = !out_tvalid || out_tready.
`default_nettype none
module bitfab_avgpool #(
    // channels per pixel (PE divides it)
    parameter CH = 1,
    // input rows and columns
    parameter IFM_H = 2,
    parameter IFM_W = 2,
    // window rows and columns
    parameter K_H = 2,
    parameter K_W = 2,
    // rows and columns between two windows
    parameter STRIDE_H = 2,
    parameter STRIDE_W = 2,
    // channels per stream word
    parameter PE = 1,
    // bits per input value
    parameter BITS = 8,
    // bits per output sum (holds every window sum)
    parameter OBITS = 10,
    // 0 unsigned, 1 signed
    parameter KIND = 0,
    // stream word widths
    parameter IN_W = PE * BITS,
    parameter OUT_W = PE * OBITS
) (
    input  wire             clk,
    input  wire             rst_n,
    input  wire [ IN_W-1:0] in_tdata,
    input  wire             in_tvalid,
    output wire             in_tready,
    output wire [OUT_W-1:0] out_tdata,
    output wire             out_tvalid,
    input  wire             out_tready
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

  localparam W = PE * BITS;
  localparam OW = PE * OBITS;
  localparam CF = CH / PE;
  localparam OFM_H = (IFM_H - K_H) / STRIDE_H + 1;
  localparam OFM_W = (IFM_W - K_W) / STRIDE_W + 1;
  localparam ROWW = OFM_W * CF;  // words of one output row
  localparam R = (K_H + STRIDE_H - 1) / STRIDE_H;  // output rows open at once
  localparam FW = clog2(CF);
  localparam HW = clog2(ROWW);
  localparam SW = clog2(K_W);
  localparam XW = clog2(IFM_W + K_W + STRIDE_W + 1) + 1;
  localparam YW = clog2(IFM_H + K_H + (R + 1) * STRIDE_H + 1) + 1;

  initial begin
    if (CH % PE != 0) $error("%m: CH=%0d is not divisible by PE=%0d", CH, PE);
    if (OBITS < BITS) $error("%m: OBITS=%0d is below BITS=%0d", OBITS, BITS);
    if (KIND != 0 && KIND != 1) $error("%m: KIND=%0d, expected 0 (unsigned) or 1 (signed)", KIND);
    if (IFM_H < K_H || IFM_W < K_W) $error("%m: the image is smaller than the window");
  end

  // the PE fields of an input word, sign- or zero-extended to OBITS each
  function [OW-1:0] widen;
    input [W-1:0] a;
    integer p;
    reg [OBITS-1:0] e;
    begin
      for (p = 0; p < PE; p = p + 1) begin
        e = {OBITS{KIND == 1 && a[p*BITS+BITS-1]}};
        e[BITS-1:0] = a[p*BITS+:BITS];
        widen[p*OBITS+:OBITS] = e;
      end
    end
  endfunction

  // field-wise sum of two words of OBITS-bit fields (the sums fit: partial window sums)
  function [OW-1:0] wadd;
    input [OW-1:0] a;
    input [OW-1:0] b;
    integer p;
    begin
      for (p = 0; p < PE; p = p + 1) wadd[p*OBITS+:OBITS] = a[p*OBITS+:OBITS] + b[p*OBITS+:OBITS];
    end
  endfunction

  // ---- stage A: the word taken, its position, the RAM reads
  reg ovalid;
  reg [OW-1:0] odata;
  wire adv = !ovalid || out_tready;
  wire take = in_tvalid && adv;
  assign in_tready = adv;
  assign out_tvalid = ovalid;
  assign out_tdata = odata;

  reg [FW-1:0] f;
  reg [XW-1:0] x, x_end;
  reg [YW-1:0] y;
  reg [SW-1:0] xslot;
  reg [HW-1:0] h;
  reg [YW-1:0] st[0:R-1];  // first input row of the window of RAM r's output row
  wire colclose = x == x_end;
  wire pix_end = f == CF - 1;
  wire row_end = pix_end && x == IFM_W - 1;
  wire img_end = row_end && y == IFM_H - 1;
  wire [R-1:0] inrow, first, last;

  // ---- stage B: registered word and flags
  reg bvalid;
  reg [W-1:0] bv;
  reg bclose;
  reg [FW-1:0] bf;
  reg [SW-1:0] bslot;
  reg [HW-1:0] bh;
  reg [R-1:0] binrow, bfirst, blast;
  wire bwrite = adv && bvalid;

  // forwarding: the write made at the edge the RAMs were read for the word in stage B
  reg fc_valid;
  reg [SW-1:0] fc_slot;
  reg [FW-1:0] fc_f;
  reg [W-1:0] fc_data;
  reg [R-1:0] fr_valid;
  reg [HW-1:0] fr_h;
  reg [R*OW-1:0] fr_data;

  wire [K_W*W-1:0] cd;  // cols[s][bf], forwarded
  wire [R*OW-1:0] rd;  // rows[r][bh], forwarded
  reg [OW-1:0] m;
  reg [R*OW-1:0] acc;  // new partial sums
  reg [OW-1:0] o;
  reg emit;
  integer i;

  genvar s, r;
  generate
    for (s = 0; s < K_W; s = s + 1) begin : g_cols
      reg [W-1:0] mem[0:CF-1];
      reg [W-1:0] q;
      always @(posedge clk) begin
        if (take) q <= mem[f];
        if (bwrite && bslot == s) mem[bf] <= bv;
      end
      assign cd[s*W+:W] = (fc_valid && fc_slot == s && fc_f == bf) ? fc_data : q;
    end
    for (r = 0; r < R; r = r + 1) begin : g_rows
      reg [OW-1:0] mem[0:ROWW-1];
      reg [OW-1:0] q;
      always @(posedge clk) begin
        if (take) q <= mem[h];
        if (bwrite && bclose && binrow[r]) mem[bh] <= acc[r*OW+:OW];
      end
      assign rd[r*OW+:OW] = (fr_valid[r] && fr_h == bh) ? fr_data[r*OW+:OW] : q;
      assign inrow[r] = st[r] <= (OFM_H - 1) * STRIDE_H && y >= st[r] && y <= st[r] + K_H - 1;
      assign first[r] = y == st[r];
      assign last[r] = y == st[r] + K_H - 1;
      always @(posedge clk) begin
        if (!rst_n) st[r] <= r * STRIDE_H;
        else if (take && img_end) st[r] <= r * STRIDE_H;
        else if (take && row_end && last[r]) st[r] <= st[r] + R * STRIDE_H;
      end
    end
  endgenerate

  always @(*) begin
    m = widen(bv);
    for (i = 0; i < K_W; i = i + 1)
      if (i != {{(32 - SW) {1'b0}}, bslot}) m = wadd(m, widen(cd[i*W+:W]));
    o = m;
    emit = 1'b0;
    for (i = 0; i < R; i = i + 1) begin
      acc[i*OW+:OW] = bfirst[i] ? m : wadd(rd[i*OW+:OW], m);
      if (binrow[i] && blast[i]) begin
        emit = bclose;
        o = acc[i*OW+:OW];
      end
    end
  end

  always @(posedge clk) begin
    if (take) begin
      bv <= in_tdata;
      bclose <= colclose;
      bf <= f;
      bslot <= xslot;
      bh <= h;
      binrow <= inrow;
      bfirst <= first;
      blast <= last;
    end
    if (adv) begin
      odata <= o;
      fc_slot <= bslot;
      fc_f <= bf;
      fc_data <= bv;
      fr_h <= bh;
      fr_data <= acc;
    end
  end

  always @(posedge clk) begin
    if (!rst_n) begin
      bvalid <= 1'b0;
      ovalid <= 1'b0;
      fc_valid <= 1'b0;
      fr_valid <= 0;
      f <= 0;
      x <= 0;
      y <= 0;
      xslot <= 0;
      x_end <= K_W - 1;
      h <= 0;
    end else begin
      if (adv) begin
        bvalid <= take;
        ovalid <= bvalid && emit;
        fc_valid <= bvalid;
        fr_valid <= (bvalid && bclose) ? binrow : {R{1'b0}};
      end
      if (take) begin
        if (colclose) h <= h + 1'b1;
        f <= pix_end ? {FW{1'b0}} : f + 1'b1;
        if (pix_end) begin
          if (colclose) x_end <= x_end + STRIDE_W;
          xslot <= ({{(32 - SW) {1'b0}}, xslot} == K_W - 1) ? {SW{1'b0}} : xslot + 1'b1;
          x <= x + 1'b1;
          if (row_end) begin
            x <= 0;
            xslot <= 0;
            x_end <= K_W - 1;
            h <= 0;
            y <= img_end ? {YW{1'b0}} : y + 1'b1;
          end
        end
      end
    end
  end
endmodule
`default_nettype wire
