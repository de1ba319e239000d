// bitfab_sliding_window: convolution input generator (im2col as a stream), Verilog-2005.
//
// The RTL twin of hls/include/bitfab/sliding_window.hpp, same word sequence. Per image:
//  - in: IFM_H*IFM_W pixels, row-major, CF = IFM_CH/SIMD words each (word f field s is
//    channel f*SIMD + s);
//  - out: for each output pixel (oy, ox) row-major, for each kernel position (ky, kx), for each
//    fold f: word f of input pixel (oy*STRIDE_H + ky - PAD_T, ox*STRIDE_W + kx - PAD_L), or an
//    all-zero word where that position is padding (the integer 0 of signed and unsigned data;
//    -1 for bipolar data, as in the HLS kernel). K_H*K_W*CF words per output pixel.
//
// Structure: two independent walkers share a line buffer of R rows of ROW = IFM_W*CF words
// (one RAM, synchronous read, so block RAM or LUTRAM is inferred):
//  - the writer takes one input word a cycle into the next row slot. Input row y of an image is
//    stored when some window needs it (y < NROWS); the rows below the last window are taken and
//    dropped. A new row takes a slot when fewer than R rows are held (rows are allocated at
//    their first word, A of them so far);
//  - the emitter walks the output words (oy, ox, ky, kx, f) and issues one RAM read a cycle
//    as soon as its word has been written (or is padding: no read), into a two-word output
//    buffer that keeps one word a cycle flowing across the read latency and back-pressure. At
//    the end of every output row it releases (F) the rows no later window needs.
// The writer may run one image ahead of the emitter (d = writer image - emitter image, in
// {-1, 0, 1}), so the next image's first rows load while this image's last windows are emitted;
// the emitter starts an image only once the writer has taken a word of it. The ring holds
// R = max(K_H + STRIDE_H, rows of the last windows + rows of the first windows) rows: the rows
// of the next output row (or the next image's first) load while the current row is emitted,
// so in steady state the kernel takes max(output words, input words) cycles per image, one
// word a cycle on the busier side (flows/layers/sliding_window/cost.py). Rows are released
// whole at the end of each output row, so the input stalls while a row of windows is emitted
// once the ring is full, up to about STRIDE_H rows ahead of the windows.
//
// in_tready depends only on the kernel's state (never on out_tready); out_tvalid is a register.
module bitfab_sliding_window #(
    parameter IFM_CH = 1,
    parameter IFM_H = 1,
    parameter IFM_W = 1,
    parameter K_H = 1,
    parameter K_W = 1,
    parameter STRIDE_H = 1,
    parameter STRIDE_W = 1,
    parameter PAD_T = 0,
    parameter PAD_L = 0,
    parameter PAD_B = 0,
    parameter PAD_R = 0,
    parameter SIMD = 1,
    parameter BITS = 1
) (
    input  wire                 clk,
    input  wire                 rst_n,
    input  wire [SIMD*BITS-1:0] in_tdata,
    input  wire                 in_tvalid,
    output wire                 in_tready,
    output wire [SIMD*BITS-1:0] out_tdata,
    output wire                 out_tvalid,
    input  wire                 out_tready
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
  function integer imax;
    input integer a, b;
    imax = a > b ? a : b;
  endfunction
  function integer clamp;
    input integer v, lo, hi;
    clamp = v < lo ? lo : (v > hi ? hi : v);
  endfunction

  localparam W = SIMD * BITS;
  localparam integer CF = IFM_CH / SIMD;  // words per pixel
  localparam integer ROW = IFM_W * CF;  // words per input row
  localparam integer OFM_H = (IFM_H + PAD_T + PAD_B - K_H) / STRIDE_H + 1;
  localparam integer OFM_W = (IFM_W + PAD_L + PAD_R - K_W) / STRIDE_W + 1;
  localparam integer T_LAST = (OFM_H - 1) * STRIDE_H - PAD_T;  // top row of the last windows
  localparam integer NROWS = clamp(T_LAST + K_H, 0, IFM_H);  // rows some window needs
  localparam integer LAST_ROWS = NROWS - clamp(T_LAST, 0, NROWS);
  localparam integer FIRST_ROWS = clamp(K_H - PAD_T, 0, NROWS);
  localparam integer R = imax(1, imax(K_H + STRIDE_H, LAST_ROWS + FIRST_ROWS));
  localparam integer DEPTH = R * ROW;
  localparam AW = clog2(DEPTH + 1);
  // signed coordinates: rows and columns from -PAD to beyond the image
  localparam CW = clog2(imax(IFM_H + PAD_T + PAD_B, IFM_W + PAD_L + PAD_R) + STRIDE_H + STRIDE_W + 1) + 2;
  // signed word offsets in a row
  localparam EW = clog2((IFM_W + PAD_L + PAD_R + STRIDE_W + K_W) * CF + 1) + 2;
  localparam FW = clog2(CF + 1);
  localparam OW = clog2(imax(OFM_H, OFM_W) + 1);
  localparam KW = clog2(imax(K_H, K_W) + 1);

  reg [W-1:0] mem[0:(DEPTH > 0 ? DEPTH : 1)-1];

  // ---- shared bookkeeping
  reg [31:0] rows_alloc, rows_free;  // A and F: rows allocated by the writer, released
  reg signed [2:0] d;  // writer image - emitter image, in {-1, 0, 1}
  wire signed [31:0] rows_held = $signed(rows_alloc - rows_free);

  // ---- writer: the next input word is (wy, wx, wf) of its image
  reg signed [CW-1:0] wy, wx;
  reg [FW-1:0] wf;
  reg [AW-1:0] waddr;
  wire w_end = (wy == IFM_H - 1) && (wx == IFM_W - 1) && (wf == CF - 1);
  wire w_stored = wy < NROWS;
  wire w_row_start = (wx == 0) && (wf == 0);
  wire w_can = !(w_end && d == 1) && (!w_stored || !w_row_start || rows_held < R);
  wire w_fire = in_tvalid && w_can;
  assign in_tready = w_can;

  always @(posedge clk) begin
    if (w_fire && w_stored) mem[waddr] <= in_tdata;
  end

  always @(posedge clk) begin
    if (!rst_n) begin
      wy <= 0;
      wx <= 0;
      wf <= 0;
      waddr <= 0;
      rows_alloc <= 0;
    end else if (w_fire) begin
      if (w_stored) waddr <= (waddr == DEPTH - 1) ? {AW{1'b0}} : waddr + 1'b1;
      if (w_stored && w_row_start) rows_alloc <= rows_alloc + 1;
      if (wf != CF - 1) wf <= wf + 1'b1;
      else begin
        wf <= 0;
        if (wx != IFM_W - 1) wx <= wx + 1'b1;
        else begin
          wx <= 0;
          wy <= (wy == IFM_H - 1) ? 0 : wy + 1'b1;
        end
      end
    end
  end

  // ---- emitter: the next output word is (oy, ox, ky, kx, f), input (iy, ix) fold f.
  // top/left: the window's top-left input position; ecol = ix*CF + f, lcol = left*CF;
  // fy = rows of this image released; taddr = address of row fy; erow = address of row iy
  // (of row 0 while iy < 0).
  reg [OW-1:0] oy, ox;
  reg [KW-1:0] ky, kx;
  reg [FW-1:0] f;
  reg signed [CW-1:0] top, left, iy, ix;
  reg signed [EW-1:0] ecol, lcol;
  reg [CW-1:0] fy;
  reg [AW-1:0] taddr, erow;

  // The emitter starts an image once the writer has taken a word of it (no word of an image
  // leaves before its first input word arrives), and reads a word once it has been written.
  wire e_pad = (iy < 0) || (iy >= IFM_H) || (ix < 0) || (ix >= IFM_W);
  wire w_begun = (d == 1) || ((d == 0) && !(wy == 0 && wx == 0 && wf == 0));
  wire arrived = (d == 1) ||
      ((d == 0) && ((iy < wy) || ((iy == wy) && ((ix < wx) || ((ix == wx) && (f < wf))))));
  wire last_f = f == CF - 1;
  wire last_kx = kx == K_W - 1;
  wire last_ky = ky == K_H - 1;
  wire last_ox = ox == OFM_W - 1;
  wire last_oy = oy == OFM_H - 1;
  wire end_img = last_f && last_kx && last_ky && last_ox && last_oy;

  // the output buffer: two words, b0 is the head (as in bitfab_fifo's RAM variant)
  reg [W-1:0] rdata, b0, b1;
  reg rpad, inflight;
  reg [1:0] bcount;
  wire pop = out_tvalid && out_tready;
  wire [1:0] after_pop = bcount - pop;
  wire issue = w_begun && (e_pad || arrived) && (after_pop + inflight < 2);
  wire [W-1:0] landed = rpad ? {W{1'b0}} : rdata;
  assign out_tvalid = bcount != 0;
  assign out_tdata = b0;

  // ecol >= 0 when read (not padding): its bits, unsigned, so the sum zero-extends them
  wire [EW-1:0] ecol_bits = ecol;
  wire [AW:0] rsum = erow + ecol_bits;
  wire [AW-1:0] raddr = (rsum >= DEPTH) ? rsum - DEPTH : rsum;
  always @(posedge clk) begin
    if (issue && !e_pad) rdata <= mem[raddr];
  end

  // end of an output row: release the rows above the next row's windows (all at image end)
  wire signed [CW-1:0] top_next = top + STRIDE_H;
  wire [CW-1:0] fy_next = last_oy ? NROWS :
      (top_next < 0) ? 0 : (top_next > NROWS) ? NROWS : top_next;
  wire [CW-1:0] rel = fy_next - fy;
  // rel * ROW as shifts and adds of ROW's set bits: a constant multiply Yosys would
  // otherwise put in a DSP48
  reg [AW+CW:0] rel_row;
  integer rb;
  always @(*) begin
    rel_row = 0;
    for (rb = 0; rb < 31; rb = rb + 1) if ((ROW >> rb) & 1) rel_row = rel_row + (rel << rb);
  end
  wire [AW+CW:0] tsum = taddr + rel_row;
  wire [AW-1:0] taddr_next = (tsum >= DEPTH) ? tsum - DEPTH : tsum;
  wire [AW:0] erow_inc = erow + ROW;

  wire e_release = issue && last_f && last_kx && last_ky && last_ox;
  wire w_wrap = w_fire && w_end;
  wire e_wrap = issue && end_img;

  always @(posedge clk) begin
    if (!rst_n) begin
      oy <= 0;
      ox <= 0;
      ky <= 0;
      kx <= 0;
      f <= 0;
      top <= -PAD_T;
      left <= -PAD_L;
      iy <= -PAD_T;
      ix <= -PAD_L;
      ecol <= -PAD_L * CF;
      lcol <= -PAD_L * CF;
      fy <= 0;
      taddr <= 0;
      erow <= 0;
      rows_free <= 0;
      d <= 0;
      inflight <= 1'b0;
      rpad <= 1'b0;
      bcount <= 0;
    end else begin
      d <= d + $signed({2'b0, w_wrap}) - $signed({2'b0, e_wrap});
      inflight <= issue;
      if (issue) rpad <= e_pad;
      if (pop) b0 <= b1;
      if (inflight) begin
        if (after_pop == 0) b0 <= landed;
        else b1 <= landed;
      end
      bcount <= after_pop + inflight;
      if (e_release) rows_free <= rows_free + rel;
      if (issue) begin
        if (!last_f) begin
          f <= f + 1'b1;
          ecol <= ecol + 1;
        end else begin
          f <= 0;
          if (!last_kx) begin
            kx <= kx + 1'b1;
            ix <= ix + 1;
            ecol <= ecol + 1;
          end else begin
            kx <= 0;
            if (!last_ky) begin
              ky <= ky + 1'b1;
              iy <= iy + 1;
              ix <= left;
              ecol <= lcol;
              if (iy >= 0) erow <= (erow_inc >= DEPTH) ? erow_inc - DEPTH : erow_inc;
            end else begin
              ky <= 0;
              if (!last_ox) begin
                ox <= ox + 1'b1;
                left <= left + STRIDE_W;
                ix <= left + STRIDE_W;
                lcol <= lcol + STRIDE_W * CF;
                ecol <= lcol + STRIDE_W * CF;
                iy <= top;
                erow <= taddr;
              end else begin
                ox <= 0;
                left <= -PAD_L;
                ix <= -PAD_L;
                lcol <= -PAD_L * CF;
                ecol <= -PAD_L * CF;
                taddr <= taddr_next;
                erow <= taddr_next;
                if (last_oy) begin
                  oy <= 0;
                  top <= -PAD_T;
                  iy <= -PAD_T;
                  fy <= 0;
                end else begin
                  oy <= oy + 1'b1;
                  top <= top_next;
                  iy <= top_next;
                  fy <= fy_next;
                end
              end
            end
          end
        end
      end
    end
  end
endmodule
