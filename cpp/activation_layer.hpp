// The activation layers: Activation(activation), Softmax(axis), ReLU(
// max_value, negative_slope, threshold), LeakyReLU(negative_slope) and
// ELU(alpha), with Keras's defaults and checks. When one is a model output
// whose softmax / sigmoid the loss takes over, it passes the logits through.
#pragma once

#include "activation.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class ActivationLayer : public Layer {
 public:
  explicit ActivationLayer(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  bool backward_in_place() const override { return true; }
  // Softmax over another axis than the last is not the logits of Keras's
  // cross-entropy here (it reads them along the last axis).
  Activation output_activation() const override {
    return axis_ == -1 ? op_.kind() : Activation::linear;
  }
  void set_emit_logits(bool v) override { emit_logits_ = v; }

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  static ActivationOp op_of(Config& config);
  ActivationOp op_;
  int64_t axis_ = -1;  // Softmax's axis, Keras's count (0 = batch); once built, -1 = the last
  bool emit_logits_ = false;
};

}  // namespace fmnistcpp
