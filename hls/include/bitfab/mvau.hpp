/// \file mvau.hpp
/// \brief Matrix-vector-activation unit: y = act(x @ W) for a stream of input vectors.
#pragma once

#include <type_traits>

#include "bitfab/activation.hpp"
#include "bitfab/types.hpp"

namespace bitfab {

/// \brief Configuration of mvau(), with the default of every field.
///
/// The code generator emits one config per layer that inherits from this struct and sets the
/// layer's values (hls4ml's CONFIG_T habit):
/// \code
/// struct fc0_cfg : bitfab::mvau_config {
///   static constexpr unsigned MW = 64;
///   static constexpr unsigned MH = 16;
///   ...
/// };
/// \endcode
/// A field left at 0 below has no meaningful default: the layer must set it, and mvau()'s
/// static_asserts reject a config that does not.
/// Derived: SF = MW / SIMD (input words per vector), NF = MH / PE (output words per vector).
struct mvau_config {
  /// Input vectors per image (pixels of a convolution, 1 for a fully connected layer); the
  /// top passes n_images, so the dataflow region holds only calls (canonical form).
  static constexpr unsigned REPS = 1;
  /// Input vector length (rows of W).
  static constexpr unsigned MW = 0;
  /// Output vector length (columns of W).
  static constexpr unsigned MH = 0;
  /// Input elements per input word (and weights per weight word); SIMD divides MW.
  static constexpr unsigned SIMD = 1;
  /// Output channels computed in parallel, one field each per output word; PE divides MH.
  static constexpr unsigned PE = 1;
  /// Bits per input field, 1 .. 32 (1 for Bipolar).
  static constexpr unsigned IN_BITS = 0;
  /// Bits per weight field, 1 .. 32 (1 for Bipolar).
  static constexpr unsigned W_BITS = 0;
  /// Width of the accumulator and of the threshold table entries, 2 .. 32.
  static constexpr unsigned ACC_BITS = 0;
  /// Bits per output field, 1 .. 32.
  static constexpr unsigned OUT_BITS = 0;
  /// How input fields read as numbers. Bipolar inputs with Bipolar weights is XNOR mode.
  static constexpr Kind IN_KIND = Kind::Unsigned;
  /// How weight fields read as numbers.
  static constexpr Kind W_KIND = Kind::Signed;
  /// How output fields read: Signed or Unsigned (a bipolar activation is Unsigned, 1 bit).
  static constexpr Kind OUT_KIND = Kind::Unsigned;
  /// Output levels - 1 of the activation; 0 = no activation, the accumulator is the output.
  static constexpr unsigned N_THRES = 0;
  /// Lowest output value of the activation (added to the threshold count).
  static constexpr int OUT_BIAS = 0;
  /// >= 0: shift requantization by this many bits replaces the N_THRES thresholds by one
  /// offset per channel (ShiftRequant); -1: thresholds (MultiThreshold).
  static constexpr int REQUANT_SHIFT = -1;
  /// Shift requantization rounds half to even (else floor).
  static constexpr bool REQUANT_RNE = false;
};

namespace detail {

/// What XnorPopcount and MacDot share: the policy interface of mvau()'s dot product.
///
/// `operand` is what the input buffer holds per input word (`prepare()` makes it), `sum_t` the
/// running sum the policy's `dot()` partials are added in, and `finish()` turns a finished sum
/// into the ap_int<ACC_BITS> accumulator. In hardware these are the input word and
/// ap_int<ACC_BITS> itself; under fast C-simulation the operand is the word's native limbs (a
/// policy may hold it differently: MacDot decodes the fields once) and sums are native integers
/// modulo 2^64, truncated to ACC_BITS by finish(): the same bits.
/// \tparam IN_W     bits of an input word
/// \tparam W_W      bits of a weight word
/// \tparam ACC_BITS width of the accumulator
template <unsigned IN_W, unsigned W_W, unsigned ACC_BITS>
struct DotPolicy {
  typedef ap_uint<IN_W> in_word;
  typedef ap_uint<W_W> w_word;
  typedef ap_int<ACC_BITS> acc_t;
  typedef typename WordStore<IN_W>::held_t operand;
  static operand prepare(const in_word& x) {
#pragma HLS INLINE
    return WordStore<IN_W>::load(x);
  }
#if BITFAB_FAST_CSIM
  typedef uint64_t sum_t;
  static acc_t finish(sum_t s) { return acc_t(ap_uint<64>(s)); }
#else
  typedef acc_t sum_t;
  static acc_t finish(const sum_t& s) {
#pragma HLS INLINE
    return s;
  }
#endif
};

/// XNOR mode (Bipolar inputs and weights): acc = number of agreeing bits, 0 .. MW.
/// \tparam CFG mvau configuration
template <class CFG>
struct XnorPopcount : DotPolicy<CFG::SIMD, CFG::SIMD, CFG::ACC_BITS> {
  typedef DotPolicy<CFG::SIMD, CFG::SIMD, CFG::ACC_BITS> Base;
  static constexpr unsigned SIMD = CFG::SIMD;
  typedef typename Base::operand operand;
  typedef typename Base::w_word w_word;
  typedef typename Base::acc_t acc_t;
  typedef typename Base::sum_t sum_t;
  /// Wider signed type for the dot product 2*acc - MW.
  typedef ap_int<CFG::ACC_BITS + 2> result_t;

