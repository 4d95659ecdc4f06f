#include "metrics.hpp"

#include <algorithm>
#include <stdexcept>

namespace fmnistcpp {

static int64_t first_argmax(const float* v, int64_t k) {
  return std::max_element(v, v + k) - v;
}

namespace {

// Counts right answers (weighted) over the pass: the mean Keras reports.
class Accuracy : public Metric {
 public:
  explicit Accuracy(Config config) : Metric(std::move(config)) {
    if (kind() == "top_k_accuracy") top_k_ = config_.positive_int("k", 5);
  }
  void reset() override { right_ = total_ = 0.0; }
  void update(const float* pred, const Labels& y, const float* sw, int64_t n,
              int64_t k) override {
    double right = 0.0, total = 0.0;
    const int64_t top_k = top_k_;
#pragma omp parallel for schedule(static) reduction(+ : right, total) if (n * k > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float* p = pred + i * k;
      const int64_t target = y.is_sparse() ? y.sparse[i] : first_argmax(y.dense + i * k, k);
      bool hit;
      if (top_k == 0) {
        hit = first_argmax(p, k) == target;
      } else {
        int64_t above = 0;
        for (int64_t j = 0; j < k; ++j) above += p[j] > p[target];
        hit = above < top_k;
      }
      const double w = sw ? sw[i] : 1.0;
      right += hit ? w : 0.0;
      total += w;
    }
    right_ += right;
    total_ += total;
  }
  double result() const override { return total_ > 0 ? right_ / total_ : 0.0; }

 private:
  int64_t top_k_ = 0;  // 0: argmax equality
  double right_ = 0.0, total_ = 0.0;
};

}  // namespace

MetricPtr make_metric(const std::string& kind, Config::Values args) {
  MetricPtr metric;
  if (kind == "accuracy" || kind == "top_k_accuracy") {
    metric = std::make_unique<Accuracy>(Config(kind, std::move(args)));
  } else {
    throw std::invalid_argument("the engine has no metric '" + kind +
                                "'; it has: accuracy, top_k_accuracy");
  }
  metric->config().check_all_read();
  return metric;
}

}  // namespace fmnistcpp
