#include "optimizer.hpp"

#include <cmath>
#include <stdexcept>

namespace fmnistcpp {

Optimizer::Optimizer(OptimizerConfig config) : config_(std::move(config)) {
  if (config_.kind != "adam" && config_.kind != "sgd")
    throw std::invalid_argument("unknown optimizer '" + config_.kind + "'; known: adam, sgd");
  if (!(config_.learning_rate >= 0) || !std::isfinite(config_.learning_rate))
    throw std::invalid_argument("learning_rate must be a finite number >= 0");
}

// one_minus_b1/b2 come from double arithmetic, as Keras computes
// `1 - self.beta_1` in Python before the cast: float32 1 - 0.999f is off by
// 1.3e-5 relative, enough to drift from Keras within two epochs.
static void adam_update(Param& p, float alpha, float one_minus_b1, float one_minus_b2,
                        float eps) {
  if (p.slot1.size() != p.value.size()) {
    p.slot1.assign(p.value.size(), 0.f);
    p.slot2.assign(p.value.size(), 0.f);
  }
  float* w = p.value.data();
  float* m = p.slot1.data();
  float* v = p.slot2.data();
  const float* g = p.grad.data();
  const int64_t n = p.size();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    m[i] += (g[i] - m[i]) * one_minus_b1;
    v[i] += (g[i] * g[i] - v[i]) * one_minus_b2;
    w[i] -= (m[i] * alpha) / (std::sqrt(v[i]) + eps);
  }
}

static void sgd_update(Param& p, float lr, float momentum, bool nesterov) {
  float* w = p.value.data();
  const float* g = p.grad.data();
  const int64_t n = p.size();
  if (momentum == 0.f) {
#pragma omp parallel for simd schedule(static) if (n > 32768)
    for (int64_t i = 0; i < n; ++i) w[i] -= g[i] * lr;
    return;
  }
  if (p.slot1.size() != p.value.size()) p.slot1.assign(p.value.size(), 0.f);
  float* m = p.slot1.data();
#pragma omp parallel for simd schedule(static) if (n > 32768)
  for (int64_t i = 0; i < n; ++i) {
    m[i] = -g[i] * lr + m[i] * momentum;
    w[i] += nesterov ? -g[i] * lr + m[i] * momentum : m[i];
  }
}

void Optimizer::step(const std::vector<Param*>& params) {
  const float lr = static_cast<float>(config_.learning_rate);
  if (config_.kind == "adam") {
    // Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t), t = iterations + 1.
    const float t = static_cast<float>(iterations_ + 1);
    const float b1 = static_cast<float>(config_.beta_1), b2 = static_cast<float>(config_.beta_2);
    const float alpha = lr * std::sqrt(1.f - std::pow(b2, t)) / (1.f - std::pow(b1, t));
    for (Param* p : params)
      adam_update(*p, alpha, static_cast<float>(1.0 - config_.beta_1),
                  static_cast<float>(1.0 - config_.beta_2), static_cast<float>(config_.epsilon));
  } else {
    for (Param* p : params)
      sgd_update(*p, lr, static_cast<float>(config_.momentum), config_.nesterov);
  }
  for (Param* p : params) ++p->version;
  ++iterations_;
}

}  // namespace fmnistcpp
