// Harness of a whole generated design: the RTL bitfab_top as the board's DMAs and driver see it.
//
// The top has the Vitis HLS port names (ap_clk, ap_rst_n, s_axis_T*, m_axis_T*,
// s_axi_control_*, interrupt), so it is compiled with --prefix Vdut like every RTL model. When
// it was compiled with its `probes` output (-DBITFAB_PROBES: N_PROBES FIFOs, probe i at bits
// [i*36 +: 36] = {count[31:0], out_tready, out_tvalid, in_tready, in_tvalid}), the harness
// finds that port by itself (no C++ define needed) and keeps per-FIFO statistics.
//
//   Vdut IN_BEATS OUT_FILE N_IMAGES OUT_BEATS_PER_IMAGE MAX_IDLE STATS_FILE [N_PROBES [RUNS]]
//
// IN_BEATS holds one hex beat per line: the whole input DMA buffer of a batch. One run does
// what boards/driver/accelerator.py does: write N_IMAGES to 0x10, read 0x00 until ap_idle,
// write ap_start, then stream IN_BEATS (TKEEP all ones, TLAST on the last beat, TREADY
// respected) into s_axis at full rate with m_axis always ready, and, once
// N_IMAGES*OUT_BEATS_PER_IMAGE beats came out, read 0x00 until ap_done. RUNS (default 1) runs
// repeat that with the same input (a second start after the first finished).
// N_PROBES: the number of probes to read (default: all the port has; 0 for none).
//
// OUT_FILE: one line per output beat "<hex> <cycle> <tlast>".
// STATS_FILE (written on every exit):
//   cycles <total> first_in <cycle> last_in <cycle>           (-1 when no input beat moved)
//   fifo <i> max <max count> in_fire <n> in_stall <n> out_fire <n> out_starve <n>
//     out_block <n> full_now <count at the end>                (one line per probe)
// and after a deadlock, per probe, its valid/ready bits at that moment:
//   now <i> in_tvalid <b> in_tready <b> out_tvalid <b> out_tready <b>
// (in_stall: in_tvalid && !in_tready; out_starve: !out_tvalid && out_tready;
//  out_block: out_tvalid && !out_tready; cycles are counted from the end of reset.)
//
// Exit status: 0 done; 2 bad arguments or files; 3 deadlock (no output beat for MAX_IDLE
// cycles: "deadlock: no output beat for K cycles" on stderr); 4 an output beat beyond the
// batch; 5 wrong TLAST or TKEEP, input beats left untaken, or no ap_done within MAX_IDLE
// cycles of the last beat; 6 the control slave stopped answering or never reported ap_idle.
// stderr gets "progress <cycle> <beats out>/<total>" every 2^20 cycles.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "Vdut.h"
#include "verilated.h"
#include "words.hpp"

