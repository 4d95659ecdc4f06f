// Sizes in the engine are int64 element counts. Every product of shapes
// and batch sizes goes through here, so a huge layer, shape or batch is a
// clear ValueError instead of a wrapped size: a wrapped size means a small
// buffer that oneDNN then writes far past (and oneDNN 3.2's own memory
// descriptor sizes overflow too; fixed in oneDNN 3.11.2).
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fmnistcpp {

// At most 2**60 floats (4 EiB) in one tensor: far beyond any memory, and low
// enough that the byte counts made from it (times 4, rounded up to a cache
// line, summed over a few buffers) stay inside int64 and size_t.
constexpr int64_t kMaxElements = int64_t(1) << 60;

inline int64_t checked_mul(int64_t a, int64_t b, const std::string& what) {
  int64_t r = 0;
  if (a < 0 || b < 0 || __builtin_mul_overflow(a, b, &r) || r > kMaxElements)
    throw std::invalid_argument(what + ": " + std::to_string(a) + " x " + std::to_string(b) +
                                " elements, more than the 2**60 one tensor can hold");
  return r;
}

[[noreturn]] inline void bad_size(const std::vector<int64_t>& dims, const char* what,
                                  const char* problem) {
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i) shape += (i ? ", " : "") + std::to_string(dims[i]);
  throw std::invalid_argument(std::string(what) + " " + shape + ") " + problem);
}

// Elements of a shape; throws std::invalid_argument (a ValueError) for a
// negative dimension or more than kMaxElements.
inline int64_t checked_size(const std::vector<int64_t>& dims, const char* what = "a shape") {
  int64_t n = 1;
  for (auto d : dims) {
    if (d < 0) bad_size(dims, what, "has a negative dimension");
    if (__builtin_mul_overflow(n, d, &n) || n > kMaxElements)
      bad_size(dims, what, "has more than the 2**60 elements one tensor can hold");
  }
  return n;
}

// The network's buffers for a batch each hold at most batch x the widest
// per-sample tensor (the input or a layer's output): one check covers them.
template <class Layers>
void check_batch_fits(int64_t batch, const std::vector<int64_t>& input, const Layers& layers) {
  int64_t widest = checked_size(input, "the input shape");
  for (const auto& l : layers)
    widest = std::max(widest, checked_size(l->output_shape(), "a layer's output shape"));
  checked_mul(batch, widest, "a batch of activations");
}

}  // namespace fmnistcpp
