// Activation, Softmax and ReLU as layers of their own. When it is a model
// output whose softmax the loss takes over, it passes logits through.
#pragma once

#include "activation.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class ActivationLayer : public Layer {
 public:
  // Activation(activation), Softmax(axis=-1), ReLU() with Keras's defaults.
  explicit ActivationLayer(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, const float* diff_dst,
                const SourceGrads& diff_src) override;
  Activation output_activation() const override { return op_.kind(); }
  void set_emit_logits(bool v) override { emit_logits_ = v; }

 private:
  Shape infer(const std::vector<Shape>& inputs) override { return inputs[0]; }
  static Activation activation_of(Config& config);
  ActivationOp op_;
  bool emit_logits_ = false;
};

}  // namespace fmnistcpp
