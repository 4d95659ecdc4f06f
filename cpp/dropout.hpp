// Dropout (inverted, as Keras): in training each element is kept with
// probability 1 - rate and scaled by 1 / (1 - rate); at inference it is the
// identity. The mask comes from a counter-based hash of (seed, element), so
// it is the same whatever the thread count.
#pragma once

#include "aligned_buffer.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class Dropout : public Layer {
 public:
  // Keras's `rate`, and `seed` (mixed into the network's per-batch seeds).
  explicit Dropout(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  bool backward_in_place() const override { return true; }
  void set_seed(uint64_t seed) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override { return inputs[0]; }
  float rate_;
  uint64_t user_seed_ = 0;
  uint64_t seed_ = 0;
  bool masked_ = false;  // whether the last forward applied the mask
  AlignedBuffer scale_;  // 0 or 1/(1-rate) per element of the last training batch
};

}  // namespace fmnistcpp
