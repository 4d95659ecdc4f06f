// A layer's variable in Keras's layout and its gradient. The optimizer's
// per-variable state (Adam's moments, ...) lives in the optimizer.
#pragma once

#include "aligned_buffer.hpp"
#include "constraint.hpp"

#include <cstdint>
#include <string>
#include <vector>

namespace fmnistcpp {

struct Param {
  std::string name;             // Keras's variable name: "kernel", "bias", "gamma", ...
  std::vector<int64_t> shape;   // Keras layout: conv (kh, kw, in, out), dense (in, out)
  AlignedVector value;
  AlignedVector grad;
  uint64_t version = 0;         // bumped on every change, so layers know when to re-layout
  // value rounded to bfloat16, for a layer that reads it so under a bf16
  // policy (WeightsLayout sizes it); valid while bf16_version == version.
  // An optimizer may write it in the pass that updates value, which saves
  // reading the weights a second time to convert them.
  std::vector<uint16_t, CacheLineAllocator<uint16_t>> bf16;
  uint64_t bf16_version = ~uint64_t(0);
  // Keras's add_weight(trainable=...): false for statistics a layer updates
  // itself (moving mean/variance). Freezing a layer is the network's
  // business (decided at compile), not a property of the variable.
  bool trainable = true;
  float l1 = 0.f, l2 = 0.f;     // regularizer: loss += l1 * sum|w| + l2 * sum(w^2)
  Constraint constraint;        // applied after each optimizer step (constraint.hpp)

  Param(std::string n, std::vector<int64_t> s, bool is_trainable = true);
  int64_t size() const { return static_cast<int64_t>(value.size()); }
};

}  // namespace fmnistcpp
