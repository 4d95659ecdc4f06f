// GlobalAveragePooling2D, channels last: (H, W, C) -> (C,), or (1, 1, C)
// with Keras's `keepdims`. The mean over H*W per channel, as Keras's ops.mean.
#pragma once

#include "layer.hpp"

namespace fmnistcpp {

class GlobalAveragePooling2D : public Layer {
 public:
  explicit GlobalAveragePooling2D(Config config);
  void prepare(int64_t batch) override { batch_ = batch; }
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  bool keepdims_;
};

}  // namespace fmnistcpp
