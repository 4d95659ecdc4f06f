// Flatten and Reshape: the same memory seen with another shape. Channels-last
// order is already Keras's flatten order, so nothing moves.
#pragma once

#include "layer.hpp"

#include <stdexcept>

namespace fmnistcpp {

class Reshape : public Layer {
 public:
  // An empty target means Flatten.
  explicit Reshape(Shape target) : target_(std::move(target)) {}
  const char* kind() const override { return target_.empty() ? "Flatten" : "Reshape"; }
  Shape build(const Shape& input) override {
    input_ = input;
    if (target_.empty()) {
      output_ = {shape_size(input)};
    } else {
      if (shape_size(target_) != shape_size(input))
        throw std::invalid_argument("Reshape: total size of the new shape " + shape_str(target_) +
                                    " must equal that of the input " + shape_str(input));
      output_ = target_;
    }
    return output_;
  }
  void prepare(int64_t batch) override { batch_ = batch; }
  bool is_view() const override { return true; }
  // The network aliases dst to src and diff_src to diff_dst; nothing to do.
  void forward(const float*, float*, const ForwardMode&) override {}
  void backward(const float*, const float*, const float*, float*) override {}

 private:
  Shape target_;
};

}  // namespace fmnistcpp
