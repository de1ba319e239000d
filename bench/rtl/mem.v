`default_nettype none
module memtest #(
    parameter W = 8,
    parameter D = 64,
    parameter MODE = 0,  // 0 ROM sync read, 1 RAM sync read, 2 RAM async read
    parameter FILE = ""
) (
    input wire clk,
    input wire we,
    input wire [15:0] waddr,
    input wire [15:0] raddr,
    input wire [W-1:0] wdata,
    output wire [W-1:0] q
);
  reg [W-1:0] mem[0:D-1];
  reg [W-1:0] r;
  initial begin
    if (FILE != "") $readmemh(FILE, mem);
  end
  generate
    if (MODE == 0) begin : g_rom
      always @(posedge clk) r <= mem[raddr];
      assign q = r;
    end else if (MODE == 1) begin : g_ram
      always @(posedge clk) begin
        if (we) mem[waddr] <= wdata;
        r <= mem[raddr];
      end
      assign q = r;
    end else begin : g_aram
      always @(posedge clk) if (we) mem[waddr] <= wdata;
      assign q = mem[raddr];
    end
  endgenerate
endmodule
