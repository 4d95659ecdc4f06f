#include "optimizer.hpp"

#include "parallel.hpp"

#include <cmath>
#include <stdexcept>

namespace fmnistcpp {

// The update loops take their arrays __restrict (they are distinct vectors)
// and read each element once into a local: otherwise GCC must reload m[i]
// after storing it, and those reloads made Adam over seed 002's kernel 3x
// slower (a 64-byte store forwarded to a load stalls).

// Below this many elements an update runs on one thread: waking the others
// costs more than the loop (measured on seed 002's 1290-element layer).
constexpr int64_t kMinParallel = 32768;

Optimizer::Optimizer(OptimizerConfig config) : config_(std::move(config)) {
  if (config_.kind != "adam" && config_.kind != "adamw" && config_.kind != "rmsprop" &&
      config_.kind != "sgd")
    throw std::invalid_argument("unknown optimizer '" + config_.kind +
                                "'; known: adam, adamw, rmsprop, sgd");
  if (!(config_.learning_rate >= 0) || !std::isfinite(config_.learning_rate))
    throw std::invalid_argument("learning_rate must be a finite number >= 0");
  if (!(config_.weight_decay >= 0) || !std::isfinite(config_.weight_decay))
    throw std::invalid_argument("weight_decay must be a finite number >= 0");
  if (!(config_.decay_steps >= 0) || !std::isfinite(config_.decay_steps) ||
      !std::isfinite(config_.decay_rate))
    throw std::invalid_argument("decay_steps must be >= 0 and decay_rate finite");
}

// keras/src/optimizers/schedules/learning_rate_schedule.py ExponentialDecay:
// every operand is cast to float32 (the dtype of the initial rate) and
// p = step / decay_steps, floored with staircase, lr = initial * rate ** p.
double Optimizer::learning_rate() const {
  if (!(config_.decay_steps > 0)) return config_.learning_rate;
  const float initial = static_cast<float>(config_.learning_rate);
  const float steps = static_cast<float>(config_.decay_steps);
  const float rate = static_cast<float>(config_.decay_rate);
  float p = static_cast<float>(iterations_) / steps;
  if (config_.staircase) p = std::floor(p);
  return static_cast<double>(initial * std::pow(rate, p));
}

// Keras's RMSprop.update_step: `1 - rho` is a Python double cast to float32
// (as for Adam below), then
//   v = rho * v + (1 - rho) * g^2
//   [centered] a = rho * a + (1 - rho) * g;  denom = v - a^2 + eps
//   [else]     denom = v + eps
//   inc = (lr * g) / sqrt(denom)
//   [momentum] m = momentum * m + inc; w -= m    [else] w -= inc
FMNISTCPP_ISA_CLONES
static void rmsprop_range(float* __restrict w, float* __restrict v, float* __restrict m,
                          float* __restrict avg, const float* __restrict g, float lr, float rho,
                          float one_minus_rho, float momentum, float eps, int64_t begin,
                          int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float vi = rho * v[i] + one_minus_rho * (gi * gi);
    v[i] = vi;
    float denom;
    if (avg) {
      const float ai = rho * avg[i] + one_minus_rho * gi;
      avg[i] = ai;
      denom = vi - ai * ai + eps;
    } else {
      denom = vi + eps;
    }
    const float inc = (lr * gi) / std::sqrt(denom);
    if (momentum > 0.f) {
      const float mi = momentum * m[i] + inc;
      m[i] = mi;
      w[i] -= mi;
    } else {
      w[i] -= inc;
    }
  }
}

static void rmsprop_update(Param& p, float* avg, float lr, float rho, float one_minus_rho,
                           float momentum, float eps) {
  if (p.slot1.size() != p.value.size()) p.slot1.assign(p.value.size(), 0.f);
  if (momentum > 0.f && p.slot2.size() != p.value.size()) p.slot2.assign(p.value.size(), 0.f);
  float* w = p.value.data();
  float* v = p.slot1.data();
  float* m = p.slot2.data();
  const float* g = p.grad.data();
  parallel_ranges(p.size(), kMinParallel, [&](int64_t begin, int64_t end) {
    rmsprop_range(w, v, m, avg, g, lr, rho, one_minus_rho, momentum, eps, begin, end);
  });
}

