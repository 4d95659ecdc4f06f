#include "pooling2d.hpp"

#include "conv2d.hpp"  // window_output
#include "layer_registry.hpp"

#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

static RegisterLayer<Pooling2D> registered_max("MaxPooling2D");
static RegisterLayer<Pooling2D> registered_average("AveragePooling2D");
static RegisterLayer<Pooling2D> registered_max_1d("MaxPooling1D");
static RegisterLayer<Pooling2D> registered_average_1d("AveragePooling1D");

static std::vector<int64_t> as_2d(const std::vector<int64_t>& v, int rank) {
  return rank == 2 ? v : std::vector<int64_t>{1, v[0]};
}

Pooling2D::Pooling2D(Config config)
    : Layer(std::move(config)), max_(kind().rfind("Max", 0) == 0),
      rank_(kind().find("1D") != std::string::npos ? 1 : 2) {
  const std::vector<int64_t> pool =
      config_.positive_tuple("pool_size", rank_, std::vector<int64_t>(rank_, 2));
  pool_ = as_2d(pool, rank_);
  strides_ = as_2d(config_.positive_tuple("strides", rank_, pool), rank_);
  same_padding_ = config_.choice("padding", {"valid", "same"}, "valid") == "same";
  channels_first_ = config_.choice("data_format", {"channels_last", "channels_first"},
                                   "channels_last") == "channels_first";
}

Shape Pooling2D::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != size_t(rank_ + 1)) {
    const char* form = rank_ == 2 ? (channels_first_ ? "(channels, height, width)"
                                                     : "(height, width, channels)")
                                  : (channels_first_ ? "(channels, steps)" : "(steps, channels)");
    throw std::invalid_argument(kind() + " expects input of shape " + form + ", got " +
                                shape_str(in));
  }
  if (rank_ == 1) in_hwc_ = channels_first_ ? Shape{1, in[1], in[0]} : Shape{1, in[0], in[1]};
  else in_hwc_ = channels_first_ ? Shape{in[1], in[2], in[0]} : in;
  auto hw = window_output(kind(), "pool_size", in_hwc_, pool_, strides_, same_padding_, pad_l_,
                          pad_r_);
  const int64_t c = in_hwc_[2];
  if (rank_ == 1) return channels_first_ ? Shape{c, hw[1]} : Shape{hw[1], c};
  return channels_first_ ? Shape{c, hw[0], hw[1]} : Shape{hw[0], hw[1], c};
}

void Pooling2D::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  const Shape& in = in_hwc_;
  int64_t oh, ow, p0, p1;
  window_geometry(in[0], pool_[0], strides_[0], same_padding_, oh, p0, p1);
  window_geometry(in[1], pool_[1], strides_[1], same_padding_, ow, p0, p1);
  auto src_md = image_md(batch, in[2], in[0], in[1], channels_first_);
  auto dst_md = image_md(batch, in[2], oh, ow, channels_first_);
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

void Pooling2D::backward(const Sources&, const float* /*dst*/, float* diff_dst,
                         const SourceGrads& diff_src) {
  if (!diff_src[0]) return;
  bind(diff_dst_m_, diff_dst);
  bind(diff_src_m_, diff_src[0]);
  bwd_.execute(cpu_stream(), {{DNNL_ARG_DIFF_DST, diff_dst_m_},
                              {DNNL_ARG_DIFF_SRC, diff_src_m_},
                              {DNNL_ARG_WORKSPACE, workspace_m_}});
}

}  // namespace fmnistcpp
