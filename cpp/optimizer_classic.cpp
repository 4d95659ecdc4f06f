// SGD (momentum, Nesterov), RMSprop (momentum, centered), Adagrad, Adadelta
// and Ftrl: update_step of keras/src/optimizers/{sgd,rmsprop,adagrad,
// adadelta,ftrl}.py in float32, in Keras's order. A Python float Keras
// combines before casting (`1 - rho`) is combined in double here too.
#include "optimizer.hpp"

#include "parallel.hpp"

#include <cmath>

namespace fmnistcpp {

namespace {

// Keras: m = m * momentum - g * lr; w += m, or (Nesterov) w += m * momentum
// - g * lr; without momentum w -= g * lr.
FMNISTCPP_ISA_CLONES
void sgd_range(float* __restrict w, float* __restrict m, const float* __restrict g, float lr,
               float momentum, bool nesterov, int64_t begin, int64_t end) {
  if (!m) {
    for (int64_t i = begin; i < end; ++i) w[i] -= g[i] * lr;
    return;
  }
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = -gi * lr + m[i] * momentum;
    m[i] = mi;
    w[i] += nesterov ? -gi * lr + mi * momentum : mi;
  }
}

class SGD final : public Optimizer {
 public:
  explicit SGD(Config c) : Optimizer(std::move(c)) {
    momentum_ = number_in("momentum", 0.0, 0.0, 1.0);
    nesterov_ = config_.flag("nesterov", false);
    if (momentum_ != 0) add_slots({"momentum"});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = momentum_ != 0 ? s[0] : nullptr;
    const float momentum = static_cast<float>(momentum_);
    each_range(p, [&](int64_t b, int64_t e) { sgd_range(w, m, g, lr, momentum, nesterov_, b, e); });
  }
  double momentum_;
  bool nesterov_;
};

// Keras: v = rho * v + (1 - rho) * g^2;
//   [centered] a = rho * a + (1 - rho) * g;  denom = v - a^2 + eps
//   [else]     denom = v + eps
//   inc = (lr * g) / sqrt(denom)
//   [momentum] m = momentum * m + inc; w -= m    [else] w -= inc
FMNISTCPP_ISA_CLONES
void rmsprop_range(float* __restrict w, float* __restrict v, float* __restrict m,
                   float* __restrict avg, const float* __restrict g, float lr, float rho,
                   float one_minus_rho, float momentum, float eps, int64_t begin, int64_t end) {
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
    if (m) {
      const float mi = momentum * m[i] + inc;
      m[i] = mi;
      w[i] -= mi;
    } else {
      w[i] -= inc;
    }
  }
}

class RMSprop final : public Optimizer {
 public:
  explicit RMSprop(Config c) : Optimizer(std::move(c)) {
    rho_ = number_in("rho", 0.9, 0.0, 1.0);
    momentum_ = number_in("momentum", 0.0, 0.0, 1.0);
    epsilon_ = number_in("epsilon", 1e-7, 0.0, INFINITY, true, true);
    centered_ = config_.flag("centered", false);
    add_slots({"velocity"});
    if (momentum_ > 0) add_slots({"momentum"});
    if (centered_) add_slots({"average_gradient"});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* m = momentum_ > 0 ? s[1] : nullptr;
    float* avg = centered_ ? s[momentum_ > 0 ? 2 : 1] : nullptr;
    const float rho = static_cast<float>(rho_), omr = static_cast<float>(1.0 - rho_);
    const float momentum = static_cast<float>(momentum_), eps = static_cast<float>(epsilon_);
    each_range(p, [&](int64_t b, int64_t e) {
      rmsprop_range(w, s[0], m, avg, g, lr, rho, omr, momentum, eps, b, e);
    });
  }
  double rho_, momentum_, epsilon_;
  bool centered_;
};

// Keras: acc += g^2; w -= (lr * g) / sqrt(acc + eps).
FMNISTCPP_ISA_CLONES
void adagrad_range(float* __restrict w, float* __restrict acc, const float* __restrict g, float lr,
                   float eps, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float ai = acc[i] + gi * gi;
    acc[i] = ai;
    w[i] -= (lr * gi) / std::sqrt(ai + eps);
  }
}

class Adagrad final : public Optimizer {
 public:
  explicit Adagrad(Config c) : Optimizer(std::move(c)) {
    const double initial = number_in("initial_accumulator_value", 0.1, 0.0, INFINITY, false, true);
    epsilon_ = number_in("epsilon", 1e-7, 0.0, INFINITY, false, true);
    add_slots({"accumulator"}, {static_cast<float>(initial)});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    float* w = p.value.data();
    const float* g = p.grad.data();
    const float eps = static_cast<float>(epsilon_);
    each_range(p, [&](int64_t b, int64_t e) { adagrad_range(w, s[0], g, lr, eps, b, e); });
  }
  double epsilon_;
};