  /// Popcount of xnor(x, w) over the SIMD lanes of one word.
  static sum_t dot(const operand& x, const w_word& w) {
#pragma HLS INLINE
#if BITFAB_FAST_CSIM
    const Limbs<SIMD> wl(w);
    uint64_t n = 0;
    for (unsigned i = 0; i < Limbs<SIMD>::N; i++) {
      uint64_t agree = ~(x.v[i] ^ wl.v[i]);
      if (i == Limbs<SIMD>::N - 1 && SIMD % 64) agree &= (1ULL << (SIMD % 64)) - 1;
      n += __builtin_popcountll(agree);
    }
    return n;
#else
    const ap_uint<SIMD> agree = ~(x ^ w);
    ap_uint<clog2(SIMD + 1)> n = 0;
  popcount_loop:
    for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
      n += agree[s];
    }
    return acc_t(n);
#endif
  }
  /// Output without activation: the +-1 dot product, 2*popcount - MW.
  static result_t result(const acc_t& acc) {
#pragma HLS INLINE
    return result_t(2 * result_t(acc) - result_t(CFG::MW));
  }
};

/// Product of one input and one weight value, on DSPs (wide operands).
/// \tparam PB width of the product
template <unsigned PB>
struct MulDsp {
  /// \tparam A input value type (ap_int)
  /// \tparam B weight value type (ap_int)
  template <class A, class B>
  static ap_int<PB> mul(const A& a, const B& b) {
#pragma HLS INLINE
    const ap_int<PB> r = a * b;
#ifdef __SYNTHESIS__
#pragma HLS BIND_OP variable = r op = mul impl = dsp
#endif
    return r;
  }
};

/// Product of one input and one weight value, in LUTs (narrow operands).
/// \tparam PB width of the product
template <unsigned PB>
struct MulLut {
  /// \tparam A input value type (ap_int)
  /// \tparam B weight value type (ap_int)
  template <class A, class B>
  static ap_int<PB> mul(const A& a, const B& b) {
#pragma HLS INLINE
    const ap_int<PB> r = a * b;
#ifdef __SYNTHESIS__
#pragma HLS BIND_OP variable = r op = mul impl = fabric
#endif
    return r;
  }
};

/// Product when one operand is Bipolar (+1/-1): a negate-or-pass mux, no multiplier.
/// \tparam PB           width of the product
/// \tparam INPUT_IS_PM1 true when the input is the Bipolar operand, false when the weight is
template <unsigned PB, bool INPUT_IS_PM1>
struct MulSign {
  /// \tparam A input value type (ap_int)
  /// \tparam B weight value type (ap_int)
  template <class A, class B>
  static ap_int<PB> mul(const A& a, const B& b) {
#pragma HLS INLINE
    if (INPUT_IS_PM1) return a > 0 ? ap_int<PB>(b) : ap_int<PB>(-b);
    return b > 0 ? ap_int<PB>(a) : ap_int<PB>(-a);
  }
};

/// MAC mode: acc = sum over the row of decode(x) * decode(w). Same policy interface as
/// XnorPopcount.
/// \tparam CFG mvau configuration
template <class CFG>
struct MacDot : DotPolicy<CFG::SIMD * CFG::IN_BITS, CFG::SIMD * CFG::W_BITS, CFG::ACC_BITS> {
  typedef DotPolicy<CFG::SIMD * CFG::IN_BITS, CFG::SIMD * CFG::W_BITS, CFG::ACC_BITS> Base;
  static constexpr unsigned SIMD = CFG::SIMD;
  static constexpr unsigned IB = CFG::IN_BITS, WB = CFG::W_BITS;
  static constexpr unsigned PB = value_bits<CFG::IN_KIND, IB>() + value_bits<CFG::W_KIND, WB>();
  typedef typename Base::in_word in_word;
  typedef typename Base::w_word w_word;
  typedef typename Base::acc_t acc_t;
  typedef typename Base::sum_t sum_t;
  typedef acc_t result_t;
  /// Weight policy: how one product is built in hardware.
  typedef typename std::conditional<
      CFG::IN_KIND == Kind::Bipolar || CFG::W_KIND == Kind::Bipolar,
      MulSign<PB, CFG::IN_KIND == Kind::Bipolar>,
      typename std::conditional<(WB >= 4 || IB >= 4), MulDsp<PB>, MulLut<PB>>::type>::type Mul;

#if BITFAB_FAST_CSIM
  /// The decoded input values of one word (replaces the base's limbs: decoded once, used NF
  /// times).
  struct operand {
    int64_t v[SIMD];
  };
  static operand prepare(const in_word& x) {
    const FieldReader<SIMD, IB> f(x);
    operand o;
    for (unsigned s = 0; s < SIMD; s++) o.v[s] = decode_native<CFG::IN_KIND, IB>(f.raw(s));
    return o;
  }

