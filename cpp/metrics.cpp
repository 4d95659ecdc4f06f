// The mean metrics of keras/src/metrics/accuracy_metrics.py and
// regression_metrics.py, the MeanMetricWrapper of any loss, and the
// registry. Confusion-matrix metrics are in confusion_metrics.cpp.
#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <stdexcept>

namespace fmnistcpp {

Metric::Metric(Config config) : config_(std::move(config)) {
  d_ = config_.integer("last_axis_size", 0);
  if (d_ < 0) throw std::invalid_argument(kind() + " last_axis_size must be >= 0");
}

double Metric::result() const {
  std::vector<double> out(result_size());
  results(out.data());
  return out[0];
}

void Metric::require_labels(const Labels& y, bool sparse) const {
  if (y.is_sparse() != sparse)
    throw std::invalid_argument("metric " + kind() + " needs " +
                                (sparse ? "integer class labels" : "labels shaped like the output") +
                                ", got " + (y.is_sparse() ? "class indices" : "rows"));
}

void MeanMetric::update(const float* pred, const Labels& y, const float* sw, int64_t n,
                        int64_t k) {
  const int64_t per = values_per_sample(k);
  buffer_.resize(n * per);
  values(pred, y, n, k, buffer_.data());
  double total = 0.0, count = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const float* v = buffer_.data() + i * per;
    // Keras: the mean of the sample's values in float32, times its weight.
    float s = 0.f;
    for (int64_t j = 0; j < per; ++j) s += v[j];
    const float mean = per == 1 ? s : s / static_cast<float>(per);
    const float w = sw ? sw[i] : 1.f;
    total += static_cast<double>(mean * w);
    count += w;
  }
  total_ += total;
  count_ += count;
}

void MeanMetric::results(double* out) const {
  out[0] = finish(count_ != 0.0 ? total_ / count_ : 0.0);  // divide_no_nan
}

namespace {

std::map<std::string, MetricFactory>& registry() {
  static std::map<std::string, MetricFactory> factories;  // filled by static initialisers
  return factories;
}

// tf.argmax: the first of tied maxima.
int64_t first_argmax(const float* v, int64_t k) { return std::max_element(v, v + k) - v; }

// sparse_categorical_accuracy: argmax(p) == y, one value per sample.
class SparseCategoricalAccuracy : public MeanMetric {
 public:
  using MeanMetric::MeanMetric;
  int64_t values_per_sample(int64_t) const override { return 1; }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, true);
    for (int64_t i = 0; i < n; ++i) out[i] = first_argmax(p + i * k, k) == y.sparse[i];
  }
};

// categorical_accuracy: argmax(p) == argmax(y), one value per row.
class CategoricalAccuracy : public MeanMetric {
 public:
  using MeanMetric::MeanMetric;
  int64_t values_per_sample(int64_t k) const override { return k / axis_size(k); }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, false);
    const int64_t d = axis_size(k);
    for (int64_t r = 0; r < n * k / d; ++r)
      out[r] = first_argmax(p + r * d, d) == first_argmax(y.dense + r * d, d);
  }
};

// (sparse_)top_k_categorical_accuracy: tf.math.in_top_k, where classes
// tied with the target at the boundary count as in and a non-finite
// target prediction as out.
class TopKAccuracy : public MeanMetric {
 public:
  explicit TopKAccuracy(Config config)
      : MeanMetric(std::move(config)), sparse_(kind() == "sparse_top_k_categorical_accuracy") {
    k_ = config_.positive_int("k", 5);
    if (sparse_ && config_.flag("from_sorted_ids", false))
      throw not_implemented("sparse_top_k_categorical_accuracy from_sorted_ids=True is not "
                            "supported (the model outputs scores, not sorted ids)");
  }
  int64_t values_per_sample(int64_t k) const override { return sparse_ ? 1 : k / axis_size(k); }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, sparse_);
    const int64_t d = sparse_ ? k : axis_size(k), rows = sparse_ ? n : n * k / d;
    for (int64_t r = 0; r < rows; ++r) {
      const float* pr = p + r * d;
      const int64_t target = sparse_ ? y.sparse[r] : first_argmax(y.dense + r * d, d);
      int64_t above = 0;
      for (int64_t j = 0; j < d; ++j) above += pr[j] > pr[target];
      out[r] = std::isfinite(pr[target]) && above < k_;
    }
  }

 private:
  bool sparse_;
  int64_t k_;
};