// Keras: ag = rho * ag + (1 - rho) * g^2;
// d = -(sqrt(ad + eps) * g) / sqrt(ag + eps); ad = rho * ad + (1 - rho) * d^2;
// w += lr * d.
FMNISTCPP_ISA_CLONES
void adadelta_range(float* __restrict w, float* __restrict ag, float* __restrict ad,
                    const float* __restrict g, float lr, float rho, float one_minus_rho, float eps,
                    int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float agi = rho * ag[i] + one_minus_rho * (gi * gi);
    ag[i] = agi;
    const float d = -((std::sqrt(ad[i] + eps) * gi) / std::sqrt(agi + eps));
    ad[i] = rho * ad[i] + one_minus_rho * (d * d);
    w[i] += lr * d;
  }
}

class Adadelta final : public Optimizer {
 public:
  explicit Adadelta(Config c) : Optimizer(std::move(c)) {
    rho_ = number_in("rho", 0.95, 0.0, 1.0);
    epsilon_ = number_in("epsilon", 1e-7, 0.0, INFINITY, false, true);
    add_slots({"accumulated_grad", "accumulated_delta_var"});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    float* w = p.value.data();
    const float* g = p.grad.data();
    const float rho = static_cast<float>(rho_), omr = static_cast<float>(1.0 - rho_);
    const float eps = static_cast<float>(epsilon_);
    each_range(p, [&](int64_t b, int64_t e) {
      adadelta_range(w, s[0], s[1], g, lr, rho, omr, eps, b, e);
    });
  }
  double rho_, epsilon_;
};

// Keras's Ftrl: l2 = l2_regularization_strength + beta / (2 * lr);
// g' = g + 2 * l2_shrinkage * w; n' = n + g^2;
// z += g' - ((n'^-p - n^-p) / lr) * w   (p = learning_rate_power);
// q = n'^-p / lr + 2 * l2; w = (clip(z, -l1, l1) - z) / q; n = n'.
FMNISTCPP_ISA_CLONES
void ftrl_range(float* __restrict w, float* __restrict n, float* __restrict z,
                const float* __restrict g, float lr, float neg_power, float two_shrinkage,
                float two_l2, float l1, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i], wi = w[i], ni = n[i];
    const float g_use = gi + two_shrinkage * wi;
    const float n_new = ni + gi * gi;
    const float p_new = std::pow(n_new, neg_power);
    const float zi = z[i] + (g_use - ((p_new - std::pow(ni, neg_power)) / lr) * wi);
    z[i] = zi;
    const float quadratic = p_new / lr + two_l2;
    const float clipped = std::max(std::min(zi, l1), -l1);
    w[i] = (clipped - zi) / quadratic;
    n[i] = n_new;
  }
}

class Ftrl final : public Optimizer {
 public:
  explicit Ftrl(Config c) : Optimizer(std::move(c)) {
    power_ = number_in("learning_rate_power", -0.5, -INFINITY, 0.0, true);
    const double initial = number_in("initial_accumulator_value", 0.1, 0.0, INFINITY, false, true);
    l1_ = number_in("l1_regularization_strength", 0.0, 0.0, INFINITY, false, true);
    l2_ = number_in("l2_regularization_strength", 0.0, 0.0, INFINITY, false, true);
    shrinkage_ = number_in("l2_shrinkage_regularization_strength", 0.0, 0.0, INFINITY, false, true);
    beta_ = number_in("beta", 0.0, 0.0, INFINITY, false, true);
    add_slots({"accumulator", "linear"}, {static_cast<float>(initial), 0.f});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    // l2_reg + beta / (2.0 * lr): a float32 tensor expression in Keras
    const float l2 = static_cast<float>(l2_) + static_cast<float>(beta_) / (2.f * lr);
    const float two_l2 = 2.f * l2, two_shrinkage = static_cast<float>(2 * shrinkage_);
    const float neg_power = static_cast<float>(-power_), l1 = static_cast<float>(l1_);
    float* w = p.value.data();
    const float* g = p.grad.data();
    each_range(p, [&](int64_t b, int64_t e) {
      ftrl_range(w, s[0], s[1], g, lr, neg_power, two_shrinkage, two_l2, l1, b, e);
    });
  }
  double power_, l1_, l2_, shrinkage_, beta_;
};

RegisterOptimizer<SGD> registered_sgd("SGD");
RegisterOptimizer<RMSprop> registered_rmsprop("RMSprop");
RegisterOptimizer<Adagrad> registered_adagrad("Adagrad");
RegisterOptimizer<Adadelta> registered_adadelta("Adadelta");
RegisterOptimizer<Ftrl> registered_ftrl("Ftrl");

}  // namespace

}  // namespace fmnistcpp
