// Dense: activation(inputs @ kernel + bias), Keras's arguments `units`,
// `activation`, `use_bias`. Kernel (in, units), bias (units).
#pragma once

#include "weighted_layer.hpp"

namespace fmnistcpp {

class Dense : public WeightedLayer {
 public:
  explicit Dense(Config config);
  void prepare(int64_t batch) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t units_;
};

}  // namespace fmnistcpp