// binary_accuracy: cast(p > threshold) == y elementwise; accuracy: p == y.
class ElementwiseAccuracy : public MeanMetric {
 public:
  explicit ElementwiseAccuracy(Config config)
      : MeanMetric(std::move(config)), binary_(kind() == "binary_accuracy") {
    if (binary_) threshold_ = static_cast<float>(config_.number("threshold", 0.5));
  }
  int64_t values_per_sample(int64_t k) const override { return k; }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, false);
    for (int64_t i = 0; i < n * k; ++i) {
      const float v = binary_ ? (p[i] > threshold_ ? 1.f : 0.f) : p[i];
      out[i] = v == y.dense[i];
    }
  }

 private:
  bool binary_;
  float threshold_ = 0.5f;
};

// root_mean_squared_error: the square root of the mean squared error.
class RootMeanSquaredError : public MeanMetric {
 public:
  using MeanMetric::MeanMetric;
  int64_t values_per_sample(int64_t k) const override { return k; }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, false);
    for (int64_t i = 0; i < n * k; ++i) {
      const float e = p[i] - y.dense[i];
      out[i] = e * e;
    }
  }

 protected:
  double finish(double mean) const override { return std::sqrt(mean); }
};

// Keras's MeanMetricWrapper(loss_fn): the loss's per-row values averaged.
// The metric reads the output as Keras's metrics do (probabilities, not
// the logits a cross-entropy loss may read).
class LossMean : public MeanMetric {
 public:
  LossMean(Config config, LossPtr loss) : MeanMetric(std::move(config)), loss_(std::move(loss)) {}
  int64_t values_per_sample(int64_t k) const override { return loss_->rows_per_sample(k); }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, loss_->sparse_labels());
    loss_->values(p, y, n, k, out);
  }

 private:
  LossPtr loss_;
};

// The cosine_similarity metric is the similarity itself: the loss negated.
class CosineSimilarity : public MeanMetric {
 public:
  explicit CosineSimilarity(Config config) : MeanMetric(std::move(config)) {
    loss_ = make_loss("cosine_similarity",
                      {{"axis", config_.integer("axis", -1)}, {"last_axis_size", d_}});
  }
  int64_t values_per_sample(int64_t k) const override { return loss_->rows_per_sample(k); }
  void values(const float* p, const Labels& y, int64_t n, int64_t k, float* out) const override {
    require_labels(y, false);
    loss_->values(p, y, n, k, out);
    for (int64_t i = 0; i < n * values_per_sample(k); ++i) out[i] = -out[i];
  }

 private:
  LossPtr loss_;
};

RegisterMetric<CosineSimilarity> cosine("cosine_similarity");
RegisterMetric<SparseCategoricalAccuracy> sca("sparse_categorical_accuracy");
RegisterMetric<CategoricalAccuracy> ca("categorical_accuracy");
RegisterMetric<TopKAccuracy> topk("top_k_categorical_accuracy");
RegisterMetric<TopKAccuracy> sparse_topk("sparse_top_k_categorical_accuracy");
RegisterMetric<ElementwiseAccuracy> binary_acc("binary_accuracy");
RegisterMetric<ElementwiseAccuracy> exact_acc("accuracy");
RegisterMetric<RootMeanSquaredError> rmse("root_mean_squared_error");

}  // namespace

void register_metric(const std::string& kind, MetricFactory factory) {
  if (!registry().emplace(kind, factory).second)
    throw std::logic_error("metric " + kind + " registered twice");
}

MetricPtr make_metric(const std::string& kind, Config::Values args) {
  MetricPtr metric;
  auto it = registry().find(kind);
  if (it != registry().end()) {
    metric = it->second(Config(kind, std::move(args)));
    metric->config().check_all_read();
    return metric;
  }
  // A loss name: the loss reads its own arguments; the metric keeps only
  // the output's last axis, which both need.
  Config::Values metric_args;
  if (args.count("last_axis_size")) metric_args["last_axis_size"] = args["last_axis_size"];
  LossPtr loss;
  try {
    loss = make_loss(kind, std::move(args));
  } catch (const std::invalid_argument& e) {
    if (std::string(e.what()).rfind("the engine has no loss", 0) != 0) throw;
    std::string known;
    for (const auto& [k, f] : registry()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument("the engine has no metric '" + kind + "'; it has: " + known +
                                ", and the mean of any loss");
  }
  metric = std::make_unique<LossMean>(Config(kind, std::move(metric_args)), std::move(loss));
  metric->config().check_all_read();
  return metric;
}

}  // namespace fmnistcpp
