// Activation functions (relu, sigmoid, tanh, softmax, linear) applied to a
// layer's output, forward and backward side by side. Elementwise ones can be
// fused into the producing primitive as a post-op; their backward always
// uses the activation's output (dst), which the network keeps anyway.
#pragma once

#include "dnnl_context.hpp"

#include <memory>
#include <string>
#include <vector>

namespace fmnistcpp {

enum class Activation { linear, relu, sigmoid, tanh, softmax };

// Throws std::invalid_argument naming the known activations.
Activation parse_activation(const std::string& name);
// The names parse_activation accepts.
std::vector<std::string> activation_names();
const char* activation_name(Activation a);

class ActivationOp {
 public:
  explicit ActivationOp(Activation kind) : kind_(kind) {}

  Activation kind() const { return kind_; }
  bool is_elementwise() const {
    return kind_ == Activation::relu || kind_ == Activation::sigmoid || kind_ == Activation::tanh;
  }
  // Post-op attribute for fusing an elementwise activation into the
  // preceding convolution / inner product.
  dnnl::primitive_attr fused_attr() const;

  // (Re)builds primitives for output descriptor md (plain layout, channels
  // on axis 1). When `fused` the forward elementwise part is done by the
  // producer's post-op and forward() only runs softmax.
  void prepare(const dnnl::memory::desc& md, bool fused);

  // dst = act(src); src may equal dst.          [N, C, (H, W)] -> same
  void forward(const float* src, float* dst);
  // diff_src = act'(dst) * diff_dst; may alias.  [N, C, (H, W)] -> same
  void backward(const float* dst, const float* diff_dst, float* diff_src);

 private:
  Activation kind_;
  bool fused_ = false;
  dnnl::memory::desc md_;
  size_t elements_ = 0;
  dnnl::primitive fwd_, bwd_;
  dnnl::memory src_m_, dst_m_, diff_dst_m_, diff_src_m_;
};

}  // namespace fmnistcpp
