// A model output's loss, reduced as Keras's default `sum_over_batch_size`:
// sum_i w_i * loss_i / N, with w_i the sample weights (1 without them).
// Losses are made by Keras name from their arguments (make_loss), like
// layers.
#pragma once

#include "activation.hpp"
#include "config.hpp"

#include <cstdint>
#include <memory>
#include <string>

namespace fmnistcpp {

// Labels for a batch: exactly one of the two is set.
struct Labels {
  const int32_t* sparse = nullptr;  // [N] class indices
  const float* dense = nullptr;     // [N, K] one-hot, soft or regression targets
  bool is_sparse() const { return sparse != nullptr; }
};

class Loss {
 public:
  explicit Loss(Config config) : config_(std::move(config)) {}
  virtual ~Loss() = default;
  const std::string& kind() const { return config_.owner(); }
  const Config& config() const { return config_; }

  // Whether the labels are class indices (shape (N,)) rather than rows.
  virtual bool sparse_labels() const { return false; }
  // Keras's _get_logits: given the activation the output layer ends in,
  // whether this loss reads the logits underneath it instead. The network
  // then makes that layer stop at the logits and calls set_input_is_logits.
  virtual bool takes_logits_of(Activation) const { return false; }
  void set_input_is_logits(bool v) { logits_ = v; }
  bool input_is_logits() const { return logits_; }

  // Returns sum_i w_i * loss_i over the batch. When grad is not null it
  // receives grad_scale * d(sum_i w_i * loss_i)/d(output); `probs` receives
  // what the metrics see (the output, or softmax(logits)).
  //   output [N, K], labels [N] or [N, K], sample_weight [N] or null
  virtual double forward_backward(const float* output, const Labels& labels,
                                  const float* sample_weight, int64_t n, int64_t k,
                                  float grad_scale, float* grad, float* probs) const = 0;

 protected:
  Config config_;
  bool logits_ = false;
};

using LossPtr = std::unique_ptr<Loss>;
// By Keras's function name ("sparse_categorical_crossentropy").
LossPtr make_loss(const std::string& kind, Config::Values args);

}  // namespace fmnistcpp
