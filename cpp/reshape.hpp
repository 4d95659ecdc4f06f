// Flatten and Reshape: the same memory seen with another shape. Channels-last
// order is already Keras's flatten order, so nothing moves: the network
// aliases the output (and its gradient) to the input.
#pragma once

#include "layer.hpp"

namespace fmnistcpp {

class Reshape : public Layer {
 public:
  // Flatten takes `data_format`; Reshape takes `target_shape`, in which one
  // dimension may be -1 (inferred, as in Keras).
  explicit Reshape(Config config);
  void prepare(int64_t batch) override { batch_ = batch; }
  bool is_view() const override { return true; }
  void forward(const Sources&, float*, const ForwardMode&) override {}
  void backward(const Sources&, const float*, float*, const SourceGrads&) override {}

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  bool flatten_;
  Shape target_;
};

}  // namespace fmnistcpp
