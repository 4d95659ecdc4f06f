#include "activation.hpp"

#include "activation_kernels.hpp"
#include "denormals.hpp"
#include "engine_guard.hpp"
#include "thread_team.hpp"

#include <cstring>
#include <stdexcept>
#include <utility>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

namespace {

struct Named {
  const char* name;
  Activation kind;
};

// Keras 3.15's keras.activations names (keras/src/activations/__init__.py),
// in its ALL_OBJECTS order, less glu and threshold (see parse_activation).
constexpr Named kNames[] = {
    {"relu", Activation::relu},
    {"leaky_relu", Activation::leaky_relu},
    {"relu6", Activation::relu6},
    {"softmax", Activation::softmax},
    {"celu", Activation::celu},
    {"elu", Activation::elu},
    {"selu", Activation::selu},
    {"softplus", Activation::softplus},
    {"softsign", Activation::softsign},
    {"squareplus", Activation::squareplus},
    {"soft_shrink", Activation::soft_shrink},
    {"sparse_plus", Activation::sparse_plus},
    {"silu", Activation::silu},
    {"gelu", Activation::gelu},
    {"tanh", Activation::tanh},
    {"tanh_shrink", Activation::tanh_shrink},
    {"sigmoid", Activation::sigmoid},
    {"sparse_sigmoid", Activation::sparse_sigmoid},
    {"exponential", Activation::exponential},
    {"hard_sigmoid", Activation::hard_sigmoid},
    {"hard_silu", Activation::hard_silu},
    {"hard_tanh", Activation::hard_tanh},
    {"hard_shrink", Activation::hard_shrink},
    {"linear", Activation::linear},
    {"mish", Activation::mish},
    {"log_softmax", Activation::log_softmax},
    {"log_sigmoid", Activation::log_sigmoid},
    {"sparsemax", Activation::sparsemax},
};

}  // namespace

Activation parse_activation(const std::string& name) {
  if (name.empty() || name == "None") return Activation::linear;
  if (name == "swish") return Activation::silu;  // Keras's aliases
  if (name == "hard_swish") return Activation::hard_silu;
  for (const Named& n : kNames)
    if (name == n.name) return n.kind;
  if (name == "glu")
    throw not_implemented(
        "activation 'glu' halves the last axis, and Keras's own layers then report a shape "
        "their output does not have; it is supported on arrays only "
        "(fmnistcpp.activations.glu)");
  if (name == "threshold")
    throw not_implemented(
        "activation 'threshold' needs its `threshold` and `default_value` arguments, which a "
        "layer's activation cannot take; use fmnistcpp.layers.ReLU(threshold=...) or "
        "fmnistcpp.activations.threshold on arrays");
  std::string known;
  for (const Named& n : kNames) known += std::string(known.empty() ? "" : ", ") + n.name;
  throw std::invalid_argument("unknown activation '" + name + "'; known: " + known +
                              " (and the aliases swish, hard_swish)");
}

std::vector<std::string> activation_names() {
  std::vector<std::string> out;
  for (const Named& n : kNames) out.push_back(n.name);
  return out;
}

const char* activation_name(Activation a) {
  for (const Named& n : kNames)
    if (n.kind == a) return n.name;
  return "?";
}

ActivationArgs ActivationArgs::defaults(Activation kind) {
  ActivationArgs a;
  if (kind == Activation::leaky_relu) a.negative_slope = 0.2;
  if (kind == Activation::soft_shrink || kind == Activation::hard_shrink) a.threshold = 0.5;
  return a;
}

ActivationArgs ActivationArgs::read(Activation kind, Config& c) {
  ActivationArgs a = defaults(kind);
  switch (kind) {
    case Activation::relu:
      a.negative_slope = c.number("negative_slope", a.negative_slope);
      a.max_value = c.optional_number("max_value");
      a.threshold = c.number("threshold", a.threshold);
      break;
    case Activation::leaky_relu:
      a.negative_slope = c.number("negative_slope", a.negative_slope);
      break;
    case Activation::elu:
    case Activation::celu:
      a.alpha = c.number("alpha", a.alpha);
      if (kind == Activation::celu && a.alpha == 0.0)
        throw std::invalid_argument("celu alpha must not be 0 (it divides by it)");
      break;
    case Activation::gelu:
      a.approximate = c.flag("approximate", a.approximate);
      break;
    case Activation::soft_shrink:
    case Activation::hard_shrink:
      a.threshold = c.number("threshold", a.threshold);
      break;
    case Activation::squareplus:
      a.b = c.number("b", a.b);
      if (!(a.b >= 0.0)) throw std::invalid_argument("squareplus b must be >= 0");
      break;
    default:
      break;
  }
  return a;
}

ActivationOp::ActivationOp(Activation kind, const ActivationArgs& args)
    : kind_(kind), args_(args) {
  choose_implementation();
}

