// What Conv2D and Dense share: kernel + bias, the activation, and the same
// forward / backward sequence. Subclasses only describe their primitives in
// prepare(). The activation is fused into the forward primitive as a post-op
// when its backward needs only the output (ActivationOp::fusable); any other
// runs after the primitive, which then writes the pre-activation values
// into pre_ when a backward pass follows and that backward reads them.
#pragma once

#include "activation.hpp"
#include "aligned_buffer.hpp"
#include "layer.hpp"
#include "weights_layout.hpp"

namespace fmnistcpp {

class WeightedLayer : public Layer {
 public:
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, const float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;
  Activation output_activation() const override { return act_.kind(); }
  void set_emit_logits(bool v) override {
    if (v != emit_logits_) batch_ = -1;  // the fused post-op must come off or on
    emit_logits_ = v;
  }

 protected:
  // Reads Keras's `activation` and `use_bias`.
  explicit WeightedLayer(Config config)
      : Layer(std::move(config)), use_bias_(config_.flag("use_bias", true)),
        act_(parse_activation(config_.text("activation", "linear"))) {}
  void make_params(std::vector<int64_t> kernel_shape, int64_t units);

  // Called by subclasses' prepare() with their three primitives and the
  // descriptors they chose.
  template <class FwdPD, class BwdDataPD, class BwdWeightsPD>
  void adopt(const FwdPD& fwd, const BwdDataPD& bwd_data, const BwdWeightsPD& bwd_weights,
             const dnnl::memory::desc& keras_weights_md, int64_t batch) {
    fwd_ = dnnl::primitive(fwd);
    bwd_data_ = dnnl::primitive(bwd_data);
    bwd_weights_ = dnnl::primitive(bwd_weights);
    fwd_weights_.prepare(keras_weights_md, fwd.weights_desc());
    bwd_data_weights_.prepare(keras_weights_md, bwd_data.weights_desc());
    diff_weights_.prepare(keras_weights_md, bwd_weights.diff_weights_desc());
    bind_descs(fwd.src_desc(), fwd.dst_desc(), batch);
  }

  // The forward primitive's attributes: the activation as a post-op, unless
  // the loss takes the logits.
  dnnl::primitive_attr forward_attr() const {
    return emit_logits_ ? dnnl::primitive_attr() : act_.fused_attr();
  }

  bool use_bias_;
  ActivationOp act_;  // Keras's `activation`
  bool emit_logits_ = false;
  std::unique_ptr<Param> kernel_, bias_;

 private:
  void bind_descs(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md,
                  int64_t batch);

  dnnl::primitive fwd_, bwd_data_, bwd_weights_;
  WeightsLayout fwd_weights_, bwd_data_weights_;
  GradientLayout diff_weights_;
  dnnl::memory src_m_, dst_m_, bias_m_, diff_dst_m_, diff_src_m_, diff_bias_m_;
  // The activation runs after the primitive: not fused, and not left to the loss.
  bool separate_activation() const {
    return !act_.is_linear() && !act_.fusable() && !emit_logits_;
  }
  AlignedBuffer pre_;       // the pre-activation output, for an activation whose backward reads it
  AlignedBuffer diff_pre_;  // gradient w.r.t. the pre-activation output
};

}  // namespace fmnistcpp
