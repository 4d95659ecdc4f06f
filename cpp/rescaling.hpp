// Rescaling, as Keras 3's: out = in * scale + offset (float32), in training
// and inference. scale and offset are numbers, or tuples with one value per
// channel (the last axis), broadcast as Keras broadcasts them.
#pragma once

#include "layer.hpp"

namespace fmnistcpp {

class Rescaling : public Layer {
 public:
  // Keras's `scale`, `offset`.
  explicit Rescaling(Config config);
  void prepare(int64_t batch) override { batch_ = batch; }
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  std::vector<float> scale_, offset_;  // 1 or `channels` values each
  int64_t channels_ = 1;
};

}  // namespace fmnistcpp
