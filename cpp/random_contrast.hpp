// RandomContrast, as Keras 3's: in training each image gets a factor f
// drawn from [1 - lower, 1 + upper] and, per channel,
//   out = clip((x - mean) * f + mean, value_range)
// with the mean over height and width; at inference the identity.
#pragma once

#include "random_layer.hpp"

#include <vector>

namespace fmnistcpp {

class RandomContrast : public RandomLayer {
 public:
  // Keras's `factor` (bounds [0, 1]), `value_range`, `seed`, `data_format`.
  explicit RandomContrast(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  float min_factor_, max_factor_, low_, high_;
  bool active_ = false;
  std::vector<float> factor_;      // per image of the last training batch
  std::vector<unsigned char> inside_;  // per element: not clipped (the gradient passes)
};

}  // namespace fmnistcpp
