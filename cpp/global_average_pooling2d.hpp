// GlobalAveragePooling2D, channels last: (H, W, C) -> (C,), or (1, 1, C)
// with keepdims. The mean over H*W per channel, as Keras's ops.mean.
#pragma once

#include "layer.hpp"

namespace fmnistcpp {

class GlobalAveragePooling2D : public Layer {
 public:
  explicit GlobalAveragePooling2D(bool keepdims) : keepdims_(keepdims) {}
  const char* kind() const override { return "GlobalAveragePooling2D"; }
  Shape build(const Shape& input) override;
  void prepare(int64_t batch) override { batch_ = batch; }
  void forward(const float* src, float* dst, const ForwardMode& mode) override;
  void backward(const float* src, const float* dst, const float* diff_dst,
                float* diff_src) override;

 private:
  bool keepdims_;
};

}  // namespace fmnistcpp
