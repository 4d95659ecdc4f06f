#include "conv2d.hpp"

#include "column_sums.hpp"
#include "layer_registry.hpp"
#include "onednn_workarounds.hpp"
#include "precision.hpp"

#include <algorithm>
#include <stdexcept>
#include <string>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

static RegisterLayer<Conv2D> registered("Conv2D");

void window_geometry(int64_t in, int64_t k, int64_t s, bool same, int64_t& out,
                     int64_t& pad_before, int64_t& pad_after) {
  if (same) {
    out = in / s + (in % s != 0);  // ceil(in / s); in + s - 1 could overflow
    // (out - 1) * s < in, so neither this nor k - (1..s) overflows
    int64_t total = std::max<int64_t>(k - (in - (out - 1) * s), 0);
    pad_before = total / 2;
    pad_after = total - pad_before;
  } else {
    out = in >= k ? (in - k) / s + 1 : 0;
    pad_before = pad_after = 0;
  }
}

std::vector<int64_t> window_output(const std::string& layer, const char* window_name,
                                   const Shape& input, const std::vector<int64_t>& window,
                                   const std::vector<int64_t>& strides, bool same, Dims& pad_l,
                                   Dims& pad_r) {
  if (input.size() != 3)
    throw std::invalid_argument(layer + " expects input of shape (height, width, channels), got " +
                                shape_str(input));
  int64_t oh, ow, pt, pb, pl, pr;
  window_geometry(input[0], window[0], strides[0], same, oh, pt, pb);
  window_geometry(input[1], window[1], strides[1], same, ow, pl, pr);
  if (oh <= 0 || ow <= 0)
    throw std::invalid_argument(layer + " " + window_name + " (" + std::to_string(window[0]) +
                                ", " + std::to_string(window[1]) + ") is larger than its input " +
                                shape_str(input) + " with padding='valid'");
  pad_l = {pt, pl};
  pad_r = {pb, pr};
  return {oh, ow};
}

Dims conv_weights_dims(int64_t kh, int64_t kw, int64_t in_per_group, int64_t out,
                       int64_t groups) {
  if (groups == 1) return {out, in_per_group, kh, kw};
  return {groups, out / groups, in_per_group, kh, kw};
}

dnnl::memory::desc keras_conv_kernel_md(int64_t kh, int64_t kw, int64_t in_per_group,
                                        int64_t out, int64_t groups) {
  Dims dims = conv_weights_dims(kh, kw, in_per_group, out, groups);
  if (groups == 1) return plain_md(dims, Tag::hwio);
  // Keras's (kh, kw, i, o) with o = g * (out / groups) + j, as strides of
  // (g, j, i, kh, kw).
  const int64_t per_group = out / groups;
  Dims strides{per_group, 1, out, kw * in_per_group * out, in_per_group * out};
  return dnnl::memory::desc(dims, DataType::f32, strides);
}

static std::vector<int64_t> as_2d(const std::vector<int64_t>& v, int rank) {
  return rank == 2 ? v : std::vector<int64_t>{1, v[0]};
}

ConvBase::ConvBase(Config config, int rank, bool dilation_with_strides)
    : WeightedLayer(std::move(config)), rank_(rank) {
  ksize_ = as_2d(config_.positive_tuple("kernel_size", rank, {}), rank);
  strides_ = as_2d(config_.positive_tuple("strides", rank, std::vector<int64_t>(rank, 1)), rank);
  std::vector<std::string> paddings{"valid", "same"};
  if (rank == 1) paddings.push_back("causal");
  padding_ = config_.choice("padding", paddings, "valid");
  channels_first_ = config_.choice("data_format", {"channels_last", "channels_first"},
                                   "channels_last") == "channels_first";
  dilation_ =
      as_2d(config_.positive_tuple("dilation_rate", rank, std::vector<int64_t>(rank, 1)), rank);
  const bool strided = std::max(strides_[0], strides_[1]) > 1;
  const bool dilated = std::max(dilation_[0], dilation_[1]) > 1;
  if (strided && dilated && !dilation_with_strides)
    throw std::invalid_argument(
        kind() + ": strides > 1 together with dilation_rate > 1 is not supported (as in Keras), "
        "got strides=" + python_repr(config_.values().at("strides")) +
        " and dilation_rate=" + python_repr(config_.values().at("dilation_rate")));
  if (channels_first_ && act_.kind() == Activation::softmax)
    // Keras's softmax runs over the last axis, which is the width here; the
    // engine's softmax runs over the channels.
    throw not_implemented(kind() + " with data_format='channels_first' and a softmax activation "
                          "is not supported; use data_format='channels_last'");
}

