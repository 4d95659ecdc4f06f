// Metrics accumulated over the batches of a pass, made by Keras name from
// their arguments like layers and losses, each registering itself
// (RegisterMetric). The state lives here for the whole pass, so result()
// is Keras's over the epoch, not a mean of per-batch values.
#pragma once

#include "config.hpp"
#include "loss.hpp"

#include <cstdint>
#include <memory>
#include <vector>

namespace fmnistcpp {

class Metric {
 public:
  // Reads `last_axis_size` (the output's last axis, which Python passes;
  // 0 or missing: the whole sample is one row).
  explicit Metric(Config config);
  virtual ~Metric() = default;
  const std::string& kind() const { return config_.owner(); }
  const Config& config() const { return config_; }
  virtual void reset() = 0;
  //   pred [N, K] (what the model outputs, as the loss handed it), labels
  //   [N] or [N, K], sample_weight [N] or null (null for Keras's
  //   `metrics`, the weights for its `weighted_metrics`)
  virtual void update(const float* pred, const Labels& labels, const float* sample_weight,
                      int64_t n, int64_t k) = 0;
  // How many numbers result() has (F1Score(average=None) has one per
  // class, Precision(thresholds=[...]) one per threshold).
  virtual size_t result_size() const { return 1; }
  virtual void results(double* out) const = 0;
  double result() const;

 protected:
  // The last axis for outputs of k values per sample.
  int64_t axis_size(int64_t k) const { return d_ > 0 ? d_ : k; }
  // Throws unless the labels are class indices (sparse) or rows.
  void require_labels(const Labels& y, bool sparse) const;

  Config config_;
  int64_t d_ = 0;
};

// Keras's Mean over per-sample values (MeanMetricWrapper,
// reduce_to_samplewise_values): each sample's values are averaged, then
// the samples are averaged with their weights.
class MeanMetric : public Metric {
 public:
  using Metric::Metric;
  void reset() override { total_ = count_ = 0.0; }
  void update(const float* pred, const Labels& labels, const float* sample_weight, int64_t n,
              int64_t k) override;
  void results(double* out) const override;
  // The metric function's values for a sample of k outputs, and the values
  // themselves [n * values_per_sample(k)], as keras.metrics.<fn>(y, p).
  virtual int64_t values_per_sample(int64_t k) const = 0;
  virtual void values(const float* pred, const Labels& labels, int64_t n, int64_t k,
                      float* out) const = 0;

 protected:
  virtual double finish(double mean) const { return mean; }

 private:
  double total_ = 0.0, count_ = 0.0;
  std::vector<float> buffer_;
};

using MetricPtr = std::unique_ptr<Metric>;
using MetricFactory = MetricPtr (*)(Config&&);

void register_metric(const std::string& kind, MetricFactory factory);
// By Keras's snake-case class name ("sparse_categorical_accuracy", "auc");
// the name of a loss gives Keras's MeanMetricWrapper of that loss function.
MetricPtr make_metric(const std::string& kind, Config::Values args);

template <class M>
struct RegisterMetric {
  explicit RegisterMetric(const char* kind) {
    register_metric(kind, [](Config&& c) -> MetricPtr { return std::make_unique<M>(std::move(c)); });
  }
};

}  // namespace fmnistcpp
