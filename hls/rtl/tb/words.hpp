// Stream words of any width between files and Verilator ports (bitfab RTL testbenches).
//
// Verilator holds a port of up to 8/16/32/64 bits in a C integer and a wider one in a
// VlWide<N> of 32-bit limbs; these overloads move a word held as 32-bit limbs (LSB first)
// into and out of either, so one harness serves every width.
#pragma once

#include <cstdint>
#include <cstdio>
#include <string>
#include <vector>

#include "verilated.h"

namespace tb {

typedef std::vector<uint32_t> Word;  // 32-bit limbs, least significant first

inline Word parse_hex(const std::string& s) {
  Word w;
  int n = static_cast<int>(s.size());
  for (int end = n; end > 0; end -= 8) {
    int begin = end - 8 < 0 ? 0 : end - 8;
    w.push_back(static_cast<uint32_t>(std::stoul(s.substr(begin, end - begin), nullptr, 16)));
  }
  if (w.empty()) w.push_back(0);
  return w;
}

inline std::string to_hex(const Word& w) {
  std::string s;
  char buf[9];
  for (size_t i = w.size(); i-- > 0;) {
    std::snprintf(buf, sizeof buf, "%08x", w[i]);
    s += buf;
  }
  size_t nz = s.find_first_not_of('0');
  return nz == std::string::npos ? "0" : s.substr(nz);
}

inline uint32_t limb(const Word& w, size_t i) { return i < w.size() ? w[i] : 0; }

template <class T>
void put(T& port, const Word& w) {
  uint64_t v = limb(w, 0) | (static_cast<uint64_t>(limb(w, 1)) << 32);
  port = static_cast<T>(v);
}

template <std::size_t N>
void put(VlWide<N>& port, const Word& w) {
  for (std::size_t i = 0; i < N; i++) port[i] = limb(w, i);
}

template <class T>
Word get(const T& port) {
  uint64_t v = static_cast<uint64_t>(port);
  return Word{static_cast<uint32_t>(v), static_cast<uint32_t>(v >> 32)};
}

template <std::size_t N>
Word get(const VlWide<N>& port) {
  Word w(N);
  for (std::size_t i = 0; i < N; i++) w[i] = port[i];
  return w;
}

/// A small deterministic generator (xorshift64*) for valid/ready gaps: the same seed gives the
/// same gaps on every machine.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 2654435761ULL + 0x9E3779B97F4A7C15ULL) {}
  uint32_t next() {
    s ^= s >> 12;
    s ^= s << 25;
    s ^= s >> 27;
    return static_cast<uint32_t>((s * 2685821657736338717ULL) >> 32);
  }
  bool percent(unsigned p) { return next() % 100 < p; }
};

}  // namespace tb