  /// Partial dot product of one input word with one weight word (modulo 2^64).
  static sum_t dot(const operand& x, const w_word& w) {
    const Limbs<SIMD * WB> wl(w);
    uint64_t sum = 0;
    if (64 % WB == 0) {  // no weight field straddles two limbs: shift them out in order
      constexpr unsigned PER_LIMB = 64 / WB;
      for (unsigned i = 0, s = 0; i < Limbs<SIMD * WB>::N; i++) {
        uint64_t limb = wl.v[i];
        for (unsigned j = 0; j < PER_LIMB && s < SIMD; j++, s++) {
          const uint64_t f = WB == 64 ? limb : limb & ((1ULL << (WB % 64)) - 1);
          limb = WB == 64 ? 0 : limb >> (WB % 64);
          sum += uint64_t(x.v[s]) * uint64_t(decode_native<CFG::W_KIND, WB>(f));
        }
      }
    } else {
      for (unsigned s = 0; s < SIMD; s++) {
        sum += uint64_t(x.v[s]) * uint64_t(decode_native<CFG::W_KIND, WB>(wl.field(s * WB, WB)));
      }
    }
    return sum;
  }
#else
  typedef typename Base::operand operand;

  /// Partial dot product of one input word with one weight word.
  static sum_t dot(const operand& x, const w_word& w) {
#pragma HLS INLINE
    const FieldReader<SIMD, IB> xf(x);
    const FieldReader<SIMD, WB> wf(w);
    acc_t sum = 0;
  simd_loop:
    for (unsigned s = 0; s < SIMD; s++) {
#pragma HLS UNROLL
      sum += Mul::mul(decode_value<CFG::IN_KIND, IB>(xf[s]), decode_value<CFG::W_KIND, WB>(wf[s]));
    }
    return sum;
  }
#endif
  /// Output without activation: the accumulator itself.
  static result_t result(const acc_t& acc) {
#pragma HLS INLINE
    return acc;
  }
};

/// The dot-product policy of an mvau configuration: XnorPopcount when inputs and weights are
/// both Bipolar, MacDot otherwise.
/// \tparam CFG mvau configuration
template <class CFG>
struct mvau_dot {
  typedef typename std::conditional<CFG::IN_KIND == Kind::Bipolar && CFG::W_KIND == Kind::Bipolar,
                                    XnorPopcount<CFG>, MacDot<CFG>>::type type;
};

}  // namespace detail

/// Activation object of an mvau() layer without activation (N_THRES == 0): the accumulator
/// itself, in XNOR mode the +-1 dot product 2*popcount - MW, as OUT_BITS two's complement.
/// It holds nothing: a pass-through layer has no threshold table.
/// \tparam CFG mvau configuration
template <class CFG>
struct MvauPassThrough {
  static_assert(CFG::N_THRES == 0, "MvauPassThrough is the activation of a layer with N_THRES = 0");
  static_assert(!(CFG::IN_KIND == Kind::Bipolar && CFG::W_KIND == Kind::Bipolar) ||
                    CFG::MW < (1ULL << (CFG::OUT_BITS - 1)),
                "mvau: XNOR mode without thresholds outputs -MW .. MW, which must fit OUT_BITS");
  typedef ap_uint<CFG::OUT_BITS> out_t;
  /// Output field of channel nf*PE + p for its accumulator `acc`.
  /// \tparam Acc accumulator type (ap_int<ACC_BITS>)
  template <class Acc>
  out_t activate(unsigned /*nf*/, unsigned /*p*/, const Acc& acc) const {
#pragma HLS INLINE
    return PassThrough<CFG::OUT_BITS>::apply(detail::mvau_dot<CFG>::type::result(acc));
  }
};

