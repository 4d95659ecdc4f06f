// Conv2D: Keras's 2-D convolution, channels last, with bias and activation
// fused. Kernel (kh, kw, in, out), bias (out). Padding 'valid' or 'same'
// (Keras's split: the extra row/column goes after).
#pragma once

#include "weighted_layer.hpp"

namespace fmnistcpp {

class Conv2D : public WeightedLayer {
 public:
  Conv2D(int64_t filters, int64_t kernel_h, int64_t kernel_w, int64_t stride_h, int64_t stride_w,
         bool same_padding, Activation activation, bool use_bias);
  const char* kind() const override { return "Conv2D"; }
  Shape build(const Shape& input) override;
  void prepare(int64_t batch) override;

 private:
  int64_t filters_, kh_, kw_, sh_, sw_;
  bool same_padding_;
  Dims pad_l_, pad_r_;
};

// Keras's output length and padding for one spatial axis ('same' puts
// total/2 before and the rest after). Shared with the pooling layers.
void window_geometry(int64_t in, int64_t k, int64_t s, bool same, int64_t& out,
                     int64_t& pad_before, int64_t& pad_after);

}  // namespace fmnistcpp