Shape ConvBase::image_hwc(const Shape& s) const {
  const size_t want = rank_ + 1;
  if (s.size() != want) {
    const char* form = rank_ == 2 ? (channels_first_ ? "(channels, height, width)"
                                                     : "(height, width, channels)")
                                  : (channels_first_ ? "(channels, steps)" : "(steps, channels)");
    throw std::invalid_argument(kind() + " expects input of shape " + form + ", got " +
                                shape_str(s));
  }
  if (rank_ == 1) return channels_first_ ? Shape{1, s[1], s[0]} : Shape{1, s[0], s[1]};
  return channels_first_ ? Shape{s[1], s[2], s[0]} : s;
}

Shape ConvBase::keras_shape(int64_t h, int64_t w, int64_t c) const {
  if (rank_ == 1) return channels_first_ ? Shape{c, w} : Shape{w, c};
  return channels_first_ ? Shape{c, h, w} : Shape{h, w, c};
}

Shape ConvBase::infer_conv(const Shape& in, int64_t out_channels, int64_t groups,
                           std::vector<int64_t> kernel_shape) {
  in_hwc_ = image_hwc(in);
  in_channels_ = in_hwc_[2];
  groups_ = groups;
  out_channels_ = out_channels;
  if (in_channels_ % groups != 0)
    throw std::invalid_argument(kind() + ": the number of input channels must be evenly divisible "
                                "by the number of groups, got groups=" + std::to_string(groups) +
                                " and an input of shape " + shape_str(in));
  out_hwc_ = {0, 0, out_channels};
  pad_l_ = {0, 0};
  pad_r_ = {0, 0};
  for (int a = 0; a < 2; ++a) {
    checked_size({ksize_[a], dilation_[a]}, "the dilated kernel");  // no overflow below
    const int64_t extent = (ksize_[a] - 1) * dilation_[a] + 1;  // of the dilated kernel
    if (padding_ == "causal" && a == 1) {  // all the padding before: no output sees the future
      pad_l_[a] = extent - 1;
      out_hwc_[a] = (in_hwc_[a] - 1) / strides_[a] + 1;
    } else {
      window_geometry(in_hwc_[a], extent, strides_[a], padding_ == "same", out_hwc_[a], pad_l_[a],
                      pad_r_[a]);
    }
    if (out_hwc_[a] <= 0)
      throw std::invalid_argument(kind() + ": kernel_size=" +
                                  python_repr(config_.values().at("kernel_size")) +
                                  " with dilation_rate=" +
                                  python_repr(config_.values().at("dilation_rate")) +
                                  " is larger than its input " + shape_str(in) +
                                  " with padding='valid'");
  }
  make_params(std::move(kernel_shape), out_channels);
  return keras_shape(out_hwc_[0], out_hwc_[1], out_channels);
}

// On an AVX2 CPU (no AVX-512) oneDNN 3.2's backward-weights kernel for a
// KxK convolution (jit:avx2) is faster on its blocked nChw8c layout than on
// channels-last, the copies of the source and diff_dst into that layout
// included: on a Zen 3, batch 100, 2 threads, 8->24 channels at 26x26
// 4.4 -> 3.7 and 7.1 -> 4.4 ms in two runs, 24->48 at 24x24 21.1 -> 14.2 and
// 20.4 -> 18.5, 32->64 at 26x26 43 -> 35 and 34.9 -> 33.5, 64->64 at 12x12
// 14.0 -> 9.0 and 10.3 -> 8.8 (benchmarks/conv_layouts.cpp). Forward and
// backward-data stay channels-last, where they are as fast or faster. Only
// where the channels fill whole blocks of 8 (else the copies are padded) and
// not for 1x1 kernels (their jit_1x1 kernel, not measured; see
// onednn_workarounds.hpp); AVX-512 kernels block by 16, which pads 8 and 24
// channels, and are faster on channels-last (docs/PERFORMANCE.md).
static bool weight_gradient_prefers_blocked(const std::vector<int64_t>& kernel, int64_t in,
                                            int64_t out, int64_t groups, bool channels_first) {
  static const bool avx2_class = cpu_isa_name().rfind("avx2", 0) == 0;
  return avx2_class && !channels_first && groups == 1 && in % 8 == 0 && out % 8 == 0 &&
         !is_one_by_one(kernel);
}

