// A trainable tensor in Keras's layout, its gradient, and the optimizer's
// per-parameter state.
#pragma once

#include "aligned_buffer.hpp"
#include "checked_math.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fmnistcpp {

struct Param {
  std::string name;             // "kernel" or "bias", as Keras names them
  std::vector<int64_t> shape;   // Keras layout: conv (kh, kw, in, out), dense (in, out)
  AlignedVector value;
  AlignedVector grad;
  AlignedVector slot1;          // Adam m / SGD momentum
  AlignedVector slot2;          // Adam v
  uint64_t version = 0;         // bumped on every change, so layers know when to re-layout
  bool trainable = true;        // false: in get/set_weights and files, never seen by the optimizer
  float l2 = 0.f;               // kernel_regularizer=l2(l2): loss += l2 * sum(w^2)

  Param(std::string n, std::vector<int64_t> s) : name(std::move(n)), shape(std::move(s)) {
    const int64_t size = checked_size(shape, "a weight of shape");
    value.assign(size, 0.f);
    grad.assign(size, 0.f);
  }
  int64_t size() const { return static_cast<int64_t>(value.size()); }
};

}  // namespace fmnistcpp
