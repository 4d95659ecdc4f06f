#include "activation_layer.hpp"

#include <cstring>

namespace fmnistcpp {

void ActivationLayer::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  // Channels sit on oneDNN's axis 1 in both the 2-D and the NHWC layouts.
  dnnl::memory::desc md;
  if (input_.size() == 3) {
    md = plain_md({batch, input_[2], input_[0], input_[1]}, Tag::nhwc);
  } else if (input_.size() == 1) {
    md = plain_md({batch, input_[0]}, Tag::nc);
  } else {
    // Any other rank: the activation acts on the flat buffer; softmax over
    // the last axis of a 2-D view.
    md = plain_md({batch * shape_size(input_) / input_.back(), input_.back()}, Tag::nc);
  }
  op_.prepare(md, /*fused=*/false);
}

void ActivationLayer::forward(const float* src, float* dst, const ForwardMode&) {
  if (emit_logits_) {
    std::memcpy(dst, src, batch_ * shape_size(input_) * sizeof(float));
    return;
  }
  op_.forward(src, dst);
}

void ActivationLayer::backward(const float*, const float* dst, const float* diff_dst,
                               float* diff_src) {
  if (!diff_src) return;
  if (emit_logits_) {
    std::memcpy(diff_src, diff_dst, batch_ * shape_size(input_) * sizeof(float));
    return;
  }
  op_.backward(dst, diff_dst, diff_src);
}

}  // namespace fmnistcpp
