// Keras 3's regression, hinge and divergence losses (keras/src/losses/
// losses.py), each with the derivative TensorFlow's autodiff takes,
// including its choices at kinks: |x|' = sign(x) (0 at 0); maximum(a, b)
// sends the gradient to a when a >= b; clip passes it inside the closed
// range; reduce_max splits it evenly between tied maxima.
#include "loss.hpp"

#include <algorithm>
#include <cmath>
#include <limits>

namespace fmnistcpp {

namespace {

inline float sign(float x) { return x > 0.f ? 1.f : (x < 0.f ? -1.f : 0.f); }

// The mean over the last axis of an elementwise term f(p, t), as most
// Keras losses are; F::term returns f and writes df/dp.
template <class F>
class MeanOfElements : public Loss {
 public:
  explicit MeanOfElements(Config config) : Loss(std::move(config)), f_(config_) {}
  bool batch_rule() const override { return F::kBatchRule; }

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t*) const override {
    const int64_t d = b.d;
    const float fd = static_cast<float>(d);
    const F f = f_.for_batch(b.y.dense, b.rows * d);
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
    for (int64_t r = 0; r < b.rows; ++r) {
      double sum = 0.0;
      for (int64_t j = 0; j < d; ++j) {
        const int64_t i = r * d + j;
        float dp = 0.f;
        sum += f.term(b.out[i], b.y.dense[i], grad ? &dp : nullptr);
        if (grad) grad[i] = dp / fd;
      }
      values[r] = static_cast<float>(sum) / fd;
    }
  }

 private:
  F f_;
};

// Terms with nothing to read from the config or the batch.
struct Plain {
  static constexpr bool kBatchRule = false;
  explicit Plain(Config&) {}
  Plain() = default;
};

struct SquaredError : Plain {  // mean_squared_error: (y - p)^2
  using Plain::Plain;
  SquaredError for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    const float e = t - p;
    if (dp) *dp = -(2.f * e);
    return e * e;
  }
};

struct AbsoluteError : Plain {  // mean_absolute_error: |y - p|
  using Plain::Plain;
  AbsoluteError for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    if (dp) *dp = -sign(t - p);
    return std::fabs(t - p);
  }
};

struct PercentageError : Plain {  // 100 |(y - p) / max(|y|, eps)|, the 100 folded in per term
  using Plain::Plain;
  PercentageError for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    const float m = std::max(std::fabs(t), kKerasEpsilon), q = (t - p) / m;
    if (dp) *dp = 100.f * (-sign(q) / m);
    return 100.f * std::fabs(q);
  }
};

struct SquaredLogError : Plain {  // (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2
  using Plain::Plain;
  SquaredLogError for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    const float pm = std::max(p, kKerasEpsilon) + 1.f;
    const float e = std::log(pm) - std::log(std::max(t, kKerasEpsilon) + 1.f);
    if (dp) *dp = p >= kKerasEpsilon ? 2.f * e * (1.f / pm) : 0.f;
    return e * e;
  }
};

struct HuberTerm {  // 0.5 e^2 for |e| <= delta, else delta |e| - 0.5 delta^2
  static constexpr bool kBatchRule = false;
  explicit HuberTerm(Config& c) : delta(static_cast<float>(c.number("delta", 1.0))) {}
  HuberTerm for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    const float e = p - t, a = std::fabs(e);
    if (a <= delta) {
      if (dp) *dp = e;
      return 0.5f * (e * e);
    }
    if (dp) *dp = delta * sign(e);
    return delta * a - 0.5f * (delta * delta);
  }
  float delta;
};

// tf.nn.softplus for float32, with TensorFlow's cut-offs.
inline float tf_softplus(float x) {
  const float threshold = std::log(std::numeric_limits<float>::epsilon()) + 2.f;
  if (x > -threshold) return x;
  if (x < threshold) return std::exp(x);
  return std::log1p(std::exp(x));
}

struct LogCoshTerm : Plain {  // x + softplus(-2x) - log(2), x = p - y
  using Plain::Plain;
  LogCoshTerm for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    const float x = p - t, log2 = std::log(2.f);
    if (dp) *dp = 1.f + -2.f * (1.f / (1.f + std::exp(2.f * x)));  // softplus' = sigmoid
    return (x + tf_softplus(x * -2.f)) - log2;
  }
};

struct PoissonTerm : Plain {  // p - y log(p + eps)
  using Plain::Plain;
  PoissonTerm for_batch(const float*, int64_t) const { return *this; }
  float term(float p, float t, float* dp) const {
    if (dp) *dp = 1.f - t * (1.f / (p + kKerasEpsilon));
    return p - t * std::log(p + kKerasEpsilon);
  }
};

// hinge and squared_hinge: Keras maps labels to -1/1 when every label
// the call sees (the batch, in fit) is 0 or 1.
struct HingeTerm {
  static constexpr bool kBatchRule = true;
  explicit HingeTerm(Config& c) : squared(c.owner() == "squared_hinge") {}
  HingeTerm for_batch(const float* y, int64_t count) const {
    HingeTerm h = *this;
    h.convert = std::all_of(y, y + count, [](float v) { return v == 0.f || v == 1.f; });
    return h;
  }
  float term(float p, float t, float* dp) const {
    if (convert) t = 2.f * t - 1.f;
    const float m = 1.f - t * p, h = std::max(m, 0.f);
    if (squared) {
      if (dp) *dp = m >= 0.f ? 2.f * h * -t : 0.f;
      return h * h;
    }
    if (dp) *dp = m >= 0.f ? -t : 0.f;
    return h;
  }
  bool squared;
  bool convert = false;
};

