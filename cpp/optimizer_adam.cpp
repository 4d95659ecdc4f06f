// Adam (and AdamW, amsgrad), Adamax, Nadam and Lion: update_step of
// keras/src/optimizers/{adam,adamax,nadam,lion}.py in float32, in Keras's
// order. Where Keras writes `1 - self.beta_1` with the Python float, the
// difference is taken in double and cast (float32 1 - 0.999f is off by
// 1.3e-5 relative, enough to drift from Keras within two epochs); where it
// casts beta first (Nadam, Lion), the difference is float32.
#include "optimizer.hpp"

#include "parallel.hpp"
#include "precision.hpp"

#include <cmath>
#include <limits>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

namespace fmnistcpp {

namespace {

// Keras: alpha = lr * sqrt(1 - b2^t) / (1 - b1^t), m += (g - m) * (1 - b1),
// v += (g^2 - v) * (1 - b2), [amsgrad] vh = max(vh, v), v = vh,
// w -= (m * alpha) / (sqrt(v) + eps); w_bf16 (if any) = w rounded to bf16.
FMNISTCPP_ISA_CLONES
void adam_range(float* __restrict w, uint16_t* __restrict w_bf16, float* __restrict m,
                float* __restrict v, float* __restrict vhat, const float* __restrict g,
                float alpha, float one_minus_b1, float one_minus_b2, float eps, int64_t begin,
                int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * one_minus_b1;
    float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    if (vhat) {
      vi = std::max(vhat[i], vi);
      vhat[i] = vi;
    }
    const float wi = w[i] - (mi * alpha) / (std::sqrt(vi) + eps);
    w[i] = wi;
    if (w_bf16) w_bf16[i] = bf16_bits(wi);
  }
}

#if defined(__x86_64__) && defined(__GNUC__)
// adam_range without amsgrad or a bf16 copy, 16 weights at a time, where
// sqrt(v) and the division are the loop's cost: exact vsqrtps + vdivps take
// about 22 cycles per 16 weights (perf put a fifth of seed 002's samples in
// that loop; its epoch is 1.02-1.06x faster with this one, seed 000's is
// memory-bound and unchanged: docs/PERFORMANCE.md). Here sqrt(v) =
// v * rsqrt(v) and 1 / (sqrt(v) + eps) start from the 14-bit estimates with
// one Newton step each (within 2 ulp of the exact values, so an update
// within about 4 ulp of Keras's; checked against NumPy in
// tests/test_adam_fast_path.py). Where the Newton step is not defined
// (v = 0, v or the denominator 0, inf or NaN) the estimates are used as
// they are: they are exact there (rsqrt and rcp of 0 and inf are inf and
// 0) and NaN stays NaN, as in the exact loop.
__attribute__((target("avx512f"))) static int64_t adam_range_avx512(
    float* __restrict w, float* __restrict m, float* __restrict v, const float* __restrict g,
    float alpha, float one_minus_b1, float one_minus_b2, float eps, int64_t begin, int64_t end) {
  const __m512 c1 = _mm512_set1_ps(one_minus_b1), c2 = _mm512_set1_ps(one_minus_b2);
  const __m512 va = _mm512_set1_ps(alpha), ve = _mm512_set1_ps(eps);
  const __m512 half = _mm512_set1_ps(0.5f), three_halves = _mm512_set1_ps(1.5f);
  const __m512 one = _mm512_set1_ps(1.f), zero = _mm512_setzero_ps();
  const __m512 big = _mm512_set1_ps(std::numeric_limits<float>::max());
  int64_t i = begin;
  for (; i + 16 <= end; i += 16) {
    const __m512 gi = _mm512_loadu_ps(g + i), mo = _mm512_loadu_ps(m + i);
    const __m512 vo = _mm512_loadu_ps(v + i);
    const __m512 mi = _mm512_add_ps(mo, _mm512_mul_ps(_mm512_sub_ps(gi, mo), c1));
    const __m512 g2 = _mm512_mul_ps(gi, gi);
    const __m512 vi = _mm512_add_ps(vo, _mm512_mul_ps(_mm512_sub_ps(g2, vo), c2));
    _mm512_storeu_ps(m + i, mi);
    _mm512_storeu_ps(v + i, vi);
    // sqrt(v): y = rsqrt(v) refined as y (3/2 - v y^2 / 2), then v y.
    const __mmask16 finite_v = _mm512_cmp_ps_mask(vi, zero, _CMP_GT_OQ) &
                               _mm512_cmp_ps_mask(vi, big, _CMP_LE_OQ);
    __m512 y = _mm512_rsqrt14_ps(vi);
    const __m512 half_v_y = _mm512_mul_ps(_mm512_mul_ps(half, vi), y);
    y = _mm512_mul_ps(y, _mm512_fnmadd_ps(half_v_y, y, three_halves));
    const __m512 root = _mm512_mask_mul_ps(vi, finite_v, vi, y);
    // 1 / d: r = rcp(d) refined as r + r (1 - d r).
    const __m512 d = _mm512_add_ps(root, ve);
    const __mmask16 finite_d = _mm512_cmp_ps_mask(d, zero, _CMP_GT_OQ) &
                               _mm512_cmp_ps_mask(d, big, _CMP_LE_OQ);
    const __m512 r0 = _mm512_rcp14_ps(d);
    const __m512 r = _mm512_mask_fmadd_ps(r0, finite_d, _mm512_fnmadd_ps(d, r0, one), r0);
    const __m512 step = _mm512_mul_ps(_mm512_mul_ps(mi, va), r);
    _mm512_storeu_ps(w + i, _mm512_sub_ps(_mm512_loadu_ps(w + i), step));
  }
  return i;
}
#endif

class Adam final : public Optimizer {
 public:
  explicit Adam(Config c) : Optimizer(std::move(c)) {
    beta_1_ = number_in("beta_1", 0.9, 0.0, 1.0, false, true);
    beta_2_ = number_in("beta_2", 0.999, 0.0, 1.0, false, true);
    epsilon_ = number_in("epsilon", 1e-7, 0.0, INFINITY, true, true);
    amsgrad_ = config_.flag("amsgrad", false);
    add_slots({"momentum", "velocity"});
    if (amsgrad_) add_slots({"velocity_hat"});
  }

