// bitfab_thresholding: multi-threshold activation per channel (Verilog-2005), the twin of
// hls/include/bitfab/thresholding.hpp.
//
// Per pixel NF = C/PE words; field p of word nf is channel nf*PE + p and its output is
// OUT_BIAS + #{l : x >= T[p][nf][l]}, stored as the low OUT_BITS bits (two's complement). A
// bipolar activation is OUT_BITS = 1, N_THRES = 1, OUT_BIAS = 0 (the count is the bit).
// Input fields decode by IN_KIND: 0 unsigned, 1 signed, 2 bipolar (1 = +1, 0 = -1).
//
// THRESH_FILE ($readmemh) holds NF words of PE*N_THRES*T_BITS bits: threshold l of PE p at
// [(p*N_THRES + l)*T_BITS +: T_BITS], two's complement; word nf serves channel group nf. The
// ROM is read synchronously as a word is taken; the comparison is made from the registered
// word and ROM output, so one word a cycle flows. in_tready = !out_tvalid || out_tready.
module bitfab_thresholding #(
    parameter C = 1,
    parameter PE = 1,
    parameter IN_BITS = 8,
    parameter IN_KIND = 0,
    parameter T_BITS = 9,
    parameter N_THRES = 1,
    parameter OUT_BITS = 1,
    parameter OUT_BIAS = 0,
    parameter THRESH_FILE = "",
    parameter IN_W = PE * IN_BITS,
    parameter OUT_W = PE * OUT_BITS
) (
    input  wire             clk,
    input  wire             rst_n,
    input  wire [IN_W-1:0]  in_tdata,
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

  localparam NF = C / PE;
  localparam AW = clog2(NF);
  localparam ROM_W = PE * N_THRES * T_BITS;
  // compare width: holds every input value and every threshold, signed
  localparam CW = ((IN_BITS + 1 > T_BITS) ? IN_BITS + 1 : T_BITS) + 1;

  reg [ROM_W-1:0] rom[0:NF-1];
  initial begin
    if (THRESH_FILE != "") $readmemh(THRESH_FILE, rom);
  end

  reg [ROM_W-1:0] thr;
  reg [IN_W-1:0] x;
  reg valid;
  reg [AW-1:0] nf;
  wire take = in_tvalid && in_tready;
  assign in_tready = !valid || out_tready;
  assign out_tvalid = valid;

  always @(posedge clk) begin
    if (take) begin
      thr <= rom[nf];
      x <= in_tdata;
    end
  end
  always @(posedge clk) begin
    if (!rst_n) begin
      valid <= 1'b0;
      nf <= 0;
    end else begin
      if (take) nf <= (nf == NF - 1) ? {AW{1'b0}} : nf + 1'b1;
      if (take) valid <= 1'b1;
      else if (out_tready) valid <= 1'b0;
    end
  end

  genvar p, l;
  generate
    for (p = 0; p < PE; p = p + 1) begin : g_pe
      wire [IN_BITS-1:0] f = x[p*IN_BITS +: IN_BITS];
      wire signed [CW-1:0] v;
      if (IN_KIND == 2) begin : g_bip
        assign v = f[0] ? 1 : -1;
      end else if (IN_KIND == 1) begin : g_s
        assign v = {{(CW - IN_BITS) {f[IN_BITS-1]}}, f};
      end else begin : g_u
        assign v = {{(CW - IN_BITS) {1'b0}}, f};
      end
      wire [N_THRES-1:0] ge;
      for (l = 0; l < N_THRES; l = l + 1) begin : g_t
        wire [T_BITS-1:0] t = thr[(p*N_THRES+l)*T_BITS +: T_BITS];
        wire signed [CW-1:0] ts = {{(CW - T_BITS) {t[T_BITS-1]}}, t};
        assign ge[l] = v >= ts;
      end
      reg [31:0] count;
      integer i;
      always @(*) begin
        count = OUT_BIAS;
        for (i = 0; i < N_THRES; i = i + 1) count = count + ge[i];
      end
      assign out_tdata[p*OUT_BITS +: OUT_BITS] = count[OUT_BITS-1:0];
    end
  endgenerate
endmodule