namespace detail {

/// Chooses the activation object of an mvau configuration, see mvau_activation.
/// \tparam CFG mvau configuration
template <class CFG>
struct mvau_activation_of {
  // Checked here too: a config without MW or MH fails in the weights' array type before
  // mvau()'s own static_asserts are reached, but the activation object is declared first.
  static_assert(CFG::MW >= 1 && CFG::MH >= 1, "mvau: set MW and MH (at least 1)");
  static constexpr unsigned NF = CFG::MH / CFG::PE;
  typedef ThresholdTable<MultiThreshold<CFG::N_THRES, CFG::OUT_BIAS, CFG::OUT_KIND, CFG::OUT_BITS>,
                         CFG::PE, NF, ap_int<CFG::ACC_BITS>>
      thresholds;
  typedef ThresholdTable<ShiftRequant<CFG::N_THRES, unsigned(CFG::REQUANT_SHIFT), CFG::REQUANT_RNE,
                                      CFG::OUT_BIAS, CFG::OUT_KIND, CFG::OUT_BITS>,
                         CFG::PE, NF, ap_int<CFG::ACC_BITS>>
      shift;
  typedef typename std::conditional<
      (CFG::N_THRES == 0), MvauPassThrough<CFG>,
      typename std::conditional<(CFG::REQUANT_SHIFT >= 0), shift, thresholds>::type>::type type;
};

}  // namespace detail

/// The activation object mvau<CFG>() takes, chosen by the configuration (finn-hlslib's habit:
/// the activation owns its parameters):
///  - N_THRES == 0: MvauPassThrough<CFG>, no table;
///  - N_THRES > 0, REQUANT_SHIFT == -1: a ThresholdTable of MultiThreshold, `thresholds[p][nf][l]`
///    = threshold l of output channel nf*PE + p, ascending in l, N_THRES per channel;
///  - N_THRES > 0, REQUANT_SHIFT >= 0: a ThresholdTable of ShiftRequant, `thresholds[p][nf][0]`
///    = the offset of output channel nf*PE + p.
///
/// Entries are ap_int<ACC_BITS>. The generated parameter header defines one per layer:
/// `static const bitfab::mvau_activation<fc0_cfg> fc0_activation = {{...}};`.
/// \tparam CFG mvau configuration
template <class CFG>
using mvau_activation = typename detail::mvau_activation_of<CFG>::type;

