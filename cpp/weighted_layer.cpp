#include "weighted_layer.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

void WeightedLayer::make_params(std::vector<int64_t> kernel_shape, int64_t units) {
  kernel_ = std::make_unique<Param>("kernel", std::move(kernel_shape));
  bias_.reset();
  if (use_bias_) bias_ = std::make_unique<Param>("bias", std::vector<int64_t>{units});
  batch_ = -1;
}

void WeightedLayer::adopt(const Passes& passes, const dnnl::memory::desc& keras_weights_md,
                          int64_t batch) {
  fwd_ = passes.fwd;
  bwd_data_ = passes.bwd_data;
  bwd_weights_ = passes.bwd_weights;
  fwd_weights_.prepare(keras_weights_md, passes.fwd_weights);
  bwd_data_shares_weights_ = passes.bwd_data_reads_forward_weights;
  if (!bwd_data_shares_weights_) bwd_data_weights_.prepare(keras_weights_md, passes.bwd_data_weights);
  diff_weights_.prepare(keras_weights_md, passes.diff_weights);
  // diff_src is float32 in both precisions, as the network's buffers are
  bind_descs(passes.src_f32, passes.dst, batch);
  bf16_ = passes.src.get_data_type() == DataType::bf16;
  if (bf16_) {
    src_bf16_.prepare(passes.src_f32, passes.src);
    diff_dst_bf16_.prepare(passes.dst, passes.diff_dst);
  }
  bwd_weights_copies_ = passes.bwd_weights_src != dnnl::memory::desc();
  if (bwd_weights_copies_) {
    if (bf16_)  // the bf16 copies above are what every pass reads
      throw std::logic_error(kind() +
                             ": a bf16 layer's backward-weights pass reads the bf16 copies");
    src_for_weights_.prepare(passes.src_f32, passes.bwd_weights_src);
    diff_dst_for_weights_.prepare(passes.dst, passes.bwd_weights_diff_dst);
  }
}

void WeightedLayer::run_forward(const dnnl::memory& src, const dnnl::memory& weights,
                                const dnnl::memory* bias, const dnnl::memory& dst) {
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (bias) args[DNNL_ARG_BIAS] = *bias;
  fwd_.execute(cpu_stream(), args);
}

void WeightedLayer::run_backward_weights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                                         const dnnl::memory& diff_weights,
                                         const dnnl::memory* diff_bias) {
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src},
                                             {DNNL_ARG_DIFF_DST, diff_dst},
                                             {DNNL_ARG_DIFF_WEIGHTS, diff_weights}};
  if (diff_bias) args[DNNL_ARG_DIFF_BIAS] = *diff_bias;
  bwd_weights_.execute(cpu_stream(), args);
}

void WeightedLayer::run_backward_data(const dnnl::memory& diff_dst, const dnnl::memory& weights,
                                      const dnnl::memory& diff_src) {
  bwd_data_.execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, diff_dst},
                                   {DNNL_ARG_WEIGHTS, weights},
                                   {DNNL_ARG_DIFF_SRC, diff_src}});
}

std::vector<Param*> WeightedLayer::params() {
  std::vector<Param*> p{kernel_.get()};
  if (bias_) p.push_back(bias_.get());
  return p;
}

void WeightedLayer::bind_descs(const dnnl::memory::desc& src_md, const dnnl::memory::desc& dst_md,
                               int64_t batch) {
  // bias (units / filters); the output's last axis is not the channels' in channels_first
  auto b_md = plain_md({bias_ ? bias_->shape[0] : output_.back()}, Tag::x);
  src_m_ = unbound_memory(src_md);
  dst_m_ = unbound_memory(dst_md);
  bias_m_ = unbound_memory(b_md);
  diff_dst_m_ = unbound_memory(dst_md);
  diff_src_m_ = unbound_memory(src_md);
  diff_bias_m_ = unbound_memory(b_md);
  act_.prepare(dst_md);  // channels on axis 1, for the row-wise ones
  if (act_.needs_input()) pre_.reserve(batch * shape_size(output_));
}

