`default_nettype none
// bitfab_vvau: vector-vector-activation unit (Verilog-2005), the RTL twin of bitfab::vvau
// (hls/include/bitfab/vvau.hpp): a depthwise convolution's per-channel dot products over each
// sliding window, then the activation of bitfab_mvau, for ever.
//
// Stream layout (SF = K/SIMD, NF = CH/PE), the window's own element order (k, c):
//  - in:  SF*NF words per window; word sf*NF + nf field s*PE + p (IN_BITS) is
//         x[sf*SIMD + s][nf*PE + p] (SIMD > 1 needs PE == CH: then these are consecutive).
//  - out: NF words per window; word nf field p (OUT_BITS) is y[nf*PE + p].
// Memories ($readmemh, registered reads), bitfab_mvau's files with MW = K, MH = CH:
//  - WEIGHT_FILE: NF*SF words of PE*SIMD*W_BITS bits, word nf*SF + sf; PE p's weight word at
//    bits [p*SIMD*W_BITS +: SIMD*W_BITS], its field s = W[sf*SIMD + s][nf*PE + p], W[k][c]
//    being channel c's weight at kernel position k.
//  - THRESH_FILE (only when N_THRES > 0): NF words of PE*N_T*ACC_BITS bits, entry (p, l) at
//    [(p*N_T + l)*ACC_BITS +: ACC_BITS]; N_T = N_THRES, or 1 (the offset) when
//    REQUANT_SHIFT >= 0.
// Arithmetic, exactly bitfab::vvau's (and bitfab_mvau's, per channel over the K positions):
//  - XNOR mode (IN_KIND == W_KIND == 2): acc = number of agreeing bits, 0 .. K; without
//    activation the output is 2*acc - K.
//  - MAC mode: acc = sum of decoded x*w modulo 2^ACC_BITS; a bipolar operand is a negate-or-
//    pass mux; MAC = 1 puts the products on DSPs (use_dsp), MAC = 0 in LUTs.
//  - N_THRES == 0: the accumulator; REQUANT_SHIFT == -1: OUT_BIAS + #{l : acc >= T[l]};
//    REQUANT_SHIFT >= 0: clip(R((acc + off) / 2^SHIFT), OUT_BIAS, OUT_BIAS + N_THRES).
// Timing: one (sf, nf) tile per clock, kernel folds outermost as the words arrive, so SF*NF
// cycles per window, one input word each. The partial sums of all CH channels live in an
// accumulator bank (NF words of PE*ACC_BITS, combinational read: LUTRAM, or registers when
// NF == 1), read and written back in the accumulate stage; the tile of the same channel fold
// NF tiles later reads what was written. Pipeline: issue (weight ROM read, input register) ->
// products -> SIMD sum (balanced adder tree) -> accumulate (bank; threshold ROM read) ->
// activation into the output register: the last kernel fold's word of a channel fold is valid
// 5 cycles after its input word is taken. The whole pipeline stalls while the output register
// is full and not taken, so in_tready depends combinationally on out_tready (the next FIFO ends
// the path); out_tvalid is a register.
module bitfab_vvau #(
    // channels (input = output)
    parameter CH = 4,
    // kernel positions K_H*K_W, the length of each channel's dot product
    parameter K = 9,
    // kernel positions a clock (SIMD > 1 needs PE == CH)
    parameter SIMD = 1,
    // channels a clock
    parameter PE = 1,
    // bits of an input, weight and output field; accumulator and threshold width
    parameter IN_BITS = 4,
    parameter W_BITS = 4,
    parameter ACC_BITS = 12,
    parameter OUT_BITS = 4,
    // field kinds: 0 unsigned, 1 signed, 2 bipolar
    parameter IN_KIND = 0,
    parameter W_KIND = 1,
    parameter OUT_KIND = 0,
    // output levels - 1 (0: the accumulator is the output), and the lowest output value
    parameter N_THRES = 15,
    parameter OUT_BIAS = 0,
    // >= 0: shift requantization by this many bits (THRESH_FILE holds offsets); -1 thresholds
    parameter REQUANT_SHIFT = -1,
    // shift requantization rounds half to even (else floor)
    parameter REQUANT_RNE = 0,
    // 1: products on DSPs, 0: in LUTs
    parameter MAC = 0,
    // $readmemh files of the weight and threshold ROMs ("" : the module's defaults, empty)
    parameter WEIGHT_FILE = "",
    parameter THRESH_FILE = ""
) (
    input  wire                        clk,
    input  wire                        rst_n,
    input  wire [SIMD*PE*IN_BITS-1:0]  in_tdata,
    input  wire                        in_tvalid,
    output wire                        in_tready,
    output wire [PE*OUT_BITS-1:0]      out_tdata,
    output wire                        out_tvalid,
    input  wire                        out_tready
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

  localparam SF = K / SIMD;
  localparam NF = CH / PE;
  localparam TILES = SF * NF;
  localparam WW = SIMD * W_BITS;  // one PE's weight word
  localparam XNOR = (IN_KIND == 2) && (W_KIND == 2);
  localparam SHIFT_MODE = (REQUANT_SHIFT >= 0) && (N_THRES > 0);
  localparam N_T = SHIFT_MODE ? 1 : ((N_THRES > 0) ? N_THRES : 1);
  localparam TW = PE * N_T * ACC_BITS;  // threshold ROM word
  localparam SFW = clog2(SF);
  localparam NFW = clog2(NF);
  localparam TLW = clog2(TILES);
  // decoded value widths (bitfab::value_bits): signed BITS, else BITS + 1
  localparam IVB = (IN_KIND == 1) ? IN_BITS : IN_BITS + 1;
  localparam WVB = (W_KIND == 1) ? W_BITS : W_BITS + 1;
  localparam PB = IVB + WVB;  // product width
  localparam signed [63:0] LO = OUT_BIAS;
  localparam signed [63:0] HI = OUT_BIAS + N_THRES;
  localparam SH = SHIFT_MODE ? REQUANT_SHIFT : 0;
  localparam [63:0] MASK = (64'd1 << SH) - 64'd1;
  localparam [63:0] HALF = (64'd1 << SH) >> 1;

  initial begin
    if (K % SIMD != 0) $error("%m: K=%0d not divisible by SIMD=%0d", K, SIMD);
    if (CH % PE != 0) $error("%m: CH=%0d not divisible by PE=%0d", CH, PE);
    if (SIMD > 1 && PE != CH) $error("%m: SIMD=%0d > 1 needs PE == CH=%0d", SIMD, CH);
  end

  // ---- issue: one tile per clock while the pipeline advances -------------------------------
  reg out_valid;
  reg [PE*OUT_BITS-1:0] out_data;
  wire adv = !out_valid || out_tready;  // every stage moves (global stall on back-pressure)
  reg [SFW-1:0] sf;
  reg [NFW-1:0] nf;
  reg [TLW-1:0] waddr;  // nf*SF + sf
  wire fire = adv && in_tvalid;
  assign in_tready = adv;

  always @(posedge clk) begin
    if (!rst_n) begin
      sf <= 0;
      nf <= 0;
      waddr <= 0;
    end else if (fire) begin
      if (nf == NF - 1) begin
        nf <= 0;
        sf <= (sf == SF - 1) ? {SFW{1'b0}} : sf + 1'b1;
        waddr <= (sf == SF - 1) ? {TLW{1'b0}} : sf + 1'b1;
      end else begin
        nf <= nf + 1'b1;
        waddr <= waddr + SF;
      end
    end
  end

  // weight ROM, registered read (synthesis chooses LUTs or block RAM)
  reg [PE*WW-1:0] wrom[0:TILES-1];
  initial begin
    if (WEIGHT_FILE != "") $readmemh(WEIGHT_FILE, wrom);
  end
  reg [PE*WW-1:0] w_a;
  reg [SIMD*PE*IN_BITS-1:0] x_a;
  always @(posedge clk) begin
    if (adv) begin
      w_a <= wrom[waddr];
      x_a <= in_tdata;
    end
  end

  // stage control: valid, first/last kernel fold, channel fold
  reg v_a, v_b, v_c, v_d;
  reg first_a, first_b, first_c;
  reg last_a, last_b, last_c, last_d;
  reg [NFW-1:0] nf_a, nf_b, nf_c;
  always @(posedge clk) begin
    if (!rst_n) begin
      v_a <= 1'b0;
      v_b <= 1'b0;
      v_c <= 1'b0;
      v_d <= 1'b0;
      out_valid <= 1'b0;
    end else if (adv) begin
      v_a <= fire;
      v_b <= v_a;
      v_c <= v_b;
      v_d <= v_c;
      out_valid <= v_d && last_d;
    end
  end
  always @(posedge clk) begin
    if (adv) begin
      first_a <= (sf == 0);
      last_a <= (sf == SF - 1);
      nf_a <= nf;
      first_b <= first_a;
      last_b <= last_a;
      nf_b <= nf_a;
      first_c <= first_b;
      last_c <= last_b;
      nf_c <= nf_b;
      last_d <= last_c;
    end
  end

  // ---- products (stage b) and their SIMD sum (stage c), per PE: bitfab_mvau's tree ---------
  localparam GRP = 3;
  localparam NL = XNOR ? (SIMD + GRP - 1) / GRP : SIMD;
  localparam LW = XNOR ? 2 : ((PB < ACC_BITS) ? PB : ACC_BITS);
  localparam SGN = XNOR ? 0 : 1;
  localparam TL = tlevels(NL);
  localparam TT = toff(NL, LW, ACC_BITS, TL + 1);
  localparam TOW = twidth(LW, ACC_BITS, TL);

  function integer tnodes;  // values at level l
    input integer n, l;
    tnodes = (n + (1 << l) - 1) >> l;
  endfunction
  function integer tlevels;  // levels above the leaves
    input integer n;
    integer r;
    begin
      r = 0;
      while ((1 << r) < n) r = r + 1;
      tlevels = r;
    end
  endfunction
  function integer twidth;  // bits of a value at level l
    input integer lw, cap, l;
    twidth = (lw + l < cap) ? lw + l : cap;
  endfunction
  function integer toff;  // offset of level l in the flat vector
    input integer n, lw, cap, l;
    integer k, o;
    begin
      o = 0;
      for (k = 0; k < l; k = k + 1) o = o + tnodes(n, k) * twidth(lw, cap, k);
      toff = o;
    end
  endfunction

  wire [PE*NL*LW-1:0] leaves;  // stage b, registered
  wire [PE*ACC_BITS-1:0] part_sum;  // combinational from stage b
  reg  [PE*ACC_BITS-1:0] part_c;
  always @(posedge clk) if (adv) part_c <= part_sum;

  genvar gp, gs, gl, gj;
  generate
    if (XNOR) begin : g_xnor
      reg [PE*NL*2-1:0] cnt_b;
      for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
        wire [SIMD-1:0] ag;  // lane s: input field s*PE + p against weight bit s
        for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_lane
          assign ag[gs] = ~(x_a[gs*PE + gp] ^ w_a[gp*SIMD + gs]);
        end
        wire [NL*GRP-1:0] agree = ag;  // padded with lanes that never agree
        for (gs = 0; gs < NL; gs = gs + 1) begin : g_grp
          wire a0 = agree[gs*GRP], a1 = agree[gs*GRP+1], a2 = agree[gs*GRP+2];
          always @(posedge clk) begin
            if (adv) begin
              cnt_b[(gp*NL+gs)*2] <= a0 ^ a1 ^ a2;
              cnt_b[(gp*NL+gs)*2+1] <= (a0 & a1) | (a0 & a2) | (a1 & a2);
            end
          end
        end
      end
      assign leaves = cnt_b;
    end else begin : g_mac
      for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
        for (gs = 0; gs < SIMD; gs = gs + 1) begin : g_lane
          wire [IN_BITS-1:0] xf = x_a[(gs*PE + gp)*IN_BITS +: IN_BITS];
          wire [W_BITS-1:0] wf = w_a[gp*WW + gs*W_BITS +: W_BITS];
          wire signed [IVB-1:0] xv;
          wire signed [WVB-1:0] wv;
          if (IN_KIND == 1) begin : g_xs
            assign xv = xf;
          end else begin : g_xu  // unsigned, or bipolar (used only as a sign below)
            assign xv = {1'b0, xf};
          end
          if (W_KIND == 1) begin : g_ws
            assign wv = wf;
          end else begin : g_wu
            assign wv = {1'b0, wf};
          end
          wire signed [PB-1:0] xe = xv;  // sign-extended to the product width
          wire signed [PB-1:0] we = wv;
          wire [PB-1:0] p_b;
          if (IN_KIND == 2) begin : g_sign_x  // +-1 input: negate or pass the weight
            reg signed [PB-1:0] q;
            always @(posedge clk) if (adv) q <= xf[0] ? we : -we;
            assign p_b = q;
          end else if (W_KIND == 2) begin : g_sign_w  // +-1 weight: negate or pass the input
            reg signed [PB-1:0] q;
            always @(posedge clk) if (adv) q <= wf[0] ? xe : -xe;
            assign p_b = q;
          end else if (MAC == 1) begin : g_dsp
            (* use_dsp = "yes" *) reg signed [PB-1:0] q;
            always @(posedge clk) if (adv) q <= xv * wv;
            assign p_b = q;
          end else begin : g_lut
            (* use_dsp = "no" *) reg signed [PB-1:0] q;
            always @(posedge clk) if (adv) q <= xv * wv;
            assign p_b = q;
          end
          assign leaves[(gp*NL+gs)*LW +: LW] = p_b[LW-1:0];  // wraps to ACC_BITS if wider
        end
      end
    end

    // the adder tree of each PE, stage b -> c
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_tree
      (* keep *) wire [TT-1:0] t;
      assign t[0 +: NL*LW] = leaves[gp*NL*LW +: NL*LW];
      for (gl = 1; gl <= TL; gl = gl + 1) begin : g_lvl
        localparam NI = tnodes(NL, gl - 1);  // inputs of this level
        localparam WI = twidth(LW, ACC_BITS, gl - 1);
        localparam WO = twidth(LW, ACC_BITS, gl);
        localparam OI = toff(NL, LW, ACC_BITS, gl - 1);
        localparam OO = toff(NL, LW, ACC_BITS, gl);
        for (gj = 0; gj < tnodes(NL, gl); gj = gj + 1) begin : g_node
          wire [WI-1:0] u = t[OI + 2*gj*WI +: WI];
          wire [WI-1:0] v;  // 0 for the odd one out
          if (2*gj + 1 < NI) begin : g_pair
            assign v = t[OI + (2*gj+1)*WI +: WI];
          end else begin : g_odd
            assign v = {WI{1'b0}};
          end
          if (SGN) begin : g_s
            assign t[OO + gj*WO +: WO] = $signed(u) + $signed(v);
          end else begin : g_u
            assign t[OO + gj*WO +: WO] = u + v;
          end
        end
      end
      wire [TOW-1:0] root = t[toff(NL, LW, ACC_BITS, TL) +: TOW];
      if (SGN) begin : g_s
        assign part_sum[gp*ACC_BITS +: ACC_BITS] = $signed(root);
      end else begin : g_u
        assign part_sum[gp*ACC_BITS +: ACC_BITS] = root;
      end
    end
  endgenerate

  // ---- accumulate (stage d): the bank of every channel fold's partial sums -----------------
  reg [PE*ACC_BITS-1:0] bank[0:NF-1];
  wire [PE*ACC_BITS-1:0] held = bank[nf_c];
  wire [PE*ACC_BITS-1:0] acc_next;
  reg [PE*ACC_BITS-1:0] acc;
  generate
    for (gp = 0; gp < PE; gp = gp + 1) begin : g_acc
      assign acc_next[gp*ACC_BITS +: ACC_BITS] =
          first_c ? part_c[gp*ACC_BITS +: ACC_BITS]
                  : held[gp*ACC_BITS +: ACC_BITS] + part_c[gp*ACC_BITS +: ACC_BITS];
    end
  endgenerate
  always @(posedge clk) begin
    if (adv && v_c) begin
      bank[nf_c] <= acc_next;
      acc <= acc_next;
    end
  end

  // ---- activation of stage d into the output register (bitfab_mvau's) ---------------------
  wire [PE*OUT_BITS-1:0] y;
  generate
    if (N_THRES == 0) begin : g_pass
      for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
        wire signed [ACC_BITS-1:0] a = acc[gp*ACC_BITS +: ACC_BITS];
        wire signed [63:0] a64 = a;
        wire signed [63:0] v = XNOR ? (a64 + a64 - K) : a64;
        assign y[gp*OUT_BITS +: OUT_BITS] = v[OUT_BITS-1:0];
      end
    end else begin : g_act
      reg [TW-1:0] trom[0:NF-1];
      initial begin
        if (THRESH_FILE != "") $readmemh(THRESH_FILE, trom);
      end
      reg [TW-1:0] t_d;
      always @(posedge clk) if (adv) t_d <= trom[nf_c];
      for (gp = 0; gp < PE; gp = gp + 1) begin : g_pe
        wire signed [ACC_BITS-1:0] a = acc[gp*ACC_BITS +: ACC_BITS];
        reg signed [63:0] v;
        if (SHIFT_MODE) begin : g_shift
          wire signed [ACC_BITS-1:0] off = t_d[gp*ACC_BITS +: ACC_BITS];
          wire signed [63:0] a64 = a;
          wire signed [63:0] o64 = off;
          wire signed [63:0] d = a64 + o64;
          wire [63:0] r = d & MASK;
          always @* begin
            v = d >>> SH;  // floor division by 2^SH
            if (REQUANT_RNE && SH > 0 && ((r > HALF) || (r == HALF && v[0]))) v = v + 64'sd1;
            if (v < LO) v = LO;
            if (v > HI) v = HI;
          end
        end else begin : g_thres
          integer l;
          reg [31:0] cnt;
          always @* begin
            cnt = 0;
            for (l = 0; l < N_T; l = l + 1)
              cnt = cnt + ($signed(t_d[(gp*N_T+l)*ACC_BITS +: ACC_BITS]) <= a);
            v = LO + $signed({1'b0, cnt});
          end
        end
        assign y[gp*OUT_BITS +: OUT_BITS] = v[OUT_BITS-1:0];
      end
    end
  endgenerate

  always @(posedge clk) if (adv) out_data <= y;
  assign out_tdata = out_data;
  assign out_tvalid = out_valid;
endmodule
`default_nettype wire
