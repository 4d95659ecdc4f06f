// AlphaDropout, as Keras 3's: in training, each element is kept with
// probability 1 - rate, the others are set to SELU's negative saturation
// alpha' = -scale * alpha, and the result is mapped by a * x + b so that
// mean and variance are kept:
//   a = ((1 - rate) * (1 + rate * alpha'^2))^-1/2,  b = -a * alpha' * rate.
// At inference it is the identity.
#pragma once

#include "aligned_buffer.hpp"
#include "random_layer.hpp"

namespace fmnistcpp {

class AlphaDropout : public RandomLayer {
 public:
  // Keras's `rate`, `seed`; `noise_shape` only None.
  explicit AlphaDropout(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override { return inputs[0]; }
  float rate_, a_, b_, alpha_p_;
  bool masked_ = false;
  AlignedBuffer slope_;  // a where kept, 0 where dropped: d(out)/d(in)
};

}  // namespace fmnistcpp
