/// \file csim_init.hpp
/// \brief C-simulation only: fill ap_uint/ap_int parameter memories from plain integer tables,
/// or from parameter data files.
///
/// g++ compiles large tables of `ap_uint<W>("0x...", 16)` initializers very slowly (minutes
/// for a few thousand words), so generated parameter headers give g++ plain uint64_t limbs
/// and build the ap_uint words once when the library loads. Synthesis sees the
/// ap_uint initializers instead. The kernel testbenches (hls/tests/tb_check.hpp) load their
/// generated tables with the same functions.
///
/// Even plain tables make compile time and memory grow with the weight count (MobileNet-v1 has
/// 4.2 M weights). With `BITFAB_PARAMS_FROM_FILES` (the C-sim library's g++ compile,
/// flows/sim/csim.py) a parameter header only declares its tables and registers them with
/// words_from_file() / ints_from_file(); load_param_files(dir) fills them from the data files
/// the codegen writes next to the headers (hls/params/<layer>.<table>.bin). Their layout, all
/// integers little-endian (writer: flows/codegen/param_files.py):
///
///     offset  size  field
///          0     8  magic "BFPARAM\0"
///          8     4  format version, 1
///         12     4  kind: 1 = words (unsigned, W bits), 2 = ints (two's complement, W bits)
///         16     4  W, bits per entry
///         20     4  L, 64-bit limbs per entry: limbs_per_word(W) for words, 1 for ints
///         24     8  N, entries
///         32     4  CRC-32 (IEEE 802.3, as zlib.crc32) of the payload
///         36     4  0
///         40  8*N*L payload: entry k is limbs [k*L, k*L+L), least significant limb first;
///                   an int is one int64
///
/// Every field is checked against what the library was compiled for, and every entry against
/// its width, so a missing, short, padded, corrupt or foreign file is an error naming the file,
/// never wrong parameters.
#pragma once

#ifndef __SYNTHESIS__
#include <ap_int.h>
#include <stdint.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

