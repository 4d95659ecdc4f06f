// Dense: y = act(x @ kernel + bias). Kernel (in, out), bias (out).
// Only 2-D inputs (batch, features): Keras's Dense on higher-rank inputs
// (applied to the last axis) is refused in Python with NotImplementedError.
#pragma once

#include "weighted_layer.hpp"

namespace fmnistcpp {

class Dense : public WeightedLayer {
 public:
  Dense(int64_t units, Activation activation, bool use_bias);
  const char* kind() const override { return "Dense"; }
  Shape build(const Shape& input) override;
  void prepare(int64_t batch) override;

 private:
  int64_t units_;
};

}  // namespace fmnistcpp