// base_optimizer._apply_weight_decay, run before the update step:
// w = w - w * wd * lr, all float32, on every trainable variable.
FMNISTCPP_ISA_CLONES
static void weight_decay_range(float* __restrict w, float wd, float lr, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) w[i] = w[i] - w[i] * wd * lr;
}

static void weight_decay_update(Param& p, float wd, float lr) {
  float* w = p.value.data();
  parallel_ranges(p.size(), kMinParallel,
                  [&](int64_t begin, int64_t end) { weight_decay_range(w, wd, lr, begin, end); });
}

// one_minus_b1/b2 come from double arithmetic, as Keras computes
// `1 - self.beta_1` in Python before the cast: float32 1 - 0.999f is off by
// 1.3e-5 relative, enough to drift from Keras within two epochs.
FMNISTCPP_ISA_CLONES
static void adam_range(float* __restrict w, float* __restrict m, float* __restrict v,
                       const float* __restrict g, float alpha, float one_minus_b1,
                       float one_minus_b2, float eps, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * one_minus_b1;
    const float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    w[i] -= (mi * alpha) / (std::sqrt(vi) + eps);
  }
}

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
  parallel_ranges(p.size(), kMinParallel, [&](int64_t begin, int64_t end) {
    adam_range(w, m, v, g, alpha, one_minus_b1, one_minus_b2, eps, begin, end);
  });
}

FMNISTCPP_ISA_CLONES
static void sgd_range(float* __restrict w, const float* __restrict g, float lr, int64_t begin,
                      int64_t end) {
  for (int64_t i = begin; i < end; ++i) w[i] -= g[i] * lr;
}

FMNISTCPP_ISA_CLONES
static void sgd_momentum_range(float* __restrict w, float* __restrict m,
                               const float* __restrict g, float lr, float momentum, bool nesterov,
                               int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = -gi * lr + m[i] * momentum;
    m[i] = mi;
    w[i] += nesterov ? -gi * lr + mi * momentum : mi;
  }
}

static void sgd_update(Param& p, float lr, float momentum, bool nesterov) {
  float* w = p.value.data();
  const float* g = p.grad.data();
  if (momentum == 0.f) {
    parallel_ranges(p.size(), kMinParallel,
                    [&](int64_t begin, int64_t end) { sgd_range(w, g, lr, begin, end); });
    return;
  }
  if (p.slot1.size() != p.value.size()) p.slot1.assign(p.value.size(), 0.f);
  float* m = p.slot1.data();
  parallel_ranges(p.size(), kMinParallel, [&](int64_t begin, int64_t end) {
    sgd_momentum_range(w, m, g, lr, momentum, nesterov, begin, end);
  });
}

void Optimizer::step(const std::vector<Param*>& params) {
  const float lr = static_cast<float>(learning_rate());
  if (config_.weight_decay > 0) {
    const float wd = static_cast<float>(config_.weight_decay);
    for (Param* p : params) weight_decay_update(*p, wd, lr);
  }
  if (config_.kind == "rmsprop") {
    const float one_minus_rho = static_cast<float>(1.0 - config_.rho);
    for (Param* p : params) {
      float* avg = nullptr;
      if (config_.centered) {
        auto& a = average_grad_[p];
        if (a.size() != p->value.size()) a.assign(p->value.size(), 0.f);
        avg = a.data();
      }
      rmsprop_update(*p, avg, lr, static_cast<float>(config_.rho), one_minus_rho,
                     static_cast<float>(config_.momentum), static_cast<float>(config_.epsilon));
    }
  } else if (config_.kind == "adam" || config_.kind == "adamw") {
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
