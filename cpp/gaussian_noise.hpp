// GaussianNoise and GaussianDropout, as Keras 3's: in training,
// GaussianNoise adds N(0, stddev^2) noise and GaussianDropout multiplies by
// N(1, rate / (1 - rate)) noise, elementwise; at inference both are the
// identity. The noise of element i of a batch is a function of (seed, i).
#pragma once

#include "aligned_buffer.hpp"
#include "random_layer.hpp"

namespace fmnistcpp {

class GaussianNoise : public RandomLayer {
 public:
  // GaussianNoise: Keras's `stddev`, `seed`; GaussianDropout: `rate`, `seed`.
  explicit GaussianNoise(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override { return inputs[0]; }
  bool multiplicative_;   // GaussianDropout
  float stddev_;
  bool noisy_ = false;    // whether the last forward added noise
  AlignedBuffer factor_;  // GaussianDropout: the multiplier of each element
};

}  // namespace fmnistcpp
