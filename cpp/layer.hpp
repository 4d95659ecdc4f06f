// The interface every layer implements. Tensors are float32 in Keras's
// channels-last order: per-sample shape (H, W, C) or (F,), batch first.
// The network owns every activation and gradient buffer and hands layers
// raw pointers into them; layers own only their primitives, parameters and
// state that must survive from forward to backward (pooling workspace,
// dropout mask).
#pragma once

#include "activation.hpp"
#include "checked_math.hpp"
#include "param.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fmnistcpp {

using Shape = std::vector<int64_t>;  // per-sample shape, no batch axis

// What a forward pass is for. Dropout acts only in `training`; layers that
// must remember something for backward (max pooling's argmax) do so when
// `for_backward`, which gradient checks also set without training.
struct ForwardMode {
  bool training = false;
  bool for_backward = false;
};

inline int64_t shape_size(const Shape& s) { return checked_size(s); }  // or a ValueError
std::string shape_str(const Shape& s);

class Layer {
 public:
  virtual ~Layer() = default;
  virtual const char* kind() const = 0;

  // Checks the input shape and creates the parameters; returns the output
  // shape. Throws std::invalid_argument when the input does not fit.
  virtual Shape build(const Shape& input) = 0;
  // Builds primitives for a batch size (no-op if unchanged).
  virtual void prepare(int64_t batch) = 0;
  // The next prepare() builds them again (they are planned for a thread count).
  void forget_primitives() { batch_ = -1; }

  // dst = layer(src).                               [N, in] -> [N, out]
  virtual void forward(const float* src, float* dst, const ForwardMode& mode) = 0;
  // Accumulates nothing: overwrites each param's grad for this batch, and
  // writes diff_src unless it is null (first layer needs none).
  //                                     [N, out] -> [N, in] (+ param grads)
  virtual void backward(const float* src, const float* dst, const float* diff_dst,
                        float* diff_src) = 0;

  // True when output is the input's memory reinterpreted (Flatten, Reshape).
  virtual bool is_view() const { return false; }
  virtual std::vector<Param*> params() { return {}; }

  // The activation this layer ends in. Keras's softmax and sigmoid attach
  // their inputs to their outputs as logits, and its cross-entropies use
  // those; the network then asks the last layer to stop at the logits.
  virtual Activation output_activation() const { return Activation::linear; }
  virtual void set_emit_logits(bool) {}
  // Needs a random stream (dropout); the network provides a seed per batch.
  virtual void set_seed(uint64_t) {}

  const Shape& input_shape() const { return input_; }
  const Shape& output_shape() const { return output_; }

 protected:
  Shape input_, output_;
  int64_t batch_ = -1;
};

using LayerPtr = std::unique_ptr<Layer>;

}  // namespace fmnistcpp