// oneDNN's algorithm where it has one (with its use_dst form, if any, which
// makes the activation fusable), else the hand-written loops.
void ActivationOp::choose_implementation() {
  const ActivationArgs& a = args_;
  auto eltwise = [&](algorithm alg, float alpha = 0.f, float beta = 0.f,
                     algorithm dst_alg = algorithm::undef) {
    impl_ = Impl::eltwise;
    algorithm_ = alg;
    dst_algorithm_ = dst_alg;
    alpha_ = alpha;
    beta_ = beta;
    needs_input_ = dst_alg == algorithm::undef;
  };
  if (kind_ == Activation::linear) return;
  if (kind_ == Activation::sparsemax) {
    impl_ = Impl::kernel;
    needs_input_ = true;
    return;
  }
  if (has_kernel(kind_, a)) {
    impl_ = Impl::kernel;
    needs_input_ = kernel_needs_input(kind_);
    return;
  }
  const float slope = static_cast<float>(a.negative_slope);
  switch (kind_) {
    case Activation::relu:
      if (a.max_value)  // (a slope with a maximum is a kernel)
        return eltwise(algorithm::eltwise_clip_v2, 0.f, static_cast<float>(*a.max_value),
                       algorithm::eltwise_clip_v2_use_dst_for_bwd);
      [[fallthrough]];
    case Activation::leaky_relu:  // oneDNN's relu_use_dst needs alpha >= 0
      return eltwise(algorithm::eltwise_relu, slope, 0.f,
                     slope >= 0.f ? algorithm::eltwise_relu_use_dst_for_bwd : algorithm::undef);
    case Activation::relu6:
      return eltwise(algorithm::eltwise_clip_v2, 0.f, 6.f,
                     algorithm::eltwise_clip_v2_use_dst_for_bwd);
    case Activation::hard_tanh:
      return eltwise(algorithm::eltwise_clip_v2, -1.f, 1.f,
                     algorithm::eltwise_clip_v2_use_dst_for_bwd);
    case Activation::elu:
    case Activation::celu: {  // (celu with alpha 1 is elu; others are kernels)
      const float alpha = static_cast<float>(a.alpha);
      return eltwise(algorithm::eltwise_elu, alpha, 0.f,
                     alpha >= 0.f ? algorithm::eltwise_elu_use_dst_for_bwd : algorithm::undef);
    }
    case Activation::sigmoid:
      return eltwise(algorithm::eltwise_logistic, 0.f, 0.f,
                     algorithm::eltwise_logistic_use_dst_for_bwd);
    case Activation::tanh:
      return eltwise(algorithm::eltwise_tanh, 0.f, 0.f, algorithm::eltwise_tanh_use_dst_for_bwd);
    case Activation::exponential:
      return eltwise(algorithm::eltwise_exp, 0.f, 0.f, algorithm::eltwise_exp_use_dst_for_bwd);
    // Keras: relu6(x + 3) / 6 and x * that; oneDNN: max(0, min(1, x / 6 + 1/2)).
    case Activation::hard_sigmoid:
      return eltwise(algorithm::eltwise_hardsigmoid, 1.f / 6.f, 0.5f);
    case Activation::hard_silu:
      return eltwise(algorithm::eltwise_hardswish, 1.f / 6.f, 0.5f);
    case Activation::gelu:
      return eltwise(a.approximate ? algorithm::eltwise_gelu_tanh : algorithm::eltwise_gelu_erf);
    case Activation::silu:  // x * sigmoid(alpha * x)
      return eltwise(algorithm::eltwise_swish, 1.f);
    case Activation::mish:
      return eltwise(algorithm::eltwise_mish);
    // soft_relu: log(1 + exp(alpha * x)) / alpha; alpha = -1 is log_sigmoid.
    case Activation::softplus:
      return eltwise(algorithm::eltwise_soft_relu, 1.f);
    case Activation::log_sigmoid:
      return eltwise(algorithm::eltwise_soft_relu, -1.f);
    case Activation::softmax:
    case Activation::log_softmax:
      impl_ = Impl::softmax;
      algorithm_ = kind_ == Activation::softmax ? algorithm::softmax_accurate
                                                : algorithm::softmax_log;
      return;
    default:
      throw std::logic_error(std::string("no implementation for activation ") +
                             activation_name(kind_));
  }
}

// Post-ops take the plain algorithms; the use_dst forms exist for backward.
dnnl::primitive_attr ActivationOp::fused_attr() const {
  dnnl::primitive_attr attr;
  if (fusable()) {
    dnnl::post_ops ops;
    ops.append_eltwise(algorithm_, alpha_, beta_);
    attr.set_post_ops(ops);
  }
  return attr;
}

