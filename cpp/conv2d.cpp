#include "conv2d.hpp"

#include <algorithm>
#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

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

Conv2D::Conv2D(int64_t filters, int64_t kernel_h, int64_t kernel_w, int64_t stride_h,
               int64_t stride_w, bool same_padding, Activation activation, bool use_bias)
    : WeightedLayer(activation, use_bias), filters_(filters), kh_(kernel_h), kw_(kernel_w),
      sh_(stride_h), sw_(stride_w), same_padding_(same_padding) {
  if (filters <= 0 || kernel_h <= 0 || kernel_w <= 0 || stride_h <= 0 || stride_w <= 0)
    throw std::invalid_argument("Conv2D: filters, kernel_size and strides must be positive");
}

Shape Conv2D::build(const Shape& input) {
  if (input.size() != 3)
    throw std::invalid_argument("Conv2D expects input of shape (height, width, channels), got " +
                                shape_str(input));
  int64_t oh, ow, pt, pb, pl, pr;
  window_geometry(input[0], kh_, sh_, same_padding_, oh, pt, pb);
  window_geometry(input[1], kw_, sw_, same_padding_, ow, pl, pr);
  if (oh <= 0 || ow <= 0)
    throw std::invalid_argument("Conv2D kernel (" + std::to_string(kh_) + ", " +
                                std::to_string(kw_) + ") is larger than its input " +
                                shape_str(input) + " with padding='valid'");
  input_ = input;
  pad_l_ = {pt, pl};
  pad_r_ = {pb, pr};
  output_ = {oh, ow, filters_};
  make_params({kh_, kw_, input[2], filters_}, filters_);
  return output_;
}

void Conv2D::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  Dims w_dims{filters_, input_[2], kh_, kw_};
  Dims strides{sh_, sw_};
  auto src_md = plain_md({batch, input_[2], input_[0], input_[1]}, Tag::nhwc);
  auto dst_md = plain_md({batch, filters_, output_[0], output_[1]}, Tag::nhwc);
  auto keras_w_md = plain_md(w_dims, Tag::hwio);
  auto b_md = use_bias_ ? plain_md({filters_}, Tag::x) : dnnl::memory::desc();

  auto fwd = dnnl::convolution_forward::primitive_desc(
      eng, prop_kind::forward_training, algorithm::convolution_direct, src_md, any_md(w_dims), b_md,
      dst_md, strides, pad_l_, pad_r_, forward_attr());
  auto bwd_data = dnnl::convolution_backward_data::primitive_desc(
      eng, algorithm::convolution_direct, src_md, any_md(w_dims), dst_md, strides, pad_l_, pad_r_,
      fwd);
  auto bwd_weights = dnnl::convolution_backward_weights::primitive_desc(
      eng, algorithm::convolution_direct, src_md, any_md(w_dims), b_md, dst_md, strides, pad_l_,
      pad_r_, fwd);
  adopt(fwd, bwd_data, bwd_weights, keras_w_md, batch);
}

}  // namespace fmnistcpp