static RegisterLoss<MeanOfElements<SquaredError>> mse("mean_squared_error");
static RegisterLoss<MeanOfElements<AbsoluteError>> mae("mean_absolute_error");
static RegisterLoss<MeanOfElements<PercentageError>> mape("mean_absolute_percentage_error");
static RegisterLoss<MeanOfElements<SquaredLogError>> msle("mean_squared_logarithmic_error");
static RegisterLoss<MeanOfElements<HuberTerm>> huber("huber");
static RegisterLoss<MeanOfElements<LogCoshTerm>> log_cosh("log_cosh");
static RegisterLoss<MeanOfElements<PoissonTerm>> poisson("poisson");
static RegisterLoss<MeanOfElements<HingeTerm>> hinge("hinge");
static RegisterLoss<MeanOfElements<HingeTerm>> squared_hinge("squared_hinge");

// kl_divergence: sum(yc log(yc / pc)), yc = clip(y, eps, 1), pc = clip(p, eps, 1).
class KLDivergence : public Loss {
 public:
  using Loss::Loss;

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t*) const override {
    const int64_t d = b.d;
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
    for (int64_t r = 0; r < b.rows; ++r) {
      double sum = 0.0;
      for (int64_t j = 0; j < d; ++j) {
        const int64_t i = r * d + j;
        const float p = b.out[i];
        const float yc = std::clamp(b.y.dense[i], kKerasEpsilon, 1.f);
        const float pc = std::clamp(p, kKerasEpsilon, 1.f);
        sum += yc * std::log(yc / pc);
        if (grad) grad[i] = (p >= kKerasEpsilon && p <= 1.f) ? -yc / pc : 0.f;
      }
      values[r] = static_cast<float>(sum);
    }
  }
};

static RegisterLoss<KLDivergence> kld("kl_divergence");

// cosine_similarity: -sum(normalize(y) normalize(p)), normalize(x) =
// x * min(rsqrt(sum x^2), 1 / eps).
class CosineSimilarity : public Loss {
 public:
  explicit CosineSimilarity(Config config) : Loss(std::move(config)) {
    if (config_.integer("axis", -1) != -1)
      throw not_implemented("cosine_similarity: only axis=-1 is supported");
  }

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t*) const override {
    const int64_t d = b.d;
    const float cap = 1.f / kKerasEpsilon;
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
    for (int64_t r = 0; r < b.rows; ++r) {
      const float* p = b.out + r * d;
      const float* y = b.y.dense + r * d;
      float pp = 0.f, yy = 0.f;
      for (int64_t j = 0; j < d; ++j) {
        pp += p[j] * p[j];
        yy += y[j] * y[j];
      }
      const float rp = 1.f / std::sqrt(pp), ip = std::min(rp, cap);
      const float iy = std::min(1.f / std::sqrt(yy), cap);
      float dot = 0.f;  // sum_j normalize(y)_j p_j
      for (int64_t j = 0; j < d; ++j) dot += (y[j] * iy) * p[j];
      values[r] = -(dot * ip);
      if (grad) {
        // d/dp_j of -dot(p) * ip(p): -yn_j ip + dot ip^3 p_j, the second term
        // only while rsqrt is below the cap (minimum sends it there).
        const bool through = rp <= cap;
        for (int64_t j = 0; j < d; ++j)
          grad[r * d + j] = -(y[j] * iy) * ip + (through ? dot * (ip * ip * ip) * p[j] : 0.f);
      }
    }
  }
};

static RegisterLoss<CosineSimilarity> cosine("cosine_similarity");

// categorical_hinge: max(max((1 - y) p) - sum(y p) + 1, 0).
class CategoricalHinge : public Loss {
 public:
  using Loss::Loss;

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t*) const override {
    const int64_t d = b.d;
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
    for (int64_t r = 0; r < b.rows; ++r) {
      const float* p = b.out + r * d;
      const float* y = b.y.dense + r * d;
      float pos = 0.f, neg = -std::numeric_limits<float>::infinity();
      for (int64_t j = 0; j < d; ++j) {
        pos += y[j] * p[j];
        neg = std::max(neg, (1.f - y[j]) * p[j]);
      }
      const float m = neg - pos + 1.f;
      values[r] = std::max(m, 0.f);
      if (!grad) continue;
      int64_t ties = 0;
      for (int64_t j = 0; j < d; ++j) ties += (1.f - y[j]) * p[j] == neg;
      for (int64_t j = 0; j < d; ++j) {
        const bool at_max = (1.f - y[j]) * p[j] == neg;
        grad[r * d + j] =
            m >= 0.f ? (at_max ? (1.f - y[j]) / static_cast<float>(ties) : 0.f) - y[j] : 0.f;
      }
    }
  }
};

static RegisterLoss<CategoricalHinge> categorical_hinge("categorical_hinge");

}  // namespace

}  // namespace fmnistcpp