void ActivationOp::prepare(const dnnl::memory::desc& md, int axis) {
  md_ = md;
  elements_ = static_cast<int64_t>(md.get_size() / sizeof(float));
  row_ = md.get_dims().at(axis);
  team_ = team_for_work(elements_);
  ScopedTeam team(team_);
  auto& eng = cpu_engine();
  if (impl_ == Impl::eltwise) {
    // The forward primitive descriptor is the hint for backward; with a
    // use_dst algorithm backward reads dst, otherwise src.
    const algorithm fwd_alg = fusable() ? dst_algorithm_ : algorithm_;
    auto fwd_pd = dnnl::eltwise_forward::primitive_desc(eng, prop_kind::forward_training,
                                                         fwd_alg, md, md, alpha_, beta_);
    auto bwd_pd = dnnl::eltwise_backward::primitive_desc(eng, fwd_alg, md, md, md, alpha_,
                                                         beta_, fwd_pd);
    fwd_ = dnnl::eltwise_forward(fwd_pd);
    bwd_ = dnnl::eltwise_backward(bwd_pd);
  } else if (impl_ == Impl::softmax) {
    auto fwd_pd = dnnl::softmax_forward::primitive_desc(eng, prop_kind::forward_training,
                                                        algorithm_, md, md, axis);
    auto bwd_pd =
        dnnl::softmax_backward::primitive_desc(eng, algorithm_, md, md, md, axis, fwd_pd);
    fwd_ = dnnl::softmax_forward(fwd_pd);
    bwd_ = dnnl::softmax_backward(bwd_pd);
  } else if (kind_ == Activation::sparsemax) {
    const auto& strides = md.get_strides();
    if (strides.at(axis) != 1)
      throw not_implemented("sparsemax along an axis other than the last is not supported");
  }
  src_m_ = unbound_memory(md);
  dst_m_ = unbound_memory(md);
  diff_dst_m_ = unbound_memory(md);
  diff_src_m_ = unbound_memory(md);
}

void ActivationOp::forward(const float* src, float* dst) {
  switch (impl_) {
    case Impl::identity:
      if (src != dst) std::memcpy(dst, src, elements_ * sizeof(float));
      return;
    case Impl::kernel:
      if (kind_ == Activation::sparsemax)
        sparsemax_forward(src, dst, elements_ / row_, row_);
      else
        kernel_forward(kind_, args_, src, dst, elements_);
      return;
    default:
      bind(src_m_, src);
      bind(dst_m_, dst);
      ScopedTeam team(team_);
      fwd_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_}, {DNNL_ARG_DST, dst_m_}});
  }
}

void ActivationOp::backward(const float* src, const float* dst, const float* diff_dst,
                            float* diff_src) {
  if (needs_input_ && !src) throw std::logic_error("activation backward needs its input");
  switch (impl_) {
    case Impl::identity:
      if (diff_src != diff_dst) std::memcpy(diff_src, diff_dst, elements_ * sizeof(float));
      return;
    case Impl::kernel:
      if (kind_ == Activation::sparsemax)
        sparsemax_backward(src, diff_dst, diff_src, elements_ / row_, row_);
      else
        kernel_backward(kind_, args_, src, dst, diff_dst, diff_src, elements_);
      return;
    default: {
      // softmax and the use_dst algorithms read dst, the others src.
      const bool from_dst = impl_ == Impl::softmax || !needs_input_;
      bind(diff_dst_m_, diff_dst);
      bind(diff_src_m_, diff_src);
      dnnl::memory& values = from_dst ? dst_m_ : src_m_;
      bind(values, from_dst ? dst : src);
      ScopedTeam team(team_);
      bwd_.execute(cpu_stream(), {{from_dst ? DNNL_ARG_DST : DNNL_ARG_SRC, values},
                                  {DNNL_ARG_DIFF_DST, diff_dst_m_},
                                  {DNNL_ARG_DIFF_SRC, diff_src_m_}});
    }
  }
}

// --- on arrays -------------------------------------------------------------------------
static ActivationOp op_for(const std::string& name, Config& args) {
  const Activation kind = parse_activation(name);
  ActivationArgs a = ActivationArgs::read(kind, args);
  args.check_all_read();
  return ActivationOp(kind, a);
}

void apply_activation(const std::string& name, Config args, const float* x, float* y,
                      int64_t rows, int64_t cols) {
  EngineGuard guard;
  FlushDenormals flush;  // as TensorFlow computes
  ActivationOp op = op_for(name, args);
  op.prepare(plain_md({rows, cols}, Tag::nc), 1);
  op.forward(x, y);
}

void activation_gradient(const std::string& name, Config args, const float* x,
                         const float* diff_dst, float* diff_src, int64_t rows, int64_t cols) {
  EngineGuard guard;
  FlushDenormals flush;
  ActivationOp op = op_for(name, args);
  op.prepare(plain_md({rows, cols}, Tag::nc), 1);
  std::vector<float> y(static_cast<size_t>(rows * cols));
  op.forward(x, y.data());
  op.backward(x, y.data(), diff_dst, diff_src);
}

}  // namespace fmnistcpp
