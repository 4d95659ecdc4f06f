#include "activation_layer.hpp"

#include "layer_registry.hpp"

#include <cstring>

namespace fmnistcpp {

static RegisterLayer<ActivationLayer> registered_activation("Activation");
static RegisterLayer<ActivationLayer> registered_softmax("Softmax");
static RegisterLayer<ActivationLayer> registered_relu("ReLU");

Activation ActivationLayer::activation_of(Config& config) {
  if (config.owner() == "Softmax") {
    if (config.integer("axis", -1) != -1)
      throw not_implemented("Softmax supports axis=-1 only");
    return Activation::softmax;
  }
  if (config.owner() == "ReLU") {
    config.none_only("max_value", "ReLU supports the default arguments only");
    if (config.number("negative_slope", 0.0) != 0.0 || config.number("threshold", 0.0) != 0.0)
      throw not_implemented("ReLU supports the default arguments only");
    return Activation::relu;
  }
  return parse_activation(config.text("activation", "linear"));
}

ActivationLayer::ActivationLayer(Config config)
    : Layer(std::move(config)), op_(activation_of(config_)) {}

void ActivationLayer::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  // Channels sit on oneDNN's axis 1 in both the 2-D and the NHWC layouts.
  const Shape& in = input();
  dnnl::memory::desc md;
  if (in.size() == 3) {
    md = plain_md({batch, in[2], in[0], in[1]}, Tag::nhwc);
  } else if (in.size() == 1) {
    md = plain_md({batch, in[0]}, Tag::nc);
  } else {
    // Any other rank: the activation acts on the flat buffer; softmax over
    // the last axis of a 2-D view.
    md = plain_md({batch * shape_size(in) / in.back(), in.back()}, Tag::nc);
  }
  op_.prepare(md, /*fused=*/false);
}

void ActivationLayer::forward(const Sources& src, float* dst, const ForwardMode&) {
  if (emit_logits_) {
    std::memcpy(dst, src[0], batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  op_.forward(src[0], dst);
}

void ActivationLayer::backward(const Sources&, const float* dst, const float* diff_dst,
                               const SourceGrads& diff_src) {
  if (!diff_src[0]) return;
  if (emit_logits_) {
    std::memcpy(diff_src[0], diff_dst, batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  op_.backward(dst, diff_dst, diff_src[0]);
}

}  // namespace fmnistcpp