const dnnl::memory& WeightedLayer::source(const float* src, bool again) {
  if (!bf16_) {
    bind(src_m_, src);
    return src_m_;
  }
  // Backward reads the copy the forward pass of the same batch made: the
  // network runs them back to back under the engine lock.
  return again ? src_bf16_.of(src) : src_bf16_.convert(src);
}

// Only for float32 layers: a bf16 layer's WeightsLayout may write the
// owner's Param::bf16, which two lanes must not do at once (lanes.cpp keeps
// bf16 networks on the team anyway).
bool WeightedLayer::use_params_of(Layer& owner, bool gradients) {
  auto* o = dynamic_cast<WeightedLayer*>(&owner);
  if (!o || o == this || o->kind() != kind() || !o->kernel_ || !kernel_ ||
      o->kernel_->shape != kernel_->shape || bool(o->bias_) != bool(bias_) || want_bf16_ ||
      o->want_bf16_)
    return false;
  values_from_ = o;
  grads_to_ = gradients ? o : nullptr;
  return true;
}

void WeightedLayer::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  const bool separate = separate_activation();
  float* out = separate && act_.needs_input() && mode.for_backward ? pre_.data() : dst;
  bind(dst_m_, out);
  if (bias_) bind(bias_m_, bias_values());
  run_forward(source(src[0], /*again=*/false), fwd_weights_.values(kernel_values()),
              bias_ ? &bias_m_ : nullptr, dst_m_);
  if (separate) act_.forward(out, dst);
}

void WeightedLayer::backward(const Sources& src, const float* dst, float* diff_dst,
                             const SourceGrads& diff_src) {
  // With emitted logits the loss already returned d(loss)/d(logits). Past
  // the activation's backward, diff_dst holds the pre-activation gradient.
  const bool activated = !act_.is_linear() && !emit_logits_;
  const dnnl::memory* diff_dst_m = &diff_dst_m_;
  if (bf16_ && activated && act_.kind() == Activation::relu) {
    // ReLU's backward and the bf16 conversion in one pass over the gradient
    diff_dst_m = &diff_dst_bf16_.relu_backward(dst, diff_dst);
  } else {
    if (activated)  // in place: diff_dst is ours to overwrite (layer.hpp)
      act_.backward(act_.needs_input() ? pre_.data() : nullptr, dst, diff_dst, diff_dst);
    if (bf16_) {
      diff_dst_m = &diff_dst_bf16_.convert(diff_dst);
    } else {
      bind(diff_dst_m_, diff_dst);
    }
  }
  if (deferred_dy_) {  // the network computes the weight gradient (Layer::defer_weight_gradient)
    std::memcpy(deferred_dy_, diff_dst, batch_ * shape_size(output_) * sizeof(float));
  } else {
    if (bias_) bind(diff_bias_m_, bias_grad());
    const dnnl::memory& weights_src =
        bwd_weights_copies_ ? src_for_weights_.convert(src[0]) : source(src[0], /*again=*/true);
    const dnnl::memory& weights_diff_dst =
        bwd_weights_copies_ ? diff_dst_for_weights_.convert(diff_dst) : *diff_dst_m;
    run_backward_weights(weights_src, weights_diff_dst, diff_weights_.target(kernel_grad()),
                         bias_ ? &diff_bias_m_ : nullptr);
    diff_weights_.finish(kernel_grad());
  }
  if (diff_src[0]) {
    bind(diff_src_m_, diff_src[0]);
    WeightsLayout& w = bwd_data_shares_weights_ ? fwd_weights_ : bwd_data_weights_;
    run_backward_data(*diff_dst_m, w.values(kernel_values()), diff_src_m_);
  }
}

}  // namespace fmnistcpp