namespace {

// --- the probes port, if the model has one -------------------------------------------------
template <class T, class = void>
struct has_probes : std::false_type {};
template <class T>
struct has_probes<T, std::void_t<decltype(std::declval<T&>().probes)>> : std::true_type {};

template <class T>
struct port_bits {
  static constexpr int value = 8 * sizeof(T);
};
template <std::size_t N>
struct port_bits<VlWide<N>> {
  static constexpr int value = 32 * N;
};

template <class T>
inline uint64_t bits_at(const T& p, int pos) {
  return static_cast<uint64_t>(p) >> pos;  // a port of at most 64 bits holds one probe
}
template <std::size_t N>
inline uint64_t bits_at(const VlWide<N>& p, int pos) {
  const std::size_t k = pos >> 5;
  const int off = pos & 31;
  uint64_t v = p[k] >> off;
  if (k + 1 < N) v |= static_cast<uint64_t>(p[k + 1]) << (32 - off);
  if (off > 28 && k + 2 < N) v |= static_cast<uint64_t>(p[k + 2]) << (64 - off);
  return v;
}

struct Probe {
  uint64_t max = 0, in_fire = 0, in_stall = 0, out_fire = 0, out_starve = 0, out_block = 0;
  uint32_t count = 0;
  unsigned bits = 0;  // in_tvalid, in_tready, out_tvalid, out_tready (bits 0..3)
};

template <class D>
int probes_in_port() {
  if constexpr (has_probes<D>::value) {
    using P = std::decay_t<decltype(std::declval<D&>().probes)>;
    return port_bits<P>::value / 36;
  } else {
    return 0;
  }
}

template <class D>
inline void sample_probes(D* dut, std::vector<Probe>& probes) {
  if constexpr (has_probes<D>::value) {
    const int n = static_cast<int>(probes.size());
    for (int i = 0; i < n; i++) {
      const uint64_t v = bits_at(dut->probes, i * 36);
      Probe& p = probes[i];
      const unsigned b = static_cast<unsigned>(v & 0xF);
      p.bits = b;
      p.count = static_cast<uint32_t>(v >> 4);
      if (p.count > p.max) p.max = p.count;
      const bool iv = b & 1, ir = b & 2, ov = b & 4, orr = b & 8;
      p.in_fire += iv && ir;
      p.in_stall += iv && !ir;
      p.out_fire += ov && orr;
      p.out_starve += !ov && orr;
      p.out_block += ov && !orr;
    }
  } else {
    (void)dut;
    (void)probes;
  }
}

#ifdef BITFAB_PROBES
static_assert(has_probes<Vdut>::value, "BITFAB_PROBES: the top has no `probes` port");
#endif

// --- hex output of a beat without allocating ------------------------------------------------
template <class T>
inline void put_hex(std::FILE* f, const T& port) {
  std::fprintf(f, "%llx", static_cast<unsigned long long>(port));
}
template <std::size_t N>
inline void put_hex(std::FILE* f, const VlWide<N>& port) {
  std::size_t top = N - 1;
  while (top > 0 && port[top] == 0) top--;
  std::fprintf(f, "%x", port[top]);
  for (std::size_t i = top; i-- > 0;) std::fprintf(f, "%08x", port[i]);
}

template <class T>
inline bool all_ones(const T& port, int bits) {
  const uint64_t want = bits >= 64 ? ~0ULL : ((1ULL << bits) - 1);
  return (static_cast<uint64_t>(port) & want) == want;
}

// --- one AXI4-Lite transaction at a time ----------------------------------------------------
struct AxiOp {
  bool active = false, write = false;
  uint32_t addr = 0, data = 0, rdata = 0;
  bool aw_done = false, w_done = false, ar_done = false, complete = false;
  long since = 0;  // cycles since it was issued
};

constexpr uint32_t AP_CTRL = 0x00, N_IMAGES = 0x10;
constexpr uint32_t AP_START = 1, AP_DONE = 2, AP_IDLE = 4;
constexpr long AXI_TIMEOUT = 1000;
constexpr long PROGRESS_MASK = (1L << 20) - 1;

enum Phase { WRITE_N, READ_IDLE, WRITE_START, STREAM, READ_DONE, FINISHED };

}  // namespace