 private:
  void begin_step(float lr) override {
    const float t = static_cast<float>(iterations() + 1);
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    alpha_ = lr * std::sqrt(1.f - std::pow(b2, t)) / (1.f - std::pow(b1, t));
  }
  void update(Param& p, float* const* s, float) override {
    float* w = p.value.data();
    const float* g = p.grad.data();
    float* vhat = amsgrad_ ? s[2] : nullptr;
    const float omb1 = static_cast<float>(1.0 - beta_1_), omb2 = static_cast<float>(1.0 - beta_2_);
    const float eps = static_cast<float>(epsilon_), alpha = alpha_;
    // A bf16 layer's copy of the weights, written in this pass: valid for
    // the version step() gives p next (a constraint applied after bumps it
    // again, and the layer then converts for itself).
    uint16_t* w_bf16 = p.bf16.size() == p.value.size() ? p.bf16.data() : nullptr;
    each_range(p, [&](int64_t b, int64_t e) {
#if defined(__x86_64__) && defined(__GNUC__)
      if (!vhat && !w_bf16 && avx512_supported())
        b = adam_range_avx512(w, s[0], s[1], g, alpha, omb1, omb2, eps, b, e);
#endif
      adam_range(w, w_bf16, s[0], s[1], vhat, g, alpha, omb1, omb2, eps, b, e);
    });
    if (w_bf16) p.bf16_version = p.version + 1;
  }
  double beta_1_, beta_2_, epsilon_;
  bool amsgrad_;
  float alpha_ = 0.f;
};

// Keras: m += (g - m) * (1 - b1); u = max(b2 * u, |g|);
// w -= (lr * m) / ((1 - b1^t) * (u + eps)).
FMNISTCPP_ISA_CLONES
void adamax_range(float* __restrict w, float* __restrict m, float* __restrict u,
                  const float* __restrict g, float lr, float one_minus_b1, float b2,
                  float one_minus_b1_power, float eps, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * one_minus_b1;
    const float ui = std::max(b2 * u[i], std::fabs(gi));
    m[i] = mi;
    u[i] = ui;
    w[i] -= (lr * mi) / (one_minus_b1_power * (ui + eps));
  }
}

class Adamax final : public Optimizer {
 public:
  explicit Adamax(Config c) : Optimizer(std::move(c)) {
    beta_1_ = number_in("beta_1", 0.9, 0.0, 1.0, false, true);
    beta_2_ = number_in("beta_2", 0.999, 0.0, 1.0);
    epsilon_ = number_in("epsilon", 1e-7, 0.0, INFINITY, true, true);
    add_slots({"momentum", "norm"});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    const float t = static_cast<float>(iterations() + 1);
    const float one_minus_power = 1.f - std::pow(static_cast<float>(beta_1_), t);
    float* w = p.value.data();
    const float* g = p.grad.data();
    const float omb1 = static_cast<float>(1.0 - beta_1_), b2 = static_cast<float>(beta_2_);
    const float eps = static_cast<float>(epsilon_);
    each_range(p, [&](int64_t b, int64_t e) {
      adamax_range(w, s[0], s[1], g, lr, omb1, b2, one_minus_power, eps, b, e);
    });
  }
  double beta_1_, beta_2_, epsilon_;
};

