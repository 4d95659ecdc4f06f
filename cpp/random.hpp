// Random numbers that do not depend on the order they are drawn in.
#pragma once

#include <cstdint>

namespace fmnistcpp {

// SplitMix64's finaliser: a bijective mix with good avalanche, enough for
// dropout masks and seeds derived from (seed, counter).
inline uint64_t mix64(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// Uniform in [0, 1) from the top 24 bits (exact in float32).
inline float uniform01(uint64_t seed, uint64_t counter) {
  return static_cast<float>(mix64(seed ^ mix64(counter)) >> 40) * (1.0f / 16777216.0f);
}

}  // namespace fmnistcpp
