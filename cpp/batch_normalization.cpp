#include "batch_normalization.hpp"

#include "layer_registry.hpp"

#include <stdexcept>
#include <unordered_map>

namespace fmnistcpp {

using dnnl::normalization_flags;
using dnnl::prop_kind;

static RegisterLayer<BatchNormalization> registered("BatchNormalization");

BatchNormalization::BatchNormalization(Config config)
    : Layer(std::move(config)), axis_(config_.integer("axis", -1)) {
  const double momentum = config_.number("momentum", 0.99);
  const double epsilon = config_.number("epsilon", 1e-3);
  if (!(momentum >= 0.0 && momentum <= 1.0))
    throw std::invalid_argument("BatchNormalization momentum must be in [0, 1], got " +
                                python_repr(ConfigValue(momentum)));
  if (!(epsilon > 0.0))
    throw std::invalid_argument("BatchNormalization epsilon must be positive, got " +
                                python_repr(ConfigValue(epsilon)));
  momentum_ = static_cast<float>(momentum);
  epsilon_ = static_cast<float>(epsilon);
  one_minus_momentum_ = 1.0 - momentum;
  center_ = config_.flag("center", true);
  scale_ = config_.flag("scale", true);
}

Shape BatchNormalization::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.empty())
    throw std::invalid_argument("BatchNormalization needs an input with a channel axis");
  if (axis_ != -1 && axis_ != static_cast<int64_t>(in.size()))
    throw not_implemented("BatchNormalization(axis=" + std::to_string(axis_) +
                          ") on inputs of shape " + shape_str(in) +
                          ": only the last axis (axis=-1) is supported");
  channels_ = in.back();
  const std::vector<int64_t> c{channels_};
  gamma_ = scale_ ? std::make_unique<Param>("gamma", c) : nullptr;
  beta_ = center_ ? std::make_unique<Param>("beta", c) : nullptr;
  moving_mean_ = std::make_unique<Param>("moving_mean", c, /*is_trainable=*/false);
  moving_variance_ = std::make_unique<Param>("moving_variance", c, /*is_trainable=*/false);
  if (gamma_) gamma_->value.assign(channels_, 1.f);
  moving_variance_->value.assign(channels_, 1.f);
  batch_mean_.assign(channels_, 0.f);
  batch_var_.assign(channels_, 0.f);
  ones_.assign(channels_, 1.f);
  zeros_.assign(channels_, 0.f);
  return in;
}

std::vector<Param*> BatchNormalization::params() {
  std::vector<Param*> ps;
  if (gamma_) ps.push_back(gamma_.get());
  if (beta_) ps.push_back(beta_.get());
  ps.push_back(moving_mean_.get());
  ps.push_back(moving_variance_.get());
  return ps;
}

void BatchNormalization::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const int64_t spatial = shape_size(input()) / channels_;
  dnnl::memory::desc md = input().size() == 1
                              ? plain_md({batch, channels_}, Tag::nc)
                              : plain_md({batch, channels_, spatial}, Tag::nwc);
  normalization_flags affine = normalization_flags::none;
  if (scale_) affine |= normalization_flags::use_scale;
  if (center_) affine |= normalization_flags::use_shift;
  const normalization_flags global = affine | normalization_flags::use_global_stats;
  const prop_kind bwd_kind = (scale_ || center_) ? prop_kind::backward : prop_kind::backward_data;

  auto fb_pd = dnnl::batch_normalization_forward::primitive_desc(
      eng, prop_kind::forward_training, md, md, epsilon_, affine);
  auto fg_pd = dnnl::batch_normalization_forward::primitive_desc(
      eng, prop_kind::forward_training, md, md, epsilon_, global);
  auto bb_pd = dnnl::batch_normalization_backward::primitive_desc(eng, bwd_kind, md, md, md,
                                                                  epsilon_, affine, fb_pd);
  auto bg_pd = dnnl::batch_normalization_backward::primitive_desc(eng, bwd_kind, md, md, md,
                                                                  epsilon_, global, fg_pd);
  fwd_batch_ = dnnl::batch_normalization_forward(fb_pd);
  fwd_global_ = dnnl::batch_normalization_forward(fg_pd);
  bwd_batch_ = dnnl::batch_normalization_backward(bb_pd);
  bwd_global_ = dnnl::batch_normalization_backward(bg_pd);

  src_m_ = unbound_memory(md);
  dst_m_ = unbound_memory(md);
  diff_dst_m_ = unbound_memory(md);
  diff_src_m_ = unbound_memory(md);
  auto cmd = plain_md({channels_}, Tag::a);
  mean_m_ = unbound_memory(fb_pd.mean_desc());
  var_m_ = unbound_memory(fb_pd.variance_desc());
  scale_m_ = unbound_memory(cmd);
  shift_m_ = unbound_memory(cmd);
  diff_scale_m_ = unbound_memory(cmd);
  diff_shift_m_ = unbound_memory(cmd);
  scratch_diff_src_.reserve(batch * shape_size(input()));
}

