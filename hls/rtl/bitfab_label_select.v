// bitfab_label_select: top-1 label select (Verilog-2005), the twin of
// hls/include/bitfab/label_select.hpp: the index of the largest of N values an image, the
// lowest index on ties (as ONNX TopK(k=1) and ArgMax break them).
//
// Per image NF = N/PE input words (word nf field p is value nf*PE + p) and one output word
// holding the index (OUT_BITS wide). IN_KIND: 0 unsigned, 1 signed (two's
// complement), 2 bipolar (1 bit, 1 = +1: compares as unsigned).
//
// Each word's maximum is found by a binary tree of PE-1 compares (a right subtree wins only
// when strictly greater: the lower index keeps a tie), then compared with the running best of
// the image (strictly greater again; the first word of an image always loads). The word that
// ends an image loads the index into the output register. One input word a cycle, NF cycles
// an image; in_tready = !last word || !out_tvalid || out_tready.
`default_nettype none
module bitfab_label_select #(
    // values (labels) an image; PE divides it
    parameter N = 10,
    // values a word
    parameter PE = 1,
    // bits of a value, 1 .. 32
    parameter IN_BITS = 8,
    // how values compare: 0 unsigned, 1 signed, 2 bipolar
    parameter IN_KIND = 0,
    // bits of the output index; N <= 2^OUT_BITS
    parameter OUT_BITS = 4
) (
    input  wire                  clk,
    input  wire                  rst_n,
    input  wire [PE*IN_BITS-1:0] in_tdata,
    input  wire                  in_tvalid,
    output wire                  in_tready,
    output wire [  OUT_BITS-1:0] out_tdata,
    output wire                  out_tvalid,
    input  wire                  out_tready
);
  function integer clog2;  // bits for 0 .. v-1 (at least 1)
    input integer v;
    integer r;
    begin
      r = 0;
      while ((1 << r) < v) r = r + 1;
      clog2 = (r < 1) ? 1 : r;
    end
  endfunction

  localparam NF = N / PE;  // words an image
  localparam VW = IN_BITS + 1;  // a value widened so that every kind compares signed
  localparam IW = OUT_BITS;  // bits of an index, and of a position within a word (PE <= N)
  localparam FW = clog2(NF);  // bits of the word counter
  localparam P2 = 1 << clog2(PE);  // leaves of the compare tree (PE padded to a power of 2)
  localparam NODES = 2 * P2 - 1;  // heap order: node k has children 2k+1 (lower) and 2k+2
  localparam integer LAST = NF - 1;  // the word counter's last value (fits FW bits)
  localparam integer STEP = PE;  // base moves by PE a word (to N - PE at most: fits IW bits)

  initial begin
    if (N < 1 || PE < 1 || N % PE != 0) $error("%m: PE must divide N (N=%0d, PE=%0d)", N, PE);
    if (IN_BITS < 1 || IN_BITS > 32) $error("%m: IN_BITS must be in 1 .. 32");
    if (IN_KIND > 2) $error("%m: IN_KIND must be 0 (unsigned), 1 (signed) or 2 (bipolar)");
    if (IN_KIND == 2 && IN_BITS != 1) $error("%m: a bipolar value is IN_BITS = 1");
    if (OUT_BITS < 1 || OUT_BITS > 32 || N > (1 << OUT_BITS))
      $error("%m: OUT_BITS=%0d cannot hold %0d indices", OUT_BITS, N);
  end

  // ---- the maximum of the word: a tree over its PE fields
  // {position in the word, value widened to VW} of the first largest field of a word. The
  // tree's nodes are in heap order (node k has children 2k+1, covering the lower positions,
  // and 2k+2; leaves P2-1 .. 2*P2-2); a function, so the tree is built bottom-up in order.
  function [IW+VW-1:0] word_max;
    input [PE*IN_BITS-1:0] w;
    reg [NODES*VW-1:0] v;  // each node's largest value
    reg [NODES*IW-1:0] pos;  // its position in the word
    reg [NODES-1:0] ok;  // the node covers at least one real field (PE padded to P2)
    reg [IN_BITS-1:0] f;
    reg b_wins;
    integer j, a, b;
    begin
      v = {NODES * VW{1'b0}};
      pos = {NODES * IW{1'b0}};
      ok = {NODES{1'b0}};
      for (j = 0; j < PE; j = j + 1) begin
        f = w[j*IN_BITS+:IN_BITS];
        v[(P2-1+j)*VW+:VW] = IN_KIND == 1 ? {f[IN_BITS-1], f} : {1'b0, f};
        pos[(P2-1+j)*IW+:IW] = j[IW-1:0];
        ok[P2-1+j] = 1'b1;
      end
      for (j = P2 - 2; j >= 0; j = j - 1) begin
        a = 2 * j + 1;
        b = 2 * j + 2;
        // strict: the lower positions (a) keep a tie
        b_wins = ok[b] && (!ok[a] || $signed(v[b*VW+:VW]) > $signed(v[a*VW+:VW]));
        v[j*VW+:VW] = b_wins ? v[b*VW+:VW] : v[a*VW+:VW];
        pos[j*IW+:IW] = b_wins ? pos[b*IW+:IW] : pos[a*IW+:IW];
        ok[j] = ok[a] || ok[b];
      end
      word_max = {pos[0+:IW], v[0+:VW]};
    end
  endfunction

  // ---- the running best of the image
  reg  [  FW-1:0] nf;  // word index within the image
  reg  [  IW-1:0] base;  // nf * PE
  reg  [  VW-1:0] best;
  reg  [  IW-1:0] best_idx;
  reg  [  IW-1:0] idx_q;
  reg             full;

  wire            last = nf == LAST[FW-1:0];
  wire            take = in_tvalid && in_tready;
  wire [IW+VW-1:0] word = word_max(in_tdata);
  wire [  VW-1:0] word_v = word[0+:VW];
  wire [  IW-1:0] word_idx = base + word[VW+:IW];
  wire            load = nf == 0 || $signed(word_v) > $signed(best);
  wire [  IW-1:0] next_idx = load ? word_idx : best_idx;

  assign in_tready = !last || !full || out_tready;
  assign out_tvalid = full;
  assign out_tdata = idx_q;

  always @(posedge clk) begin
    if (!rst_n) begin
      nf <= 0;
      base <= 0;
      full <= 1'b0;
    end else begin
      if (take) begin
        nf <= last ? {FW{1'b0}} : nf + 1'b1;
        base <= last ? {IW{1'b0}} : base + STEP[IW-1:0];
      end
      if (take && last) full <= 1'b1;
      else if (out_tready) full <= 1'b0;
    end
  end

  always @(posedge clk) begin
    if (take) begin
      if (load) best <= word_v;
      best_idx <= next_idx;
      if (last) idx_q <= next_idx;
    end
  end
endmodule
`default_nettype wire
