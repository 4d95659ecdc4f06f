// Activation / Softmax as layers of their own. When it is the model's last
// layer and a softmax whose work the loss takes over, it passes logits
// through unchanged.
#pragma once

#include "activation.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(Activation a) : op_(a) {}
  const char* kind() const override {
    return op_.kind() == Activation::softmax ? "Softmax" : "Activation";
  }
  Shape build(const Shape& input) override {
    input_ = output_ = input;
    batch_ = -1;
    return output_;
  }
  void prepare(int64_t batch) override;
  void forward(const float* src, float* dst, const ForwardMode& mode) override;
  void backward(const float* src, const float* dst, const float* diff_dst,
                float* diff_src) override;
  Activation output_activation() const override { return op_.kind(); }
  void set_emit_logits(bool v) override { emit_logits_ = v; }

 private:
  ActivationOp op_;
  bool emit_logits_ = false;
};

}  // namespace fmnistcpp
