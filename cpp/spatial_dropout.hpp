// SpatialDropout2D, as Keras 3's: Dropout with one draw per (sample,
// channel), so whole feature maps are dropped (kept ones scaled by
// 1 / (1 - rate)); the identity at inference.
#pragma once

#include "aligned_buffer.hpp"
#include "random_layer.hpp"

namespace fmnistcpp {

class SpatialDropout2D : public RandomLayer {
 public:
  // Keras's `rate`, `seed`, `data_format` (channels_last or channels_first).
  explicit SpatialDropout2D(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  // dst = src * the mask of its (sample, channel)
  void apply(const float* src, float* dst) const;
  float rate_;
  bool channels_first_;
  int64_t channels_ = 0, pixels_ = 0;
  bool masked_ = false;
  std::vector<float> scale_;  // [batch, channels]: 0 or 1 / (1 - rate)
};

}  // namespace fmnistcpp
