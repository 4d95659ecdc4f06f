#include "conv2d_transpose.hpp"

#include "layer_registry.hpp"
#include "onednn_workarounds.hpp"

#include <algorithm>
#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

static RegisterLayer<Conv2DTranspose> registered("Conv2DTranspose");

Conv2DTranspose::Conv2DTranspose(Config config)
    : ConvBase(std::move(config), 2, /*dilation_with_strides=*/false),
      filters_(config_.positive_int("filters")),
      output_padding_(config_.optional_tuple("output_padding", 2, 0)) {
  if (output_padding_)
    for (int a = 0; a < 2; ++a)
      if ((*output_padding_)[a] >= strides_[a])
        throw std::invalid_argument(
            "Conv2DTranspose output_padding must be strictly less than strides on every axis, "
            "got output_padding=" + python_repr(config_.values().at("output_padding")) +
            " and strides=" + python_repr(config_.values().at("strides")));
}

Shape Conv2DTranspose::infer(const std::vector<Shape>& inputs) {
  in_hwc_ = image_hwc(inputs[0]);
  in_channels_ = in_hwc_[2];
  out_channels_ = filters_;
  out_hwc_ = {0, 0, filters_};
  pad_l_ = {0, 0};
  pad_r_ = {0, 0};
  for (int a = 0; a < 2; ++a) {
    const int64_t in = in_hwc_[a], s = strides_[a];
    checked_size({in + 1, s}, "Conv2DTranspose's output");  // no overflow below
    checked_size({ksize_[a], dilation_[a]}, "Conv2DTranspose's dilated kernel");
    const int64_t k = (ksize_[a] - 1) * dilation_[a] + 1;
    int64_t out;
    if (padding_ == "valid") {
      const int64_t extra = output_padding_ ? (*output_padding_)[a] : std::max(k, s) - k;
      out = (in - 1) * s + k + extra;
    } else if (!output_padding_) {
      out = in * s;
    } else {
      out = (in - 1) * s + k % 2 + (*output_padding_)[a];
      if (k % 2 + (*output_padding_)[a] == 0)
        // TensorFlow's conv2d_backprop_input refuses it: 'same' would map
        // `out` back to in - 1 rows.
        throw std::invalid_argument(
            "Conv2DTranspose with padding='same', an even kernel_size and output_padding=0 "
            "gives an output TensorFlow cannot compute (kernel_size=" +
            python_repr(config_.values().at("kernel_size")) + ", output_padding=" +
            python_repr(config_.values().at("output_padding")) +
            "); use output_padding=None or 1");
    }
    // The convolution this transposes maps `out` to `in`: TensorFlow's
    // padding for it; pad_r < 0 when the kernel does not reach the last rows.
    const int64_t reach = (in - 1) * s + k;
    const int64_t total = padding_ == "same" ? std::max<int64_t>(reach - out, 0) : 0;
    pad_l_[a] = total / 2;
    pad_r_[a] = reach - out - pad_l_[a];
    out_hwc_[a] = out;
  }
  make_params({ksize_[0], ksize_[1], filters_, in_channels_}, filters_);
  return keras_shape(out_hwc_[0], out_hwc_[1], filters_);
}

void Conv2DTranspose::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const int64_t kh = ksize_[0], kw = ksize_[1], f = filters_, c = in_channels_;
  Dims w_dims{f, c, kh, kw};
  // Keras's (kh, kw, filters, in) as strides of oneDNN's (out, in, kh, kw)
  dnnl::memory::desc keras_w_md(w_dims, DataType::f32, Dims{c, 1, kw * f * c, f * c});
  auto src_md = image_md(batch, c, in_hwc_[0], in_hwc_[1], channels_first_);
  auto dst_md = image_md(batch, f, out_hwc_[0], out_hwc_[1], channels_first_);
  auto b_md = use_bias_ ? plain_md({f}, Tag::x) : dnnl::memory::desc();
  Dims strides{strides_[0], strides_[1]};
  Dims dilation{dilation_[0] - 1, dilation_[1] - 1};
  // bf16 (mixed_bfloat16) as for Conv2D: src, weights, diff_dst bf16
  auto src_c = in_compute_type(src_md), w_c = in_compute_type(any_md(w_dims));
  auto diff_dst_c = in_compute_type(dst_md);
  auto fwd = dnnl::deconvolution_forward::primitive_desc(
      eng, prop_kind::forward_training, algorithm::deconvolution_direct, src_c, w_c, b_md, dst_md,
      strides, dilation, pad_l_, pad_r_, forward_attr());
  auto bwd_data = dnnl::deconvolution_backward_data::primitive_desc(
      eng, algorithm::deconvolution_direct, src_md, w_c, diff_dst_c, strides, dilation, pad_l_,
      pad_r_, fwd);
  const bool plain_gradient = needs_plain_weight_gradient(ksize_, strides_, channels_first_);
  auto bwd_weights = dnnl::deconvolution_backward_weights::primitive_desc(
      eng, algorithm::deconvolution_direct, src_c, plain_gradient ? keras_w_md : any_md(w_dims),
      b_md, diff_dst_c, strides, dilation, pad_l_, pad_r_, fwd);
  if (plain_gradient) check_not_broken_1x1(bwd_weights, kind());
  adopt(fwd, bwd_data, bwd_weights, keras_w_md, batch);
}

}  // namespace fmnistcpp
