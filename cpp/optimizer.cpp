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

static void check_finite_nonnegative(double v, const std::string& owner, const char* what) {
  if (!(v >= 0) || !std::isfinite(v))
    throw std::invalid_argument(owner + " " + what + " must be a finite number >= 0, got " +
                                python_repr(ConfigValue(v)));
}

Optimizer::Optimizer(Config config) : config_(std::move(config)) {
  const std::string& cls = config_.owner();
  learning_rate_ = config_.number("learning_rate");
  check_finite_nonnegative(learning_rate_, cls, "learning_rate");
  weight_decay_ = config_.number("weight_decay", 0.0);
  check_finite_nonnegative(weight_decay_, cls, "weight_decay");
  decay_steps_ = config_.number("decay_steps", 0.0);
  decay_rate_ = config_.number("decay_rate", 1.0);
  staircase_ = config_.flag("staircase", false);
  if (!(decay_steps_ >= 0) || !std::isfinite(decay_steps_) || !std::isfinite(decay_rate_))
    throw std::invalid_argument("decay_steps must be >= 0 and decay_rate finite");
  if (cls == "Adam" || cls == "AdamW") {
    kind_ = "adam";
    beta_1_ = config_.number("beta_1", 0.9);
    beta_2_ = config_.number("beta_2", 0.999);
    epsilon_ = config_.number("epsilon", 1e-7);
    if (config_.flag("amsgrad", false)) throw not_implemented(cls + "(amsgrad=True) is not supported yet");
    slot_groups_ = {{"momentum", "velocity"}};
  } else if (cls == "RMSprop") {
    kind_ = "rmsprop";
    rho_ = config_.number("rho", 0.9);
    momentum_ = config_.number("momentum", 0.0);
    epsilon_ = config_.number("epsilon", 1e-7);
    centered_ = config_.flag("centered", false);
    slot_groups_ = {{"velocity"}};
    if (momentum_ > 0) slot_groups_.push_back({"momentum"});
    if (centered_) slot_groups_.push_back({"average_gradient"});
  } else if (cls == "SGD") {
    kind_ = "sgd";
    momentum_ = config_.number("momentum", 0.0);
    nesterov_ = config_.flag("nesterov", false);
    if (momentum_ != 0) slot_groups_ = {{"momentum"}};
  } else {
    throw std::invalid_argument("unknown optimizer '" + cls + "'; known: Adam, AdamW, RMSprop, SGD");
  }
  for (const auto& group : slot_groups_)
    slot_names_.insert(slot_names_.end(), group.begin(), group.end());
  config_.check_all_read();
}

void Optimizer::build(std::vector<Param*> params) {
  params_ = std::move(params);
  state_.assign(params_.size(), {});
  for (size_t i = 0; i < params_.size(); ++i)
    for (size_t s = 0; s < slot_names_.size(); ++s)
      state_[i].emplace_back(params_[i]->value.size(), 0.f);
}

std::vector<Optimizer::Slot> Optimizer::slots() const {
  std::vector<Slot> out;
  size_t first = 0;
  for (const auto& group : slot_groups_) {
    for (size_t v = 0; v < params_.size(); ++v)
      for (size_t j = 0; j < group.size(); ++j) out.push_back({v, first + j, group[j]});
    first += group.size();
  }
  return out;
}

void Optimizer::set_learning_rate(double lr) {
  check_finite_nonnegative(lr, config_.owner(), "learning_rate");
  learning_rate_ = lr;
  decay_steps_ = 0.0;
}

// keras/src/optimizers/schedules/learning_rate_schedule.py ExponentialDecay:
// every operand is cast to float32 (the dtype of the initial rate) and
// p = step / decay_steps, floored with staircase, lr = initial * rate ** p.
double Optimizer::learning_rate() const {
  if (!(decay_steps_ > 0)) return learning_rate_;
  const float initial = static_cast<float>(learning_rate_);
  const float steps = static_cast<float>(decay_steps_);
  const float rate = static_cast<float>(decay_rate_);
  float p = static_cast<float>(iterations_) / steps;
  if (staircase_) p = std::floor(p);
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

static void rmsprop_update(Param& p, float* v, float* m, float* avg, float lr, float rho,
                           float one_minus_rho, float momentum, float eps) {
  float* w = p.value.data();
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

static void adam_update(Param& p, float* m, float* v, float alpha, float one_minus_b1,
                        float one_minus_b2, float eps) {
  float* w = p.value.data();
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

static void sgd_update(Param& p, float* m, float lr, float momentum, bool nesterov) {
  float* w = p.value.data();
  const float* g = p.grad.data();
  if (momentum == 0.f) {
    parallel_ranges(p.size(), kMinParallel,
                    [&](int64_t begin, int64_t end) { sgd_range(w, g, lr, begin, end); });
    return;
  }
  parallel_ranges(p.size(), kMinParallel, [&](int64_t begin, int64_t end) {
    sgd_momentum_range(w, m, g, lr, momentum, nesterov, begin, end);
  });
}

void Optimizer::step() {
  const float lr = static_cast<float>(learning_rate());
  if (weight_decay_ > 0) {
    const float wd = static_cast<float>(weight_decay_);
    for (Param* p : params_) weight_decay_update(*p, wd, lr);
  }
  if (kind_ == "rmsprop") {
    const float one_minus_rho = static_cast<float>(1.0 - rho_);
    for (size_t i = 0; i < params_.size(); ++i) {
      auto& st = state_[i];
      float* m = momentum_ > 0 ? st[1].data() : nullptr;
      float* avg = centered_ ? st.back().data() : nullptr;
      rmsprop_update(*params_[i], st[0].data(), m, avg, lr, static_cast<float>(rho_),
                     one_minus_rho, static_cast<float>(momentum_), static_cast<float>(epsilon_));
    }
  } else if (kind_ == "adam") {
    // Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t), t = iterations + 1.
    const float t = static_cast<float>(iterations_ + 1);
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float alpha = lr * std::sqrt(1.f - std::pow(b2, t)) / (1.f - std::pow(b1, t));
    for (size_t i = 0; i < params_.size(); ++i)
      adam_update(*params_[i], state_[i][0].data(), state_[i][1].data(), alpha,
                  static_cast<float>(1.0 - beta_1_), static_cast<float>(1.0 - beta_2_),
                  static_cast<float>(epsilon_));
  } else {
    for (size_t i = 0; i < params_.size(); ++i)
      sgd_update(*params_[i], momentum_ != 0 ? state_[i][0].data() : nullptr, lr,
                 static_cast<float>(momentum_), nesterov_);
  }
  for (Param* p : params_) ++p->version;
  ++iterations_;
}

}  // namespace fmnistcpp
