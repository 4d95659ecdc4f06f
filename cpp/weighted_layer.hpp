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
#include "precision.hpp"
#include "weights_layout.hpp"

namespace fmnistcpp {

class WeightedLayer : public Layer {
 public:
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;
  Activation output_activation() const override { return act_.kind(); }
  void set_emit_logits(bool v) override {
    if (v != emit_logits_) batch_ = -1;  // the fused post-op must come off or on
    emit_logits_ = v;
  }
  void set_compute_bfloat16(bool on) override {
    if (on != want_bf16_) batch_ = -1;  // the primitives change their data types
    want_bf16_ = on;
    // no bf16 copy of the kernel to keep (the optimizer writes one while it exists)
    if (!on && kernel_) {
      kernel_->bf16.clear();
      kernel_->bf16.shrink_to_fit();
    }
  }
  bool computes_bfloat16() const override { return bf16_; }
  bool use_params_of(Layer& owner, bool gradients) override;

 protected:
  // Reads Keras's `activation` and `use_bias`.
  explicit WeightedLayer(Config config)
      : Layer(std::move(config)), use_bias_(config_.flag("use_bias", true)),
        act_(parse_activation(config_.text("activation", "linear"))) {}
  void make_params(std::vector<int64_t> kernel_shape, int64_t units);

  // What a subclass's prepare() hands over: the three primitives and the
  // memory descriptors they read and write (src_f32: the f32 input as the
  // network stores it; src, diff_dst: what the primitives read, bf16 under a
  // bf16 policy; dst and diff_src f32 always).
  struct Passes {
    dnnl::primitive fwd, bwd_data, bwd_weights;
    dnnl::memory::desc src_f32, src, fwd_weights, bwd_data_weights, dst, diff_dst, diff_weights;
    // bwd_data reads the forward pass's copy of the weights (the same
    // layout, or run_backward_data views the same bytes another way)
    bool bwd_data_reads_forward_weights;
    // Where bwd_weights reads the f32 source and diff_dst in another layout
    // than the other passes: those layouts (a copy is reordered per batch).
    // Empty: it reads src and diff_dst as they are.
    dnnl::memory::desc bwd_weights_src = {}, bwd_weights_diff_dst = {};
  };
  void adopt(const Passes& passes, const dnnl::memory::desc& keras_weights_md, int64_t batch);

  // With the convolution / inner-product primitive descriptors.
  template <class FwdPD, class BwdDataPD, class BwdWeightsPD>
  void adopt(const FwdPD& fwd, const BwdDataPD& bwd_data, const BwdWeightsPD& bwd_weights,
             const dnnl::memory::desc& keras_weights_md, int64_t batch) {
    const bool own_layouts = bwd_weights.src_desc() != fwd.src_desc() ||
                             bwd_weights.diff_dst_desc() != bwd_data.diff_dst_desc();
    adopt(Passes{dnnl::primitive(fwd), dnnl::primitive(bwd_data), dnnl::primitive(bwd_weights),
                 bwd_data.diff_src_desc(), fwd.src_desc(), fwd.weights_desc(),
                 bwd_data.weights_desc(), fwd.dst_desc(), bwd_data.diff_dst_desc(),
                 bwd_weights.diff_weights_desc(), bwd_data.weights_desc() == fwd.weights_desc(),
                 own_layouts ? bwd_weights.src_desc() : dnnl::memory::desc(),
                 own_layouts ? bwd_weights.diff_dst_desc() : dnnl::memory::desc()},
          keras_weights_md, batch);
  }

  // How the three primitives are called; the defaults use the argument
  // names of oneDNN's convolution and inner-product primitives. bias and
  // diff_bias are null without a bias.
  virtual void run_forward(const dnnl::memory& src, const dnnl::memory& weights,
                           const dnnl::memory* bias, const dnnl::memory& dst);
  virtual void run_backward_weights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                                    const dnnl::memory& diff_weights,
                                    const dnnl::memory* diff_bias);
  virtual void run_backward_data(const dnnl::memory& diff_dst, const dnnl::memory& weights,
                                 const dnnl::memory& diff_src);
  const dnnl::primitive& fwd_primitive() const { return fwd_; }
  const dnnl::primitive& bwd_data_primitive() const { return bwd_data_; }
  const dnnl::primitive& bwd_weights_primitive() const { return bwd_weights_; }

  // The type the primitives read source, weights and diff_dst in: bf16
  // under a mixed_bfloat16 policy on a CPU with bf16 kernels, else f32.
  // Subclasses build their descriptors with it; outputs stay f32.
  DataType compute_type() const {
    return want_bf16_ && bf16_supported() ? DataType::bf16 : DataType::f32;
  }
  dnnl::memory::desc in_compute_type(const dnnl::memory::desc& md) const {
    return compute_type() == DataType::f32 ? md : with_type(md, compute_type());
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
  float* deferred_dy_ = nullptr;  // defer_weight_gradient (Dense)

 private:
  void bind_descs(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md,
                  int64_t batch);
  // The primitives' view of the input: the f32 tensor itself, or its bf16
  // copy (made in forward, reused by backward when `again`).
  const dnnl::memory& source(const float* src, bool again);

  // Whose parameters this layer reads and whose gradients it writes: its
  // own, or a lane's owner's (use_params_of).
  Param& kernel_values() { return values_from_ ? *values_from_->kernel_ : *kernel_; }
  const float* bias_values() { return (values_from_ ? *values_from_->bias_ : *bias_).value.data(); }
  Param& kernel_grad() { return grads_to_ ? *grads_to_->kernel_ : *kernel_; }
  float* bias_grad() { return (grads_to_ ? *grads_to_->bias_ : *bias_).grad.data(); }
  WeightedLayer* values_from_ = nullptr;
  WeightedLayer* grads_to_ = nullptr;

  dnnl::primitive fwd_, bwd_data_, bwd_weights_;
  WeightsLayout fwd_weights_, bwd_data_weights_;
  GradientLayout diff_weights_;
  dnnl::memory src_m_, dst_m_, bias_m_, diff_dst_m_, diff_src_m_, diff_bias_m_;
  bool bwd_data_shares_weights_ = false;
  bool want_bf16_ = false;  // the layer's policy computes in bfloat16
  bool bf16_ = false;       // the primitives built last run in bf16
  // bf16 copies of the input and of the pre-activation gradient
  ReorderedCopy src_bf16_, diff_dst_bf16_;
  // bwd_weights's copies of the input and of that gradient in its own layouts
  // (Passes::bwd_weights_src); float32 layers only.
  bool bwd_weights_copies_ = false;
  ReorderedCopy src_for_weights_, diff_dst_for_weights_;
  // The activation runs after the primitive: not fused, and not left to the loss.
  bool separate_activation() const {
    return !act_.is_linear() && !act_.fusable() && !emit_logits_;
  }
  AlignedBuffer pre_;       // the pre-activation output, for an activation whose backward reads it
};

}  // namespace fmnistcpp
