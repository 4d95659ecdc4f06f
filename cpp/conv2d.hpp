// Conv2D: Keras's 2-D convolution, channels last, with bias and activation
// fused. Arguments `filters`, `kernel_size`, `strides`, `padding`
// ('valid' or 'same': Keras's split, the extra row/column goes after),
// `activation`, `use_bias`. Kernel (kh, kw, in, out), bias (out).
#pragma once

#include "weighted_layer.hpp"

namespace fmnistcpp {

class Conv2D : public WeightedLayer {
 public:
  explicit Conv2D(Config config);
  void prepare(int64_t batch) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t filters_;
  std::vector<int64_t> kernel_, strides_;
  bool same_padding_;
  Dims pad_l_, pad_r_;
};

// Keras's output length and padding for one spatial axis ('same' puts
// total/2 before and the rest after). Shared with the pooling layers.
void window_geometry(int64_t in, int64_t k, int64_t s, bool same, int64_t& out,
                     int64_t& pad_before, int64_t& pad_after);

// Output (height, width) of a 2-D window op on a (height, width, channels)
// input; throws when the window does not fit with 'valid' padding.
// pad_l/pad_r receive the (top, left) and (bottom, right) padding.
std::vector<int64_t> window_output(const std::string& layer, const char* window_name,
                                   const Shape& input, const std::vector<int64_t>& window,
                                   const std::vector<int64_t>& strides, bool same, Dims& pad_l,
                                   Dims& pad_r);

}  // namespace fmnistcpp
