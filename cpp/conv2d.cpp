#include "conv2d.hpp"

#include "layer_registry.hpp"

#include <algorithm>
#include <stdexcept>

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

Conv2D::Conv2D(Config config)
    : WeightedLayer(std::move(config)), filters_(config_.positive_int("filters")),
      kernel_(config_.positive_tuple("kernel_size", 2, {})),
      strides_(config_.positive_tuple("strides", 2, {1, 1})),
      same_padding_(config_.choice("padding", {"valid", "same"}, "valid") == "same") {
  if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
      "channels_last")
    throw not_implemented("Conv2D supports data_format='channels_last' only");
  if (config_.positive_tuple("dilation_rate", 2, {1, 1}) != std::vector<int64_t>{1, 1})
    throw not_implemented("Conv2D dilation_rate other than 1 is not supported");
  if (config_.positive_int("groups", 1) != 1)
    throw not_implemented("grouped Conv2D (groups > 1) is not supported");
}

Shape Conv2D::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  auto hw = window_output("Conv2D", "kernel", in, kernel_, strides_, same_padding_, pad_l_, pad_r_);
  make_params({kernel_[0], kernel_[1], in[2], filters_}, filters_);
  return {hw[0], hw[1], filters_};
}

void Conv2D::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const Shape& in = input();
  Dims w_dims{filters_, in[2], kernel_[0], kernel_[1]};
  Dims strides{strides_[0], strides_[1]};
  auto src_md = plain_md({batch, in[2], in[0], in[1]}, Tag::nhwc);
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