/// Matrix-vector-activation unit (finn-hlslib style MVAU).
///
/// For each of REPS * n_images input vectors x (length MW): acc = x @ W (W is MW x MH), then
/// y[n] = activation.activate(nf, p, acc[n]) for n = nf*PE + p: with N_THRES > 0,
/// y[n] = OUT_BIAS + #{l : acc[n] >= thresholds[p][nf][l]} (or its shift-requantization
/// equivalent); with N_THRES == 0, y[n] = acc[n] (XNOR mode: the dot product 2*popcount - MW)
/// as OUT_BITS two's complement.
///
/// Accumulation: IN_KIND == W_KIND == Bipolar is XNOR mode, acc = popcount(xnor(x, w)) in
/// 0 .. MW (thresholds compare against this count). Otherwise MAC mode, acc = sum x*w of the
/// decoded values, held in ap_int<ACC_BITS>.
///
/// Stream layout (SF = MW/SIMD, NF = MH/PE):
///  - in: SF words per vector; word sf field s is x[sf*SIMD + s].
///  - weights[p][nf*SF + sf] field s is W[sf*SIMD + s][nf*PE + p].
///  - activation: see mvau_activation; the caller partitions a table's `thresholds` completely
///    in dimensions 1 and 3 (the generated top does, next to the call), as finn-hlslib's
///    callers do for its activation objects.
///  - out: NF words per vector; word nf field p is y[nf*PE + p].
///
/// The input vector is read once (while nf == 0) into a buffer and reused for nf > 0; the
/// single loop over REPS*n_images*NF*SF tiles runs at II=1.
/// \tparam CFG configuration struct derived from mvau_config
template <class CFG>
void mvau(hls::stream<ap_uint<CFG::SIMD * CFG::IN_BITS>>& in,
          hls::stream<ap_uint<CFG::PE * CFG::OUT_BITS>>& out,
          const ap_uint<CFG::SIMD * CFG::W_BITS>
              weights[CFG::PE][(CFG::MH / CFG::PE) * (CFG::MW / CFG::SIMD)],
          const mvau_activation<CFG>& activation, unsigned n_images) {
#pragma HLS INLINE off
  static_assert(CFG::MW >= 1 && CFG::MH >= 1, "mvau: set MW and MH (at least 1)");
  static_assert(CFG::SIMD >= 1 && CFG::PE >= 1, "SIMD and PE must be at least 1");
  static_assert(CFG::MW % CFG::SIMD == 0, "mvau: MW must be divisible by SIMD");
  static_assert(CFG::MH % CFG::PE == 0, "mvau: MH must be divisible by PE");
  static_assert(CFG::IN_KIND != Kind::Bipolar || CFG::IN_BITS == 1,
                "mvau: a Bipolar input is IN_BITS = 1");
  static_assert(CFG::W_KIND != Kind::Bipolar || CFG::W_BITS == 1,
                "mvau: a Bipolar weight is W_BITS = 1");
  static_assert(CFG::IN_BITS >= 1 && CFG::IN_BITS <= 32, "mvau: IN_BITS must be in [1, 32]");
  static_assert(CFG::W_BITS >= 1 && CFG::W_BITS <= 32, "mvau: W_BITS must be in [1, 32]");
  static_assert(CFG::ACC_BITS >= 2 && CFG::ACC_BITS <= 32, "mvau: ACC_BITS must be in [2, 32]");
  static_assert(CFG::OUT_BITS >= 1 && CFG::OUT_BITS <= 32, "mvau: OUT_BITS must be in [1, 32]");
  static_assert(CFG::OUT_KIND != Kind::Bipolar,
                "mvau: OUT_KIND is Signed or Unsigned (a bipolar activation is Unsigned, "
                "OUT_BITS = 1, N_THRES = 1, OUT_BIAS = 0)");
  static_assert(CFG::REQUANT_SHIFT >= -1, "mvau: REQUANT_SHIFT is -1 (thresholds) or a shift");

  constexpr bool XNOR = CFG::IN_KIND == Kind::Bipolar && CFG::W_KIND == Kind::Bipolar;
  static_assert(!XNOR || CFG::MW < (1ULL << (CFG::ACC_BITS - 1)),
                "mvau: XNOR mode counts up to MW, which must fit ap_int<ACC_BITS>");

  typedef typename detail::mvau_dot<CFG>::type Dot;
  typedef typename Dot::sum_t sum_t;
  typedef typename Dot::operand operand;

  constexpr unsigned SF = CFG::MW / CFG::SIMD;
  constexpr unsigned NF = CFG::MH / CFG::PE;
  constexpr unsigned TILES = SF * NF;

  operand inbuf[SF];
  sum_t acc[CFG::PE];
#pragma HLS ARRAY_PARTITION variable = acc complete dim = 1
#pragma HLS ARRAY_PARTITION variable = weights complete dim = 1

  static_assert(CFG::REPS >= 1, "mvau: REPS is at least 1");
  const unsigned iterations = CFG::REPS * n_images * TILES;
  unsigned sf = 0, nf = 0, tile = 0;
mvau_loop:
  for (unsigned i = 0; i < iterations; i++) {
#pragma HLS PIPELINE II = 1 style = flp
    // Invariant: sf == i % SF, nf == (i / SF) % NF, tile == nf * SF + sf == i % TILES;
    // acc[p] holds the partial sum of output channel nf*PE + p over input words 0 .. sf-1.
    operand x;
    if (nf == 0) {
      x = Dot::prepare(in.read());
      inbuf[sf] = x;
    } else {
      x = inbuf[sf];
    }
  pe_loop:
    for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
      const sum_t part = Dot::dot(x, weights[p][tile]);
      acc[p] = (sf == 0) ? part : sum_t(acc[p] + part);
    }
    if (sf == SF - 1) {
      detail::FieldWriter<CFG::PE, CFG::OUT_BITS> y;
    out_loop:
      for (unsigned p = 0; p < CFG::PE; p++) {
#pragma HLS UNROLL
        y.set(p, activation.activate(nf, p, Dot::finish(acc[p])));
      }
      out.write(y.word());
    }
    if (++tile == TILES) tile = 0;
    if (++sf == SF) {
      sf = 0;
      if (++nf == NF) nf = 0;
    }
  }
}

}  // namespace bitfab
