// Accuracy-style metrics counted per batch: argmax equality (Keras's
// accuracy / categorical_accuracy / sparse_categorical_accuracy) and top-k
// (tf.math.in_top_k: ties at the boundary count as in).
#pragma once

#include "cross_entropy.hpp"

#include <cstdint>
#include <vector>

namespace fmnistcpp {

struct MetricSpec {
  int64_t top_k = 0;  // 0: argmax accuracy; k >= 1: in-top-k
};

// Adds to correct[m] the number of samples metric m counts as right.
//   probs [N, K], labels [N] or [N, K]
void count_correct(const std::vector<MetricSpec>& metrics, const float* probs,
                   const Labels& labels, int64_t n, int64_t k, std::vector<int64_t>& correct);

}  // namespace fmnistcpp