namespace bitfab {

/// Number of 64-bit limbs of one word of `bits` bits.
constexpr unsigned long limbs_per_word(unsigned long bits) { return (bits + 63) / 64; }

/// words[k] = the W-bit word held in limbs[k*L .. k*L+L), L = limbs_per_word(W), LSB limb first.
/// Returns true, so that a static bool can run it once when the library loads.
/// \tparam W bits per word
template <int W>
bool load_words(const uint64_t* limbs, ap_uint<W>* words, unsigned long n) {
  const unsigned long L = limbs_per_word(W);
load_words_loop:
  for (unsigned long k = 0; k < n; k++) {
    ap_uint<W> w = 0;
    for (unsigned long i = 0; i < L; i++) w |= ap_uint<W>(limbs[k * L + i]) << (64 * i);
    words[k] = w;
  }
  return true;
}

/// values[k] = ints[k] for an ap_int table seen as flat. Returns true, as load_words() does.
/// \tparam W bits per value
template <int W>
bool load_ints(const long long* ints, ap_int<W>* values, unsigned long n) {
load_ints_loop:
  for (unsigned long k = 0; k < n; k++) values[k] = ints[k];
  return true;
}

/// The parameter data file format (see the file comment).
namespace param_file {
constexpr char MAGIC[8] = {'B', 'F', 'P', 'A', 'R', 'A', 'M', '\0'};
constexpr uint32_t VERSION = 1;
constexpr uint32_t WORDS = 1;
constexpr uint32_t INTS = 2;
constexpr unsigned long HEADER_BYTES = 40;
}  // namespace param_file

/// One table a data file fills: registered by the parameter header, filled by
/// load_param_files().
struct ParamTable {
  const char* file;  ///< file name inside the parameter directory
  uint32_t kind;     ///< param_file::WORDS or param_file::INTS
  uint32_t bits;     ///< bits per entry
  unsigned long entries;
  void* dst;  ///< the first entry of the table
  /// copies the checked payload (L limbs an entry) into dst
  void (*fill)(const uint64_t* payload, void* dst, unsigned long n);
};

// Internal linkage: a static of an ordinary inline function is one object for the whole
// process (STB_GNU_UNIQUE), which two C-sim libraries loaded by one host would share.
namespace {
/// The tables of this library, in the order their headers registered them.
inline std::vector<ParamTable>& param_tables() {
  static std::vector<ParamTable> tables;
  return tables;
}
}  // namespace

namespace detail {
template <int W>
void fill_words(const uint64_t* payload, void* dst, unsigned long n) {
  load_words<W>(payload, static_cast<ap_uint<W>*>(dst), n);
}

template <int W>
void fill_ints(const uint64_t* payload, void* dst, unsigned long n) {
  ap_int<W>* values = static_cast<ap_int<W>*>(dst);
  for (unsigned long k = 0; k < n; k++) values[k] = static_cast<long long>(payload[k]);
}

inline uint64_t le_bytes(const unsigned char* p, int n) {
  uint64_t v = 0;
  for (int i = n - 1; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), the checksum of zlib.crc32.
inline uint32_t crc32(const unsigned char* p, unsigned long n) {
  uint32_t table[256];  // not static: see param_tables()
  for (uint32_t i = 0; i < 256; i++) {
    uint32_t c = i;
    for (int k = 0; k < 8; k++) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    table[i] = c;
  }
  uint32_t c = 0xFFFFFFFFu;
  for (unsigned long i = 0; i < n; i++) c = table[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

inline std::string describe(uint32_t kind, uint32_t bits, unsigned long entries) {
  const char* what = kind == param_file::WORDS ? "words" : kind == param_file::INTS ? "ints" : "?";
  return std::to_string(entries) + " " + std::to_string(bits) + "-bit " + what;
}

/// Why `path` cannot fill `t` ("" when it can, and then it has).
inline std::string load_table(const std::string& path, const ParamTable& t) {
  const unsigned long limbs = t.kind == param_file::WORDS ? limbs_per_word(t.bits) : 1;
  const unsigned long want = param_file::HEADER_BYTES + 8 * limbs * t.entries;
  std::FILE* f = std::fopen(path.c_str(), "rb");
  if (!f) return std::string("cannot open: ") + std::strerror(errno);
  std::vector<unsigned char> bytes(want + 1);  // one more: a longer file is detected
  const unsigned long got = std::fread(bytes.data(), 1, bytes.size(), f);
  std::fclose(f);
  if (got < param_file::HEADER_BYTES || std::memcmp(bytes.data(), param_file::MAGIC, 8) != 0)
    return "not a bitfab parameter file (no \"BFPARAM\" header); it is truncated or overwritten";
  const unsigned char* h = bytes.data();
  const uint32_t version = le_bytes(h + 8, 4), kind = le_bytes(h + 12, 4);
  const uint32_t bits = le_bytes(h + 16, 4), file_limbs = le_bytes(h + 20, 4);
  const uint64_t entries = le_bytes(h + 24, 8);
  const uint32_t crc = le_bytes(h + 32, 4);
  if (version != param_file::VERSION)
    return "format version " + std::to_string(version) + ", this library reads version " +
           std::to_string(param_file::VERSION);
  if (kind != t.kind || bits != t.bits || entries != t.entries || file_limbs != limbs)
    return "holds " + describe(kind, bits, entries) + ", the C-simulation library expects " +
           describe(t.kind, t.bits, t.entries) +
           ": the data files and the library come from different designs";
  if (got != want)
    return std::string(got > want ? "longer" : "shorter") + " than its header says (" +
           std::to_string(want) + " bytes): the file is truncated or padded";
  const unsigned char* payload = h + param_file::HEADER_BYTES;
  if (crc32(payload, want - param_file::HEADER_BYTES) != crc)
    return "payload checksum (CRC-32) mismatch: the file is corrupt";
  std::vector<uint64_t> values(limbs * t.entries);
  for (unsigned long i = 0; i < values.size(); i++) values[i] = le_bytes(payload + 8 * i, 8);
  // an entry wider than its table would be cut silently by the ap_ types
  const bool partial = t.kind == param_file::WORDS ? t.bits % 64 != 0 : t.bits < 64;
  for (unsigned long k = 0; partial && k < t.entries; k++) {
    const uint64_t top = values[k * limbs + limbs - 1];
    const bool fits = t.kind == param_file::WORDS
                          ? (top >> (t.bits % 64)) == 0
                          : static_cast<int64_t>(top) >> (t.bits - 1) == 0 ||
                                static_cast<int64_t>(top) >> (t.bits - 1) == -1;
    if (!fits)
      return "entry " + std::to_string(k) + " does not fit in " + std::to_string(t.bits) +
             " bits: the file is corrupt";
  }
  t.fill(values.data(), t.dst, t.entries);
  return "";
}
}  // namespace detail

/// Register `words` (n W-bit words) to be filled from the data file `file`. Returns true, so
/// that a static bool can run it when the library loads.
/// \tparam W bits per word
template <int W>
bool words_from_file(const char* file, ap_uint<W>* words, unsigned long n) {
  param_tables().push_back({file, param_file::WORDS, W, n, words, &detail::fill_words<W>});
  return true;
}

/// Register `values` (n W-bit ints) to be filled from the data file `file`, as
/// words_from_file() does.
/// \tparam W bits per value
template <int W>
bool ints_from_file(const char* file, ap_int<W>* values, unsigned long n) {
  param_tables().push_back({file, param_file::INTS, W, n, values, &detail::fill_ints<W>});
  return true;
}

/// Fill every registered table from `dir`/<file>. Returns "" on success, else the reason,
/// starting with the path of the first file that could not be used.
inline std::string load_param_files(const std::string& dir) {
  for (const ParamTable& t : param_tables()) {
    const std::string path = dir + "/" + t.file;
    const std::string why = detail::load_table(path, t);
    if (!why.empty()) return path + ": " + why;
  }
  return "";
}

}  // namespace bitfab
#endif
