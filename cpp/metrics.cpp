#include "metrics.hpp"

#include <algorithm>

namespace fmnistcpp {

static int64_t first_argmax(const float* v, int64_t k) {
  return std::max_element(v, v + k) - v;
}

void count_correct(const std::vector<MetricSpec>& metrics, const float* probs,
                   const Labels& labels, int64_t n, int64_t k, std::vector<int64_t>& correct) {
  for (size_t m = 0; m < metrics.size(); ++m) {
    const int64_t top_k = metrics[m].top_k;
    int64_t hits = 0;
#pragma omp parallel for schedule(static) reduction(+ : hits) if (n * k > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float* p = probs + i * k;
      const int64_t target =
          labels.is_sparse() ? labels.sparse[i] : first_argmax(labels.dense + i * k, k);
      if (top_k == 0) {
        hits += first_argmax(p, k) == target;
      } else {
        int64_t above = 0;
        for (int64_t j = 0; j < k; ++j) above += p[j] > p[target];
        hits += above < top_k;
      }
    }
    correct[m] += hits;
  }
}

}  // namespace fmnistcpp
