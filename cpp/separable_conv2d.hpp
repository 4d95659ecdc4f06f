// SeparableConv2D: a depthwise convolution (each input channel with its own
// `depth_multiplier` filters; no bias) followed by a 1x1 convolution to
// `filters` channels with bias and activation, as Keras's separable_conv.
// Arguments as Conv2D (conv2d.hpp) without groups, plus `depth_multiplier`;
// strides > 1 with dilation_rate > 1 is allowed, as in Keras. Weights in
// Keras's order: depthwise_kernel (kh, kw, channels, multiplier),
// pointwise_kernel (1, 1, channels * multiplier, filters), bias (filters).
// The pointwise step is WeightedLayer's convolution; the depthwise one runs
// before it into a buffer kept for backward.
#pragma once

#include "conv2d.hpp"

namespace fmnistcpp {

class SeparableConv2D : public ConvBase {
 public:
  explicit SeparableConv2D(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t filters_, multiplier_;
  std::unique_ptr<Param> depthwise_;
  // the depthwise step: input -> mid_ (channels * multiplier)
  dnnl::primitive dw_fwd_, dw_bwd_data_, dw_bwd_weights_;
  WeightsLayout dw_fwd_weights_, dw_bwd_data_weights_;
  GradientLayout dw_diff_weights_;
  dnnl::memory dw_src_m_, dw_mid_m_, dw_diff_mid_m_, dw_diff_src_m_;
  AlignedBuffer mid_, diff_mid_;
};

}  // namespace fmnistcpp
