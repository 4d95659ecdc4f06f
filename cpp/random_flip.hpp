// RandomFlip, as Keras 3's: in training each image is flipped with
// probability 1/2, left-right ("horizontal"), upside down ("vertical"), or
// both at once ("horizontal_and_vertical": one draw per image decides both,
// as in Keras); at inference it is the identity.
#pragma once

#include "random_layer.hpp"

#include <vector>

namespace fmnistcpp {

class RandomFlip : public RandomLayer {
 public:
  // Keras's `mode`, `seed`, `data_format`.
  explicit RandomFlip(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  // dst = src with the flipped images flipped (a flip is its own inverse).
  void apply(const float* src, float* dst) const;
  bool horizontal_, vertical_;
  bool active_ = false;
  std::vector<char> flipped_;  // per image of the last training batch
};

}  // namespace fmnistcpp
