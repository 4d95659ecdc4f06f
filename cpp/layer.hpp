// The interface every layer implements, and the one place a layer is
// described: its arguments (Config, checked in the constructor), its output
// shape and parameters (build), its forward and backward pass.
//
// Tensors are float32 in Keras's channels-last order: per-sample shape
// (H, W, C) or (F,), batch first. The network owns every activation and
// gradient buffer and hands layers raw pointers into them; a layer owns its
// parameters, its primitives and the state that must survive from forward
// to backward (pooling workspace, dropout mask). A layer object may belong
// to several networks (a model and the feature-map model made from its
// layers share weights, as in Keras); a network prepares each layer for its
// batch before every pass.
#pragma once

#include "activation.hpp"
#include "checked_math.hpp"
#include "config.hpp"
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

// Product of the dimensions; a ValueError for a negative dimension or more
// elements than one tensor can hold (a hostile config such as Dense(2**40)).
inline int64_t shape_size(const Shape& s) { return checked_size(s); }
std::string shape_str(const Shape& s);

using Sources = std::vector<const float*>;  // one per input of the node
using SourceGrads = std::vector<float*>;    // null: that input needs no gradient

class Layer {
 public:
  explicit Layer(Config config) : config_(std::move(config)) {}
  virtual ~Layer() = default;
  Layer(const Layer&) = delete;
  Layer& operator=(const Layer&) = delete;

  // Keras's class name ("Conv2D").
  const std::string& kind() const { return config_.owner(); }
  // The normalised arguments the layer was made from.
  const Config& config() const { return config_; }

  // How many inputs a call takes: 1 for most layers, kAnyArity (two or
  // more) for merge layers.
  static constexpr int kAnyArity = -1;
  virtual int arity() const { return 1; }

  // Checks the input shapes, creates the parameters the first time, and
  // returns the output shape. A built layer accepts only the shapes it was
  // built for. Throws std::invalid_argument when the inputs do not fit.
  Shape build(const std::vector<Shape>& inputs);
  bool built() const { return built_; }
  const std::vector<Shape>& input_shapes() const { return inputs_; }
  const Shape& output_shape() const { return output_; }

  // Builds primitives for a batch size; a no-op when unchanged.
  virtual void prepare(int64_t batch) = 0;
  // The next prepare() builds them again (they are planned for a thread count).
  void forget_primitives() { batch_ = -1; }

  // dst = layer(src...).                      [N, *in_i] -> [N, *out]
  virtual void forward(const Sources& src, float* dst, const ForwardMode& mode) = 0;
  // Overwrites each parameter's grad for this batch and writes each
  // non-null diff_src[i].           [N, *out] -> [N, *in_i] (+ param grads)
  // diff_dst is the layer's to overwrite: the network drops a tensor's
  // gradient once its producer has run, so an activation's backward can
  // run in place (a 9 MB pass fewer for seed 000's last convolution).
  virtual void backward(const Sources& src, const float* dst, float* diff_dst,
                        const SourceGrads& diff_src) = 0;

  // True when backward may write diff_src[0] into diff_dst's memory (one
  // input, each element's gradient read before the same one is written);
  // the network then gives the two one buffer (plan_backward).
  virtual bool backward_in_place() const { return false; }
  // True when the output is the input's memory seen with another shape
  // (Flatten, Reshape): the network aliases it and never calls forward.
  virtual bool is_view() const { return false; }
  // Parameters in Keras's weight order (get_weights / set_weights).
  virtual std::vector<Param*> params() { return {}; }
  // Multiply-adds per sample of one pass, for a layer that knows them, so
  // the network can run a small layer on one thread (team_for_work);
  // -1: not known, the layer runs on the whole team.
  virtual int64_t work_per_sample() const { return -1; }

  // The activation this layer ends in. Keras's softmax and sigmoid attach
  // their inputs to their outputs as logits, and its cross-entropies use
  // those; the network then asks the layer to stop at the logits.
  virtual Activation output_activation() const { return Activation::linear; }
  virtual void set_emit_logits(bool) {}
  // Keras's compute dtype: bfloat16 under "mixed_bfloat16". Only layers with
  // bf16 kernels (convolutions, Dense) act on it, and only where the CPU
  // has them (precision.hpp); computes_bfloat16() says whether the
  // primitives built last do.
  virtual void set_compute_bfloat16(bool) {}
  virtual bool computes_bfloat16() const { return false; }
  // Needs a random stream (dropout); the network provides a seed per batch.
  virtual void set_seed(uint64_t) {}
  // For a lane's copy of `owner` (lanes.cpp): read owner's parameter values
  // instead of its own, and with `gradients` write its gradients into
  // owner's too. False: the layer cannot (the lane then copies the values).
  virtual bool use_params_of(Layer& /*owner*/, bool /*gradients*/) { return false; }
  // For a lane's copy of a float32 Dense (lanes.cpp): backward leaves the
  // weight gradient out and copies the gradient at the layer's
  // pre-activation output, (rows, units), to `dy` instead; the network then
  // computes the whole batch's weight gradient at once. Null: as usual.
  // False: the layer cannot.
  virtual bool defer_weight_gradient(float* /*dy*/) { return false; }
  // BatchNormalization runs in inference mode when its layer is frozen, as
  // in Keras; other layers ignore freezing in their forward pass.
  virtual bool frozen_means_inference() const { return false; }

  // Keras's activity_regularizer (L1 / L2 of the layer's output): the loss
  // gains (l1 * sum|y| + l2 * sum(y^2)) / batch, in training and evaluate.
  float activity_l1 = 0.f, activity_l2 = 0.f;
  bool has_activity_regularizer() const { return activity_l1 != 0.f || activity_l2 != 0.f; }

 protected:
  // What the first build() calls: checks the shapes, creates the
  // parameters and returns the output shape.
  virtual Shape infer(const std::vector<Shape>& inputs) = 0;
  const Shape& input() const { return inputs_.at(0); }

  Config config_;
  Shape output_;
  int64_t batch_ = -1;

 private:
  std::vector<Shape> inputs_;
  bool built_ = false;
};

using LayerPtr = std::shared_ptr<Layer>;

}  // namespace fmnistcpp