int main(int argc, char** argv) {
  if (argc < 7) {
    std::fprintf(stderr,
                 "usage: Vdut IN_BEATS OUT_FILE N_IMAGES OUT_BEATS_PER_IMAGE MAX_IDLE STATS_FILE "
                 "[N_PROBES [RUNS]]\n");
    return 2;
  }
  std::vector<tb::Word> in;
  {
    std::ifstream f(argv[1]);
    if (!f) {
      std::fprintf(stderr, "cannot read %s\n", argv[1]);
      return 2;
    }
    std::string line;
    while (f >> line) in.push_back(tb::parse_hex(line));
  }
  const uint32_t n_images = static_cast<uint32_t>(std::strtoul(argv[3], nullptr, 10));
  const long out_per_image = std::atol(argv[4]);
  const long max_idle = std::atol(argv[5]);
  const char* stats_path = argv[6];
  const int port_probes = probes_in_port<Vdut>();
  const int n_probes = argc > 7 ? std::atoi(argv[7]) : port_probes;
  const int runs = argc > 8 ? std::atoi(argv[8]) : 1;
  if (n_probes < 0 || n_probes > port_probes) {
    std::fprintf(stderr, "N_PROBES %d: the model has %d probes (compile with BITFAB_PROBES)\n",
                 n_probes, port_probes);
    return 2;
  }
  std::FILE* out = std::fopen(argv[2], "w");
  if (!out) {
    std::fprintf(stderr, "cannot write %s\n", argv[2]);
    return 2;
  }
  static char out_buf[1 << 20];
  std::setvbuf(out, out_buf, _IOFBF, sizeof out_buf);

  const long n_in = static_cast<long>(in.size());
  const long total = static_cast<long>(n_images) * out_per_image;  // beats per run
  const long grand_total = total * runs;
  // the beat width: TDATA is an IData, a QData or a VlWide of 32-bit limbs (DW = 32, 64, 128...)
  constexpr int dw = port_bits<std::decay_t<decltype(std::declval<Vdut&>().s_axis_TDATA)>>::value;
  constexpr int tkeep_bits = dw / 8;
  constexpr uint64_t keep_ones = tkeep_bits >= 64 ? ~0ULL : ((1ULL << tkeep_bits) - 1);
  std::vector<Probe> probes(n_probes);

  auto ctx = std::make_unique<VerilatedContext>();
  auto dut = std::make_unique<Vdut>(ctx.get());

  // reset
  dut->ap_clk = 0;
  dut->ap_rst_n = 0;
  dut->s_axis_TVALID = 0;
  dut->s_axis_TLAST = 0;
  dut->s_axis_TKEEP = 0;
  dut->m_axis_TREADY = 1;
  dut->s_axi_control_AWVALID = 0;
  dut->s_axi_control_WVALID = 0;
  dut->s_axi_control_BREADY = 0;
  dut->s_axi_control_ARVALID = 0;
  dut->s_axi_control_RREADY = 0;
  dut->s_axi_control_WSTRB = 0xF;
  for (int i = 0; i < 8; i++) {
    dut->ap_clk = !dut->ap_clk;
    dut->eval();
  }
  dut->ap_rst_n = 1;
  dut->s_axis_TKEEP = keep_ones;

  long cycle = 0, first_in = -1, last_in = -1;
  long next_in = 0, beats_run = 0, beats_all = 0, idle = 0, extra = 0;
  long tlast_errors = 0, tkeep_errors = 0, first_bad = -1;
  int run = 0;
  Phase phase = WRITE_N;
  AxiOp op;
  auto issue = [&](bool write, uint32_t addr, uint32_t data) {
    op = AxiOp();
    op.active = true;
    op.write = write;
    op.addr = addr;
    op.data = data;
  };
  auto write_stats = [&](bool deadlock) {
    std::FILE* s = std::fopen(stats_path, "w");
    if (!s) return;
    std::fprintf(s, "cycles %ld first_in %ld last_in %ld\n", cycle, first_in, last_in);
    for (int i = 0; i < n_probes; i++) {
      const Probe& p = probes[i];
      std::fprintf(s,
                   "fifo %d max %llu in_fire %llu in_stall %llu out_fire %llu out_starve %llu "
                   "out_block %llu full_now %u\n",
                   i, (unsigned long long)p.max, (unsigned long long)p.in_fire,
                   (unsigned long long)p.in_stall, (unsigned long long)p.out_fire,
                   (unsigned long long)p.out_starve, (unsigned long long)p.out_block, p.count);
    }
    if (deadlock) {
      for (int i = 0; i < n_probes; i++) {
        const unsigned b = probes[i].bits;
        std::fprintf(s, "now %d in_tvalid %u in_tready %u out_tvalid %u out_tready %u\n", i, b & 1,
                     (b >> 1) & 1, (b >> 2) & 1, (b >> 3) & 1);
      }
    }
    std::fclose(s);
  };
  auto finish = [&](int code, bool deadlock) {
    std::fclose(out);
    write_stats(deadlock);
    dut->final();
    return code;
  };

  issue(true, N_IMAGES, n_images);
  if (n_in > 0) tb::put(dut->s_axis_TDATA, in[0]);
  for (;; cycle++) {
    // drive the inputs of this cycle
    const bool feeding = phase >= STREAM && next_in < n_in;
    dut->s_axis_TVALID = feeding;
    dut->s_axis_TLAST = feeding && next_in == n_in - 1;
    dut->s_axi_control_AWVALID = op.active && op.write && !op.aw_done;
    dut->s_axi_control_WVALID = op.active && op.write && !op.w_done;
    dut->s_axi_control_BREADY = op.active && op.write;
    dut->s_axi_control_ARVALID = op.active && !op.write && !op.ar_done;
    dut->s_axi_control_RREADY = op.active && !op.write;
    if (op.active) {
      dut->s_axi_control_AWADDR = op.addr;
      dut->s_axi_control_ARADDR = op.addr;
      dut->s_axi_control_WDATA = op.data;
    }
    dut->ap_clk = 0;
    dut->eval();

    // what moves at the coming rising edge
    const bool in_fire = dut->s_axis_TVALID && dut->s_axis_TREADY;
    const bool out_fire = dut->m_axis_TVALID && dut->m_axis_TREADY;
    if (op.active) {
      if (op.write) {
        if (dut->s_axi_control_AWVALID && dut->s_axi_control_AWREADY) op.aw_done = true;
        if (dut->s_axi_control_WVALID && dut->s_axi_control_WREADY) op.w_done = true;
        if (dut->s_axi_control_BVALID) op.complete = true;
      } else {
        if (dut->s_axi_control_ARVALID && dut->s_axi_control_ARREADY) op.ar_done = true;
        if (dut->s_axi_control_RVALID) {
          op.rdata = dut->s_axi_control_RDATA;
          op.complete = true;
        }
      }
    }
    if (out_fire) {
      if (beats_run == total) {
        extra++;
      } else {
        beats_run++;
        beats_all++;
        const bool want_last = beats_run == total;
        const bool last = dut->m_axis_TLAST;
        if (last != want_last) {
          tlast_errors++;
          if (first_bad < 0) first_bad = cycle;
        }
        if (!all_ones(dut->m_axis_TKEEP, tkeep_bits)) {
          tkeep_errors++;
          if (first_bad < 0) first_bad = cycle;
        }
        put_hex(out, dut->m_axis_TDATA);
        std::fprintf(out, " %ld %d\n", cycle, last ? 1 : 0);
      }
    }
    // from the first input beat on: the shares of the run (starved, back-pressured) are of
    // cycles - first_in, so the AXI-Lite set-up before it must not count as starving
    if (first_in >= 0) sample_probes(dut.get(), probes);

    dut->ap_clk = 1;
    dut->eval();

    // bookkeeping after the edge
    if (in_fire) {
      if (first_in < 0) first_in = cycle;
      last_in = cycle;
      if (++next_in < n_in) tb::put(dut->s_axis_TDATA, in[next_in]);
    }
    if (extra) {
      std::fprintf(stderr, "EXTRA output beat at cycle %ld (run %d)\n", cycle, run);
      return finish(4, false);
    }
    if ((cycle & PROGRESS_MASK) == 0 && cycle) {
      std::fprintf(stderr, "progress %ld %ld/%ld\n", cycle, beats_all, grand_total);
    }
    if (op.active && !op.complete && ++op.since > AXI_TIMEOUT) {
      std::fprintf(stderr, "control: no AXI-Lite response to a %s of 0x%02x in %ld cycles\n",
                   op.write ? "write" : "read", op.addr, AXI_TIMEOUT);
      return finish(6, false);
    }
    idle = out_fire ? 0 : idle + 1;
    switch (phase) {
      case WRITE_N:
        if (op.complete) {
          issue(false, AP_CTRL, 0);
          phase = READ_IDLE;
          idle = 0;
        }
        break;
      case READ_IDLE:
        if (op.complete) {
          if (op.rdata & AP_IDLE) {
            issue(true, AP_CTRL, AP_START);
            phase = WRITE_START;
          } else if (idle > max_idle) {
            std::fprintf(stderr, "control: ap_idle never came before start %d (0x00 = 0x%x)\n", run,
                         op.rdata);
            return finish(6, false);
          } else {
            issue(false, AP_CTRL, 0);
          }
        }
        break;
      case WRITE_START:
        if (op.complete) {
          op.active = false;
          phase = STREAM;
          idle = 0;
        }
        break;
      case STREAM:
        if (beats_run == total) {
          issue(false, AP_CTRL, 0);
          phase = READ_DONE;
          idle = 0;
        } else if (idle >= max_idle) {
          std::fprintf(stderr,
                       "deadlock: no output beat for %ld cycles (run %d: %ld of %ld beats out, "
                       "%ld of %ld beats in, cycle %ld)\n",
                       idle, run, beats_run, total, next_in, n_in, cycle);
          return finish(3, true);
        }
        break;
      case READ_DONE:
        if (op.complete) {
          if (op.rdata & AP_DONE) {
            if (tlast_errors || tkeep_errors) {
              std::fprintf(stderr,
                           "run %d: %ld beats with a wrong TLAST, %ld with TKEEP not all ones "
                           "(first at cycle %ld)\n",
                           run, tlast_errors, tkeep_errors, first_bad);
              return finish(5, false);
            }
            if (next_in < n_in) {
              std::fprintf(stderr, "run %d: the design took %ld of the %ld input beats\n", run,
                           next_in, n_in);
              return finish(5, false);
            }
            if (++run == runs) {
              phase = FINISHED;
              op.active = false;
            } else {
              beats_run = 0;
              next_in = 0;
              if (n_in > 0) tb::put(dut->s_axis_TDATA, in[0]);
              issue(true, N_IMAGES, n_images);
              phase = WRITE_N;
            }
          } else if (idle > max_idle) {
            std::fprintf(stderr, "run %d: ap_done never came (%ld cycles after the last beat)\n",
                         run, idle);
            return finish(5, false);
          } else {
            issue(false, AP_CTRL, 0);
          }
        }
        break;
      case FINISHED:
        break;
    }
    if (phase == FINISHED) {
      cycle++;
      break;
    }
  }
  return finish(0, false);
}
