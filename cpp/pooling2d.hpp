// MaxPooling2D and AveragePooling2D, channels last. Keras's 'same' padding
// ignores padded cells (max over real cells; average over real cells only).
#pragma once

#include "aligned_buffer.hpp"
#include "dnnl_context.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class Pooling2D : public Layer {
 public:
  Pooling2D(bool max, int64_t pool_h, int64_t pool_w, int64_t stride_h, int64_t stride_w,
            bool same_padding);
  const char* kind() const override { return max_ ? "MaxPooling2D" : "AveragePooling2D"; }
  Shape build(const Shape& input) override;
  void prepare(int64_t batch) override;
  void forward(const float* src, float* dst, const ForwardMode& mode) override;
  void backward(const float* src, const float* dst, const float* diff_dst,
                float* diff_src) override;

 private:
  bool max_;
  int64_t ph_, pw_, sh_, sw_;
  bool same_padding_;
  Dims pad_l_, pad_r_;
  dnnl::pooling_forward fwd_train_, fwd_infer_;
  dnnl::pooling_backward bwd_;
  dnnl::memory src_m_, dst_m_, diff_dst_m_, diff_src_m_, workspace_m_;
};

}  // namespace fmnistcpp
