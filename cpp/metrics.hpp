// Metrics accumulated over the batches of a pass, made by name from their
// arguments like layers and losses. Accuracy: argmax equality (Keras's
// sparse_categorical_accuracy / categorical_accuracy); top-k: the target
// within the k highest predictions (tf.math.in_top_k: ties at the boundary
// count as in).
#pragma once

#include "config.hpp"
#include "loss.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace fmnistcpp {

class Metric {
 public:
  explicit Metric(Config config) : config_(std::move(config)) {}
  virtual ~Metric() = default;
  const std::string& kind() const { return config_.owner(); }
  const Config& config() const { return config_; }
  virtual void reset() = 0;
  //   pred [N, K] (probabilities, as the loss handed them), labels [N] or
  //   [N, K], sample_weight [N] or null (null for Keras's `metrics`, the
  //   weights for its `weighted_metrics`)
  virtual void update(const float* pred, const Labels& labels, const float* sample_weight,
                      int64_t n, int64_t k) = 0;
  virtual double result() const = 0;

 protected:
  Config config_;
};

using MetricPtr = std::unique_ptr<Metric>;
// "accuracy" (argmax) or "top_k_accuracy" (with Keras's `k`).
MetricPtr make_metric(const std::string& kind, Config::Values args);

}  // namespace fmnistcpp
