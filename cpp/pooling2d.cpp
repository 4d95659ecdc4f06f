#include "pooling2d.hpp"

#include "conv2d.hpp"  // window_geometry

#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

Pooling2D::Pooling2D(bool max, int64_t pool_h, int64_t pool_w, int64_t stride_h, int64_t stride_w,
                     bool same_padding)
    : max_(max), ph_(pool_h), pw_(pool_w), sh_(stride_h), sw_(stride_w),
      same_padding_(same_padding) {
  if (pool_h <= 0 || pool_w <= 0 || stride_h <= 0 || stride_w <= 0)
    throw std::invalid_argument(std::string(kind()) + ": pool_size and strides must be positive");
}

Shape Pooling2D::build(const Shape& input) {
  if (input.size() != 3)
    throw std::invalid_argument(std::string(kind()) +
                                " expects input of shape (height, width, channels), got " +
                                shape_str(input));
  int64_t oh, ow, pt, pb, pl, pr;
  window_geometry(input[0], ph_, sh_, same_padding_, oh, pt, pb);
  window_geometry(input[1], pw_, sw_, same_padding_, ow, pl, pr);
  if (oh <= 0 || ow <= 0)
    throw std::invalid_argument(std::string(kind()) + " pool_size (" + std::to_string(ph_) + ", " +
                                std::to_string(pw_) + ") is larger than its input " +
                                shape_str(input) + " with padding='valid'");
  input_ = input;
  output_ = {oh, ow, input[2]};
  pad_l_ = {pt, pl};
  pad_r_ = {pb, pr};
  batch_ = -1;
  return output_;
}

void Pooling2D::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  auto src_md = plain_md({batch, input_[2], input_[0], input_[1]}, Tag::nhwc);
  auto dst_md = plain_md({batch, output_[2], output_[0], output_[1]}, Tag::nhwc);
  auto alg = max_ ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
  Dims kernel{ph_, pw_}, strides{sh_, sw_}, dilation{0, 0};
  auto train_pd = dnnl::pooling_forward::primitive_desc(eng, prop_kind::forward_training, alg,
                                                        src_md, dst_md, strides, kernel, dilation,
                                                        pad_l_, pad_r_);
  auto infer_pd = dnnl::pooling_forward::primitive_desc(eng, prop_kind::forward_inference, alg,
                                                        src_md, dst_md, strides, kernel, dilation,
                                                        pad_l_, pad_r_);
  auto bwd_pd = dnnl::pooling_backward::primitive_desc(eng, alg, src_md, dst_md, strides, kernel,
                                                       dilation, pad_l_, pad_r_, train_pd);
  fwd_train_ = dnnl::pooling_forward(train_pd);
  fwd_infer_ = dnnl::pooling_forward(infer_pd);
  bwd_ = dnnl::pooling_backward(bwd_pd);
  // Max pooling remembers where each maximum came from, for backward.
  workspace_m_ = dnnl::memory(train_pd.workspace_desc(), eng);
  src_m_ = unbound_memory(src_md);
  dst_m_ = unbound_memory(dst_md);
  diff_dst_m_ = unbound_memory(dst_md);
  diff_src_m_ = unbound_memory(src_md);
}

void Pooling2D::forward(const float* src, float* dst, const ForwardMode& mode) {
  bind(src_m_, src);
  bind(dst_m_, dst);
  if (mode.for_backward) {
    fwd_train_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_},
                                      {DNNL_ARG_DST, dst_m_},
                                      {DNNL_ARG_WORKSPACE, workspace_m_}});
  } else {
    fwd_infer_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_}, {DNNL_ARG_DST, dst_m_}});
  }
}

void Pooling2D::backward(const float* /*src*/, const float* /*dst*/, const float* diff_dst,
                         float* diff_src) {
  if (!diff_src) return;
  bind(diff_dst_m_, diff_dst);
  bind(diff_src_m_, diff_src);
  bwd_.execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, diff_dst_m_},
                              {DNNL_ARG_DIFF_SRC, diff_src_m_},
                              {DNNL_ARG_WORKSPACE, workspace_m_}});
}

}  // namespace fmnistcpp
