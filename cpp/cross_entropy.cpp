#include "cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <vector>

namespace fmnistcpp {

void softmax_rows(const float* z, float* p, int64_t n, int64_t k) {
#pragma omp parallel for schedule(static) if (n * k > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float* zi = z + i * k;
    float* pi = p + i * k;
    float m = *std::max_element(zi, zi + k);
    float s = 0.f;
    for (int64_t j = 0; j < k; ++j) {
      pi[j] = std::exp(zi[j] - m);
      s += pi[j];
    }
    for (int64_t j = 0; j < k; ++j) pi[j] /= s;
  }
}

static inline float label_at(const Labels& y, int64_t i, int64_t j, int64_t k) {
  return y.is_sparse() ? (y.sparse[i] == j ? 1.f : 0.f) : y.dense[i * k + j];
}

CrossEntropy::CrossEntropy(Config config)
    : Loss(std::move(config)), sparse_(kind() == "sparse_categorical_crossentropy"),
      from_logits_(config_.flag("from_logits", false)) {
  logits_ = from_logits_;
}

LossPtr make_loss(const std::string& kind, Config::Values args) {
  LossPtr loss;
  if (kind == "categorical_crossentropy" || kind == "sparse_categorical_crossentropy") {
    loss = std::make_unique<CrossEntropy>(Config(kind, std::move(args)));
  } else {
    throw std::invalid_argument("the engine has no loss '" + kind +
                                "'; it has: categorical_crossentropy, "
                                "sparse_categorical_crossentropy");
  }
  loss->config().check_all_read();
  return loss;
}

// The weight of sample i, applied to its loss and its gradient row; the
// unweighted case multiplies by nothing, so its rounding is unchanged.
static inline float weight_at(const float* w, int64_t i) { return w ? w[i] : 1.f; }

double CrossEntropy::forward_backward(const float* out, const Labels& y, const float* sw,
                                      int64_t n, int64_t k, float grad_scale, float* grad,
                                      float* probs) const {
  const float inv_n = grad_scale;
  double total = 0.0;
  if (logits_) {
    softmax_rows(out, probs, n, k);
#pragma omp parallel for schedule(static) reduction(+ : total) if (n * k > 65536)
    for (int64_t i = 0; i < n; ++i) {
      const float* z = out + i * k;
      const float* p = probs + i * k;
      float m = *std::max_element(z, z + k);
      float s = 0.f;
      for (int64_t j = 0; j < k; ++j) s += std::exp(z[j] - m);
      const float lse = m + std::log(s);
      float loss = 0.f;
      const float gi = sw ? inv_n * sw[i] : inv_n;
      for (int64_t j = 0; j < k; ++j) {
        const float t = label_at(y, i, j, k);
        if (t != 0.f) loss += t * (lse - z[j]);
        if (grad) grad[i * k + j] = (p[j] - t) * gi;
      }
      total += sw ? loss * sw[i] : loss;
    }
    return total;
  }

  if (probs != out) std::memcpy(probs, out, n * k * sizeof(float));
  const float lo = kKerasEpsilon, hi = 1.f - kKerasEpsilon;
#pragma omp parallel for schedule(static) reduction(+ : total) if (n * k > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const float* p = out + i * k;
    float* g = grad ? grad + i * k : nullptr;
    const float gi = sw ? inv_n * sw[i] : inv_n;
    float loss = 0.f;
    if (y.is_sparse()) {
      // Keras: logits = log(clip(p)); sparse softmax CE of those logits.
      float csum = 0.f;
      for (int64_t j = 0; j < k; ++j) csum += std::clamp(p[j], lo, hi);
      const int64_t t = y.sparse[i];
      loss = std::log(csum) - std::log(std::clamp(p[t], lo, hi));
      if (g) {
        for (int64_t j = 0; j < k; ++j) {
          const float c = std::clamp(p[j], lo, hi);
          const bool passes = p[j] >= lo && p[j] <= hi;
          const float d = 1.f / csum - (j == t ? 1.f / c : 0.f);
          g[j] = passes ? d * gi : 0.f;
        }
      }
    } else {
      // Keras: q = p / sum(p); loss = -sum(y * log(clip(q))).
      float s = 0.f;
      for (int64_t j = 0; j < k; ++j) s += p[j];
      float dot = 0.f;  // sum_j dL/dq_j * q_j
      for (int64_t j = 0; j < k; ++j) {
        const float q = p[j] / s;
        const float c = std::clamp(q, lo, hi);
        const float t = y.dense[i * k + j];
        loss -= t * std::log(c);
        const float dq = (q >= lo && q <= hi) ? -t / c : 0.f;
        if (g) g[j] = dq;
        dot += dq * q;
      }
      if (g)
        for (int64_t j = 0; j < k; ++j) g[j] = (g[j] - dot) / s * gi;
    }
    total += sw ? loss * weight_at(sw, i) : loss;
  }
  return total;
}

}  // namespace fmnistcpp