// Training normalises with the batch's statistics (the forward primitive
// writes them into batch_mean_/batch_var_), inference with the moving ones;
// backward reads whichever the forward pass used.
void BatchNormalization::bind_statistics(bool batch_stats) {
  bind(mean_m_, batch_stats ? batch_mean_.data() : moving_mean_->value.data());
  bind(var_m_, batch_stats ? batch_var_.data() : moving_variance_->value.data());
}

void BatchNormalization::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  bind(src_m_, src[0]);
  bind(dst_m_, dst);
  bind(scale_m_, gamma_ ? gamma_->value.data() : ones_.data());
  bind(shift_m_, beta_ ? beta_->value.data() : zeros_.data());
  last_used_batch_stats_ = mode.training;
  bind_statistics(mode.training);
  (mode.training ? fwd_batch_ : fwd_global_)
      .execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_},
                              {DNNL_ARG_DST, dst_m_},
                              {DNNL_ARG_MEAN, mean_m_},
                              {DNNL_ARG_VARIANCE, var_m_},
                              {DNNL_ARG_SCALE, scale_m_},
                              {DNNL_ARG_SHIFT, shift_m_}});
  if (!mode.training) return;
  // Keras: moving = moving * momentum + batch * (1 - momentum), in float32.
  const float m = momentum_;
  const float om = static_cast<float>(one_minus_momentum_);
  float* mm = moving_mean_->value.data();
  float* mv = moving_variance_->value.data();
  for (int64_t c = 0; c < channels_; ++c) {
    volatile float a = mm[c] * m;  // two roundings, as TensorFlow's two ops
    volatile float b = batch_mean_[c] * om;
    mm[c] = a + b;
    volatile float e = mv[c] * m;
    volatile float f = batch_var_[c] * om;
    mv[c] = e + f;
  }
  ++moving_mean_->version;
  ++moving_variance_->version;
}

void BatchNormalization::backward(const Sources& src, const float*, float* diff_dst,
                                  const SourceGrads& diff_srcs) {
  float* diff_src = diff_srcs[0];
  // The statistics the forward used: the batch's (saved before the moving
  // update) or the moving ones (constants, unchanged since the forward).
  bind_statistics(last_used_batch_stats_);
  bind(src_m_, src[0]);
  bind(diff_dst_m_, diff_dst);
  bind(diff_src_m_, diff_src ? diff_src : scratch_diff_src_.data());
  bind(scale_m_, gamma_ ? gamma_->value.data() : ones_.data());
  bind(diff_scale_m_, gamma_ ? gamma_->grad.data() : batch_mean_.data());
  bind(diff_shift_m_, beta_ ? beta_->grad.data() : batch_var_.data());
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, src_m_},
                                             {DNNL_ARG_MEAN, mean_m_},
                                             {DNNL_ARG_VARIANCE, var_m_},
                                             {DNNL_ARG_DIFF_DST, diff_dst_m_},
                                             {DNNL_ARG_DIFF_SRC, diff_src_m_}};
  if (scale_) {
    args[DNNL_ARG_SCALE] = scale_m_;
    args[DNNL_ARG_DIFF_SCALE] = diff_scale_m_;
  }
  if (center_) args[DNNL_ARG_DIFF_SHIFT] = diff_shift_m_;
  (last_used_batch_stats_ ? bwd_batch_ : bwd_global_).execute(cpu_stream(), args);
}

}  // namespace fmnistcpp
