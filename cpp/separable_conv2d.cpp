#include "separable_conv2d.hpp"

#include "layer_registry.hpp"

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

static RegisterLayer<SeparableConv2D> registered("SeparableConv2D");

SeparableConv2D::SeparableConv2D(Config config)
    : ConvBase(std::move(config), 2, /*dilation_with_strides=*/true),
      filters_(config_.positive_int("filters")),
      multiplier_(config_.positive_int("depth_multiplier", 1)) {}

Shape SeparableConv2D::infer(const std::vector<Shape>& inputs) {
  const int64_t c = image_hwc(inputs[0])[2];
  const int64_t mid = checked_size({c, multiplier_}, "SeparableConv2D's depthwise channels");
  // The geometry is the depthwise step's; WeightedLayer's kernel is the pointwise one.
  Shape out = infer_conv(inputs[0], filters_, 1, {1, 1, mid, filters_});
  checked_size({mid, out_hwc_[0], out_hwc_[1]}, "SeparableConv2D's depthwise output");
  kernel_->name = "pointwise_kernel";
  depthwise_ = std::make_unique<Param>("depthwise_kernel",
                                       std::vector<int64_t>{ksize_[0], ksize_[1], c, multiplier_});
  return out;
}

std::vector<Param*> SeparableConv2D::params() {
  std::vector<Param*> p{depthwise_.get()};
  for (Param* q : WeightedLayer::params()) p.push_back(q);
  return p;
}

void SeparableConv2D::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const int64_t c = in_channels_, mid_c = c * multiplier_;
  const int64_t oh = out_hwc_[0], ow = out_hwc_[1];
  auto src_md = image_md(batch, c, in_hwc_[0], in_hwc_[1], channels_first_);
  auto mid_md = image_md(batch, mid_c, oh, ow, channels_first_);
  auto dst_md = image_md(batch, filters_, oh, ow, channels_first_);
  Dims strides{strides_[0], strides_[1]}, one{1, 1}, zero{0, 0};
  Dims dilation{dilation_[0] - 1, dilation_[1] - 1};

  // depthwise: one group per input channel, no bias
  Dims dw_dims = conv_weights_dims(ksize_[0], ksize_[1], 1, mid_c, c);
  auto dw_keras_md = keras_conv_kernel_md(ksize_[0], ksize_[1], 1, mid_c, c);
  auto dw_fwd = dnnl::convolution_forward::primitive_desc(
      eng, prop_kind::forward_training, algorithm::convolution_direct, src_md, any_md(dw_dims),
      dnnl::memory::desc(), mid_md, strides, dilation, pad_l_, pad_r_);
  auto dw_bwd_data = dnnl::convolution_backward_data::primitive_desc(
      eng, algorithm::convolution_direct, src_md, any_md(dw_dims), mid_md, strides, dilation,
      pad_l_, pad_r_, dw_fwd);
  auto dw_bwd_weights = dnnl::convolution_backward_weights::primitive_desc(
      eng, algorithm::convolution_direct, src_md, any_md(dw_dims), dnnl::memory::desc(), mid_md,
      strides, dilation, pad_l_, pad_r_, dw_fwd);
  dw_fwd_ = dnnl::primitive(dw_fwd);
  dw_bwd_data_ = dnnl::primitive(dw_bwd_data);
  dw_bwd_weights_ = dnnl::primitive(dw_bwd_weights);
  dw_fwd_weights_.prepare(dw_keras_md, dw_fwd.weights_desc());
  dw_bwd_data_weights_.prepare(dw_keras_md, dw_bwd_data.weights_desc());
  dw_diff_weights_.prepare(dw_keras_md, dw_bwd_weights.diff_weights_desc());
  dw_src_m_ = unbound_memory(src_md);
  dw_mid_m_ = unbound_memory(mid_md);
  dw_diff_mid_m_ = unbound_memory(mid_md);
  dw_diff_src_m_ = unbound_memory(src_md);
  mid_.reserve(batch * mid_c * oh * ow);
  diff_mid_.reserve(batch * mid_c * oh * ow);

  // pointwise: 1x1, stride 1, with bias and the activation
  Dims pw_dims = conv_weights_dims(1, 1, mid_c, filters_, 1);
  auto pw_keras_md = keras_conv_kernel_md(1, 1, mid_c, filters_, 1);
  auto b_md = use_bias_ ? plain_md({filters_}, Tag::x) : dnnl::memory::desc();
  // bf16 (mixed_bfloat16) for the pointwise step only, as for Conv2D
  auto mid_ct = in_compute_type(mid_md), pw_c = in_compute_type(any_md(pw_dims));
  auto diff_dst_c = in_compute_type(dst_md);
  auto fwd = dnnl::convolution_forward::primitive_desc(
      eng, prop_kind::forward_training, algorithm::convolution_direct, mid_ct, pw_c, b_md, dst_md,
      one, zero, zero, forward_attr());
  auto bwd_data = dnnl::convolution_backward_data::primitive_desc(
      eng, algorithm::convolution_direct, mid_md, pw_c, diff_dst_c, one, zero, zero, fwd);
  auto bwd_weights = dnnl::convolution_backward_weights::primitive_desc(
      eng, algorithm::convolution_direct, mid_ct, any_md(pw_dims), b_md, diff_dst_c, one, zero,
      zero, fwd);
  adopt(fwd, bwd_data, bwd_weights, pw_keras_md, batch);
}

void SeparableConv2D::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  // [N, H, W, C] -> mid [N, OH, OW, C * M] -> [N, OH, OW, filters]
  bind(dw_src_m_, src[0]);
  bind(dw_mid_m_, mid_.data());
  dw_fwd_.execute(cpu_stream(), {{DNNL_ARG_SRC, dw_src_m_},
                                 {DNNL_ARG_WEIGHTS, dw_fwd_weights_.values(*depthwise_)},
                                 {DNNL_ARG_DST, dw_mid_m_}});
  WeightedLayer::forward({mid_.data()}, dst, mode);
}

void SeparableConv2D::backward(const Sources& src, const float* dst, float* diff_dst,
                               const SourceGrads& diff_src) {
  // pointwise: grads of pointwise_kernel, bias and mid
  WeightedLayer::backward({mid_.data()}, dst, diff_dst, {diff_mid_.data()});
  // depthwise: grad of depthwise_kernel, then of the input when asked
  bind(dw_src_m_, src[0]);
  bind(dw_diff_mid_m_, diff_mid_.data());
  dw_bwd_weights_.execute(cpu_stream(),
                          {{DNNL_ARG_SRC, dw_src_m_},
                           {DNNL_ARG_DIFF_DST, dw_diff_mid_m_},
                           {DNNL_ARG_DIFF_WEIGHTS, dw_diff_weights_.target(*depthwise_)}});
  dw_diff_weights_.finish(*depthwise_);
  if (diff_src[0]) {
    bind(dw_diff_src_m_, diff_src[0]);
    dw_bwd_data_.execute(cpu_stream(),
                         {{DNNL_ARG_DIFF_DST, dw_diff_mid_m_},
                          {DNNL_ARG_WEIGHTS, dw_bwd_data_weights_.values(*depthwise_)},
                          {DNNL_ARG_DIFF_SRC, dw_diff_src_m_}});
  }
}

}  // namespace fmnistcpp
