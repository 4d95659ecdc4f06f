// MaxPooling2D and AveragePooling2D, Keras's arguments `pool_size` (2),
// `strides` (default: pool_size), `padding`, `data_format`. Keras's 'same'
// padding ignores padded cells (max over real cells; average over real
// cells only). MaxPooling1D and AveragePooling1D are the same over one row:
// (steps, channels), or (channels, steps) in channels_first.
#pragma once

#include "aligned_buffer.hpp"
#include "dnnl_context.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class Pooling2D : public Layer {
 public:
  explicit Pooling2D(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  bool max_;
  int rank_;
  std::vector<int64_t> pool_, strides_;  // (height, width); rank 1: height 1
  bool same_padding_, channels_first_;
  Shape in_hwc_;
  Dims pad_l_, pad_r_;
  dnnl::pooling_forward fwd_train_, fwd_infer_;
  dnnl::pooling_backward bwd_;
  dnnl::memory src_m_, dst_m_, diff_dst_m_, diff_src_m_, workspace_m_;
};

}  // namespace fmnistcpp