// Keras's Nadam: u_t = b1 * (1 - 0.5 * 0.96^t), u_t1 = the same at t + 1,
// u_product (kept across steps) *= u_t before the variables' updates;
// m += (g - m) * (1 - b1), v += (g^2 - v) * (1 - b2),
// m_hat = u_t1 * m / (1 - u_product * u_t1) + (1 - u_t) * g / (1 - u_product),
// v_hat = v / (1 - b2^t), w -= (m_hat * lr) / (sqrt(v_hat) + eps).
FMNISTCPP_ISA_CLONES
void nadam_range(float* __restrict w, float* __restrict m, float* __restrict v,
                 const float* __restrict g, float lr, float one_minus_b1, float one_minus_b2,
                 float u_t, float u_t1, float u_product, float u_product_t1,
                 float one_minus_b2_power, float eps, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i];
    const float mi = m[i] + (gi - m[i]) * one_minus_b1;
    const float vi = v[i] + (gi * gi - v[i]) * one_minus_b2;
    m[i] = mi;
    v[i] = vi;
    const float m_hat = (u_t1 * mi) / (1.f - u_product_t1) + ((1.f - u_t) * gi) / (1.f - u_product);
    const float v_hat = vi / one_minus_b2_power;
    w[i] -= (m_hat * lr) / (std::sqrt(v_hat) + eps);
  }
}

class Nadam final : public Optimizer {
 public:
  explicit Nadam(Config c) : Optimizer(std::move(c)) {
    beta_1_ = number_in("beta_1", 0.9, 0.0, 1.0, false, true);
    beta_2_ = number_in("beta_2", 0.999, 0.0, 1.0, false, true);
    epsilon_ = number_in("epsilon", 1e-7, 0.0, INFINITY, true, true);
    add_slots({"momentum", "velocity"});
    u_product_ = add_scalar("u_product", 1.f);
  }

 private:
  float u(int64_t t) const {
    return static_cast<float>(beta_1_) * (1.f - 0.5f * std::pow(0.96f, static_cast<float>(t)));
  }
  void begin_step(float) override {
    const float t = static_cast<float>(iterations() + 1);
    float& up = scalar(u_product_);
    up = up * static_cast<float>(beta_1_) * (1.f - 0.5f * std::pow(0.96f, t));
  }
  void update(Param& p, float* const* s, float lr) override {
    const int64_t t = iterations() + 1;
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    const float u_t = u(t), u_t1 = u(t + 1);
    const float up = scalar(u_product_), up_t1 = up * u_t1;
    const float one_minus_power = 1.f - std::pow(b2, static_cast<float>(t));
    float* w = p.value.data();
    const float* g = p.grad.data();
    const float eps = static_cast<float>(epsilon_);
    each_range(p, [&](int64_t b, int64_t e) {
      nadam_range(w, s[0], s[1], g, lr, 1.f - b1, 1.f - b2, u_t, u_t1, up, up_t1,
                  one_minus_power, eps, b, e);
    });
  }
  double beta_1_, beta_2_, epsilon_;
  size_t u_product_;
};

// Keras's Lion: w -= lr * sign(m * b1 + g * (1 - b1)); m = m * b2 + g * (1 - b2).
FMNISTCPP_ISA_CLONES
void lion_range(float* __restrict w, float* __restrict m, const float* __restrict g, float lr,
                float b1, float one_minus_b1, float b2, float one_minus_b2, int64_t begin,
                int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float gi = g[i], mi = m[i];
    const float c = mi * b1 + gi * one_minus_b1;
    const float sign = c > 0.f ? 1.f : (c < 0.f ? -1.f : 0.f);
    w[i] -= lr * sign;
    m[i] = mi * b2 + gi * one_minus_b2;
  }
}

class Lion final : public Optimizer {
 public:
  explicit Lion(Config c) : Optimizer(std::move(c)) {
    const double b1 = config_.number("beta_1", 0.9);
    if (!(b1 > 0 && b1 <= 1))
      throw std::invalid_argument("Argument `beta_1` must be in the [0, 1] range. Otherwise, the "
                                  "optimizer degenerates to SignSGD. Received: beta_1=" +
                                  python_repr(ConfigValue(b1)) + ".");
    beta_1_ = b1;
    beta_2_ = number_in("beta_2", 0.99, 0.0, 1.0);
    add_slots({"momentum"});
  }

 private:
  void update(Param& p, float* const* s, float lr) override {
    const float b1 = static_cast<float>(beta_1_), b2 = static_cast<float>(beta_2_);
    float* w = p.value.data();
    const float* g = p.grad.data();
    each_range(p, [&](int64_t b, int64_t e) {
      lion_range(w, s[0], g, lr, b1, 1.f - b1, b2, 1.f - b2, b, e);
    });
  }
  double beta_1_, beta_2_;
};

RegisterOptimizer<Adam> registered_adam("Adam");
RegisterOptimizer<Adam> registered_adamw("AdamW");  // Adam with a weight_decay default
RegisterOptimizer<Adamax> registered_adamax("Adamax");
RegisterOptimizer<Nadam> registered_nadam("Nadam");
RegisterOptimizer<Lion> registered_lion("Lion");

}  // namespace

}  // namespace fmnistcpp