void ConvBase::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const int64_t ipg = in_channels_ / groups_;
  Dims w_dims = conv_weights_dims(ksize_[0], ksize_[1], ipg, out_channels_, groups_);
  auto src_md = image_md(batch, in_channels_, in_hwc_[0], in_hwc_[1], channels_first_);
  auto dst_md = image_md(batch, out_channels_, out_hwc_[0], out_hwc_[1], channels_first_);
  auto keras_w_md = keras_conv_kernel_md(ksize_[0], ksize_[1], ipg, out_channels_, groups_);
  auto b_md = use_bias_ ? plain_md({out_channels_}, Tag::x) : dnnl::memory::desc();
  Dims strides{strides_[0], strides_[1]};
  Dims dilation{dilation_[0] - 1, dilation_[1] - 1};  // oneDNN counts the gaps

  // bf16 (mixed_bfloat16): source, weights and diff_dst in bf16; dst,
  // diff_src and the weight gradient in f32 (precision.hpp).
  auto src_c = in_compute_type(src_md), w_c = in_compute_type(any_md(w_dims));
  auto diff_dst_c = in_compute_type(dst_md);
  auto fwd = dnnl::convolution_forward::primitive_desc(
      eng, prop_kind::forward_training, algorithm::convolution_direct, src_c, w_c, b_md, dst_md,
      strides, dilation, pad_l_, pad_r_, forward_attr());
  auto bwd_data = dnnl::convolution_backward_data::primitive_desc(
      eng, algorithm::convolution_direct, src_md, w_c, diff_dst_c, strides, dilation, pad_l_,
      pad_r_, fwd);
  const bool plain_gradient = needs_plain_weight_gradient(ksize_, strides_, channels_first_);
  // float32 channels-last: diff_dst is a plain (batch x height x width,
  // channels) matrix, and the bias gradient its column sums. oneDNN 3.2's
  // jit backward-weights kernels compute it in a loop of their own
  // (compute_diff_bias: 3-4 % of a seed 000 step under perf); column_sums
  // is one vectorised pass.
  bias_grad_by_column_sums_ = use_bias_ && compute_type() == DataType::f32 && !channels_first_ &&
                              !weight_gradient_prefers_blocked(ksize_, in_channels_, out_channels_,
                                                               groups_, channels_first_);
  auto bwd_weights = dnnl::convolution_backward_weights::primitive_desc(
      eng, algorithm::convolution_direct, src_c, plain_gradient ? keras_w_md : any_md(w_dims),
      bias_grad_by_column_sums_ ? dnnl::memory::desc() : b_md, diff_dst_c, strides, dilation,
      pad_l_, pad_r_, fwd);
  if (plain_gradient) check_not_broken_1x1(bwd_weights, kind());
  if (compute_type() == DataType::f32 &&
      weight_gradient_prefers_blocked(ksize_, in_channels_, out_channels_, groups_,
                                      channels_first_)) {
    auto blocked = [](const dnnl::memory::desc& md) {
      return dnnl::memory::desc(md.get_dims(), DataType::f32, Tag::nChw8c);
    };
    auto blocked_weights = dnnl::convolution_backward_weights::primitive_desc(
        eng, algorithm::convolution_direct, blocked(src_md), any_md(w_dims), b_md,
        blocked(dst_md), strides, dilation, pad_l_, pad_r_, fwd);
    // oneDNN's reference kernel would be far slower than the copies save
    if (std::string(blocked_weights.impl_info_str()).rfind("ref", 0) != 0)
      bwd_weights = blocked_weights;
  }
  adopt(fwd, bwd_data, bwd_weights, keras_w_md, batch);
}

void ConvBase::run_backward_weights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                                    const dnnl::memory& diff_weights,
                                    const dnnl::memory* diff_bias) {
  if (!bias_grad_by_column_sums_ || !diff_bias)
    return WeightedLayer::run_backward_weights(src, diff_dst, diff_weights, diff_bias);
  WeightedLayer::run_backward_weights(src, diff_dst, diff_weights, nullptr);
  const int64_t rows = batch_ * out_hwc_[0] * out_hwc_[1];
  column_sums(static_cast<const float*>(diff_dst.get_data_handle()), rows, out_channels_,
              static_cast<float*>(diff_bias->get_data_handle()));
}

Conv2D::Conv2D(Config config) : Conv2D(std::move(config), 2) {}

Conv2D::Conv2D(Config config, int rank)
    : ConvBase(std::move(config), rank, /*dilation_with_strides=*/false),
      filters_(config_.positive_int("filters")), groups_arg_(config_.positive_int("groups", 1)) {
  if (filters_ % groups_arg_ != 0)
    throw std::invalid_argument(kind() + ": the number of filters must be evenly divisible by the "
                                "number of groups, got groups=" + std::to_string(groups_arg_) +
                                " and filters=" + std::to_string(filters_));
}

Shape Conv2D::infer(const std::vector<Shape>& inputs) {
  const Shape in = image_hwc(inputs[0]);
  std::vector<int64_t> k{ksize_[0], ksize_[1], in[2] / groups_arg_, filters_};
  if (rank_ == 1) k.erase(k.begin());  // Conv1D: (k, in / groups, filters)
  return infer_conv(inputs[0], filters_, groups_arg_, std::move(k));
}

}  // namespace fmnistcpp
