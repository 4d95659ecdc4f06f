#include "activation.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

Activation parse_activation(const std::string& name) {
  if (name == "linear" || name.empty() || name == "None") return Activation::linear;
  if (name == "relu") return Activation::relu;
  if (name == "sigmoid") return Activation::sigmoid;
  if (name == "tanh") return Activation::tanh;
  if (name == "softmax") return Activation::softmax;
  throw std::invalid_argument("unknown activation '" + name +
                              "'; known: linear, relu, sigmoid, tanh, softmax");
}

std::vector<std::string> activation_names() {
  return {"linear", "relu", "sigmoid", "tanh", "softmax"};
}

const char* activation_name(Activation a) {
  switch (a) {
    case Activation::linear: return "linear";
    case Activation::relu: return "relu";
    case Activation::sigmoid: return "sigmoid";
    case Activation::tanh: return "tanh";
    case Activation::softmax: return "softmax";
  }
  return "?";
}

// Forward algorithms are the *_use_dst_for_bwd variants so that backward
// only needs the output, never the pre-activation values.
static algorithm eltwise_algorithm(Activation a) {
  switch (a) {
    case Activation::relu: return algorithm::eltwise_relu_use_dst_for_bwd;
    case Activation::sigmoid: return algorithm::eltwise_logistic_use_dst_for_bwd;
    case Activation::tanh: return algorithm::eltwise_tanh_use_dst_for_bwd;
    default: throw std::logic_error("not an elementwise activation");
  }
}

dnnl::primitive_attr ActivationOp::fused_attr() const {
  dnnl::primitive_attr attr;
  if (is_elementwise()) {
    dnnl::post_ops ops;
    algorithm alg = kind_ == Activation::relu      ? algorithm::eltwise_relu
                    : kind_ == Activation::sigmoid ? algorithm::eltwise_logistic
                                                   : algorithm::eltwise_tanh;
    ops.append_eltwise(alg, 0.f, 0.f);
    attr.set_post_ops(ops);
  }
  return attr;
}

void ActivationOp::prepare(const dnnl::memory::desc& md, bool fused) {
  fused_ = fused && is_elementwise();
  md_ = md;
  elements_ = md.get_size() / sizeof(float);
  auto& eng = cpu_engine();
  if (is_elementwise()) {
    auto fwd_pd = dnnl::eltwise_forward::primitive_desc(eng, prop_kind::forward_training,
                                                         eltwise_algorithm(kind_), md, md, 0.f, 0.f);
    auto bwd_pd = dnnl::eltwise_backward::primitive_desc(eng, eltwise_algorithm(kind_), md, md, md,
                                                         0.f, 0.f, fwd_pd);
    fwd_ = dnnl::eltwise_forward(fwd_pd);
    bwd_ = dnnl::eltwise_backward(bwd_pd);
  } else if (kind_ == Activation::softmax) {
    auto fwd_pd = dnnl::softmax_forward::primitive_desc(eng, prop_kind::forward_training,
                                                        algorithm::softmax_accurate, md, md, 1);
    auto bwd_pd = dnnl::softmax_backward::primitive_desc(eng, algorithm::softmax_accurate, md, md,
                                                         md, 1, fwd_pd);
    fwd_ = dnnl::softmax_forward(fwd_pd);
    bwd_ = dnnl::softmax_backward(bwd_pd);
  }
  src_m_ = unbound_memory(md);
  dst_m_ = unbound_memory(md);
  diff_dst_m_ = unbound_memory(md);
  diff_src_m_ = unbound_memory(md);
}

void ActivationOp::forward(const float* src, float* dst) {
  if (kind_ == Activation::linear || fused_) {
    if (src != dst) std::memcpy(dst, src, elements_ * sizeof(float));
    return;
  }
  bind(src_m_, src);
  bind(dst_m_, dst);
  fwd_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_}, {DNNL_ARG_DST, dst_m_}});
}

void ActivationOp::backward(const float* dst, const float* diff_dst, float* diff_src) {
  if (kind_ == Activation::linear) {
    if (diff_src != diff_dst) std::memcpy(diff_src, diff_dst, elements_ * sizeof(float));
    return;
  }
  bind(dst_m_, dst);
  bind(diff_dst_m_, diff_dst);
  bind(diff_src_m_, diff_src);
  bwd_.execute(cpu_stream(), {{DNNL_ARG_DST, dst_m_},
                              {DNNL_ARG_DIFF_DST, diff_dst_m_},
                              {DNNL_ARG_DIFF_SRC, diff_src_m_}});
}

}  // namespace fmnistcpp
