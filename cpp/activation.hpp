// Keras 3's activations (keras.activations), applied to a layer's output,
// forward and backward side by side.
//
// How each one runs (the table in activation.cpp says which is which):
//  - fusable: a oneDNN eltwise algorithm that has a *_use_dst_for_bwd form
//    (relu, leaky_relu, relu6, elu, sigmoid, tanh, hard_tanh, exponential):
//    the producing convolution / inner product applies it as a post-op and
//    backward needs only the output, which the network keeps anyway;
//  - needs_input: the backward needs the pre-activation values (gelu, silu,
//    mish, softplus, ... and the hand-written ones below): the producer
//    writes its result unactivated and keeps it for backward;
//  - oneDNN eltwise when oneDNN has the algorithm, else a hand-written loop
//    (activation_kernels.cpp) repeating TensorFlow's formula;
//  - row-wise (softmax, log_softmax, sparsemax): over one axis, never fused.
#pragma once

#include "config.hpp"
#include "dnnl_context.hpp"

#include <optional>
#include <string>
#include <vector>

namespace fmnistcpp {

enum class Activation {
  linear, relu, leaky_relu, relu6, elu, selu, celu, gelu, silu, hard_silu, mish, sigmoid,
  hard_sigmoid, sparse_sigmoid, log_sigmoid, tanh, hard_tanh, tanh_shrink, softplus, softsign,
  sparse_plus, squareplus, soft_shrink, hard_shrink, exponential, softmax, log_softmax, sparsemax
};

// Keras's name (or alias: swish, hard_swish) to the activation; throws
// std::invalid_argument naming the known ones, not_implemented for the two
// Keras names no layer can use (glu changes the shape, threshold has
// required arguments).
Activation parse_activation(const std::string& name);
// Keras's names, aliases excluded, as keras.activations serializes them.
std::vector<std::string> activation_names();
const char* activation_name(Activation a);

// The optional arguments of Keras's activation functions, under their names.
struct ActivationArgs {
  double negative_slope = 0.0;      // relu, leaky_relu
  std::optional<double> max_value;  // relu
  double threshold = 0.0;           // relu; soft_shrink, hard_shrink
  double alpha = 1.0;               // elu, celu
  bool approximate = false;         // gelu
  double b = 4.0;                   // squareplus

  // Keras's defaults for `kind` (leaky_relu's slope 0.2, the shrinks' 0.5).
  static ActivationArgs defaults(Activation kind);
  // The defaults, overridden by the arguments `config` holds (Keras's
  // names; its owner names the function in messages). Every argument
  // `kind` takes is read, so check_all_read() catches the others.
  static ActivationArgs read(Activation kind, Config& config);
};

class ActivationOp {
 public:
  explicit ActivationOp(Activation kind = Activation::linear)
      : ActivationOp(kind, ActivationArgs::defaults(kind)) {}
  ActivationOp(Activation kind, const ActivationArgs& args);

  Activation kind() const { return kind_; }
  bool is_linear() const { return kind_ == Activation::linear; }
  bool is_rowwise() const {
    return kind_ == Activation::softmax || kind_ == Activation::log_softmax ||
           kind_ == Activation::sparsemax;
  }
  // Applied as the producer's post-op (fused_attr), backward from dst.
  bool fusable() const { return dst_algorithm_ != dnnl::algorithm::undef; }
  // backward() reads src, the values before the activation.
  bool needs_input() const { return needs_input_; }
  // The post-op attribute for a fusable activation (empty otherwise).
  dnnl::primitive_attr fused_attr() const;

  // (Re)builds the primitives for md (plain layout); a row-wise activation
  // acts along md's dimension `axis` (for sparsemax, the innermost one).
  void prepare(const dnnl::memory::desc& md, int axis = 1);

  // dst = act(src); src may equal dst.                 [N, ...] -> same
  void forward(const float* src, float* dst);
  // diff_src = d act(src) * diff_dst; may alias diff_dst. src may be null
  // unless needs_input().                              [N, ...] -> same
  void backward(const float* src, const float* dst, const float* diff_dst, float* diff_src);

 private:
  enum class Impl { identity, eltwise, softmax, kernel };
  void choose_implementation();

  Activation kind_;
  ActivationArgs args_;
  Impl impl_ = Impl::identity;
  dnnl::algorithm algorithm_ = dnnl::algorithm::undef;      // eltwise / softmax
  dnnl::algorithm dst_algorithm_ = dnnl::algorithm::undef;  // its use_dst form, if fusable
  float alpha_ = 0.f, beta_ = 0.f;                         // oneDNN's parameters
  bool needs_input_ = false;

  dnnl::memory::desc md_;
  int64_t elements_ = 0, row_ = 0;  // row_: the length a sparsemax row has
  int team_ = 1;                    // threads the primitives are made for (team_for_work)
  dnnl::primitive fwd_, bwd_;
  dnnl::memory src_m_, dst_m_, diff_dst_m_, diff_src_m_;
};

// keras.activations.<name>(x, **args) on rows x cols floats (row-wise ones
// along each row), for fmnistcpp.activations on arrays; and its gradient
// given diff_dst, for gradient tests. `args` holds Keras's arguments.
void apply_activation(const std::string& name, Config args, const float* x, float* y,
                      int64_t rows, int64_t cols);
void activation_gradient(const std::string& name, Config args, const float* x,
                         const float* diff_dst, float* diff_src, int64_t rows, int64_t cols);

}  // namespace fmnistcpp
