#include "pooling2d.hpp"

#include "conv2d.hpp"  // window_output
#include "layer_registry.hpp"

#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

static RegisterLayer<Pooling2D> registered_max("MaxPooling2D");
static RegisterLayer<Pooling2D> registered_average("AveragePooling2D");

Pooling2D::Pooling2D(Config config)
    : Layer(std::move(config)), max_(kind() == "MaxPooling2D"),
      pool_(config_.positive_tuple("pool_size", 2, {2, 2})),
      strides_(config_.positive_tuple("strides", 2, pool_)),
      same_padding_(config_.choice("padding", {"valid", "same"}, "valid") == "same") {
  if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
      "channels_last")
    throw not_implemented(kind() + " supports data_format='channels_last' only");
}

Shape Pooling2D::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  auto hw = window_output(kind(), "pool_size", in, pool_, strides_, same_padding_, pad_l_, pad_r_);
  return {hw[0], hw[1], in[2]};
}

void Pooling2D::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const Shape& in = input();
  auto src_md = plain_md({batch, in[2], in[0], in[1]}, Tag::nhwc);
  auto dst_md = plain_md({batch, output_[2], output_[0], output_[1]}, Tag::nhwc);
  auto alg = max_ ? algorithm::pooling_max : algorithm::pooling_avg_exclude_padding;
  Dims kernel{pool_[0], pool_[1]}, strides{strides_[0], strides_[1]}, dilation{0, 0};
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

void Pooling2D::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  bind(src_m_, src[0]);
  bind(dst_m_, dst);
  if (mode.for_backward) {
    fwd_train_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_},
                                      {DNNL_ARG_DST, dst_m_},
                                      {DNNL_ARG_WORKSPACE, workspace_m_}});
  } else {
    fwd_infer_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_}, {DNNL_ARG_DST, dst_m_}});
  }
}

void Pooling2D::backward(const Sources&, const float* /*dst*/, const float* diff_dst,
                         const SourceGrads& diff_src) {
  if (!diff_src[0]) return;
  bind(diff_dst_m_, diff_dst);
  bind(diff_src_m_, diff_src[0]);
  bwd_.execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, diff_dst_m_},
                              {DNNL_ARG_DIFF_SRC, diff_src_m_},
                              {DNNL_ARG_WORKSPACE, workspace_m_}});
}

}  // namespace fmnistcpp
