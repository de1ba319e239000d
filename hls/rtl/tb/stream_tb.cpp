// Generic testbench of one bitfab RTL kernel: one input and one output stream.
//
// The kernel's ports follow the library's convention (hls/rtl/README.md): clk, rst_n,
// in_tdata/in_tvalid/in_tready and out_tdata/out_tvalid/out_tready. The model is compiled
// with --prefix Vdut, its parameters set with -G.
//
//   Vdut IN_FILE OUT_FILE N_OUT SEED VALID_PCT READY_PCT MAX_IDLE
//
// IN_FILE holds one hex word per line. The input is offered with probability VALID_PCT % per
// cycle and the output accepted with READY_PCT % (random gaps and back-pressure from SEED).
// OUT_FILE gets one line per output word: "<hex> <cycle>". Exit 0 after N_OUT words and a
// quiet tail of 64 cycles; 3 when no output moves for MAX_IDLE cycles (deadlock); 4 when a
// word beyond N_OUT comes out.
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "Vdut.h"
#include "verilated.h"
#include "words.hpp"

int main(int argc, char** argv) {
  if (argc < 8) {
    std::cerr << "usage: Vdut IN_FILE OUT_FILE N_OUT SEED VALID_PCT READY_PCT MAX_IDLE\n";
    return 2;
  }
  std::vector<tb::Word> in;
  {
    std::ifstream f(argv[1]);
    std::string line;
    while (f >> line) in.push_back(tb::parse_hex(line));
  }
  const long n_out = std::atol(argv[3]);
  tb::Rng rng(std::strtoull(argv[4], nullptr, 10));
  const unsigned valid_pct = std::atoi(argv[5]), ready_pct = std::atoi(argv[6]);
  const long max_idle = std::atol(argv[7]);
  std::ofstream out(argv[2]);

  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<Vdut>(ctx.get());
  dut->clk = 0;
  dut->rst_n = 0;
  dut->in_tvalid = 0;
  dut->out_tready = 0;
  for (int i = 0; i < 4; i++) {
    dut->clk = !dut->clk;
    dut->eval();
  }
  dut->rst_n = 1;
  size_t next_in = 0;
  long got = 0, idle = 0, tail = 0;
  for (long cycle = 0;; cycle++) {
    const bool offer = next_in < in.size() && rng.percent(valid_pct);
    dut->in_tvalid = offer;
    if (offer) tb::put(dut->in_tdata, in[next_in]);
    dut->out_tready = rng.percent(ready_pct);
    dut->clk = 0;
    dut->eval();
    const bool in_fire = dut->in_tvalid && dut->in_tready;
    const bool out_fire = dut->out_tvalid && dut->out_tready;
    if (out_fire) {
      if (got == n_out) {
        std::cerr << "EXTRA output word at cycle " << cycle << "\n";
        return 4;
      }
      out << tb::to_hex(tb::get(dut->out_tdata)) << " " << cycle << "\n";
      got++;
    }
    if (in_fire) next_in++;
    idle = (in_fire || out_fire) ? 0 : idle + 1;
    dut->clk = 1;
    dut->eval();
    if (got == n_out && ++tail > 64) break;
    if (got < n_out && idle > max_idle) {
      std::cerr << "DEADLOCK: no stream moved for " << max_idle << " cycles; " << got << " of "
                << n_out << " outputs, " << next_in << " of " << in.size() << " inputs taken\n";
      return 3;
    }
  }
  dut->final();
  return 0;
}
