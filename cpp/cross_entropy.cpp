#include "cross_entropy.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

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

void sigmoid(const float* z, float* p, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) p[i] = 1.f / (1.f + std::exp(-z[i]));
}

// Keras's axis=-1 is the only axis: Python turns the positive spelling of
// the last axis into -1, as only it knows the output's rank.
static void read_last_axis(Config& c, const std::string& owner) {
  if (c.integer("axis", -1) != -1)
    throw not_implemented(owner + ": only axis=-1 (the class axis last) is supported");
}

static float read_smoothing(Config& c, const std::string& owner) {
  const double s = c.number("label_smoothing", 0.0);
  if (!(s >= 0.0 && s <= 1.0))
    throw std::invalid_argument(owner + " label_smoothing must be in [0, 1], got " +
                                std::to_string(s));
  return static_cast<float>(s);
}

CategoricalCrossentropy::CategoricalCrossentropy(Config config)
    : Loss(std::move(config)), sparse_(kind() == "sparse_categorical_crossentropy") {
  logits_ = config_.flag("from_logits", false);
  read_last_axis(config_, kind());
  if (sparse_) {
    if (auto ic = config_.optional_integer("ignore_class")) {
      has_ignore_ = true;
      ignore_ = *ic;
    }
  } else {
    smoothing_ = read_smoothing(config_, kind());
  }
}

void CategoricalCrossentropy::rows(const LossRows& b, float* values, float* grad,
                                   uint8_t* valid) const {
  const int64_t d = b.d;
  const float lo = kKerasEpsilon, hi = 1.f - kKerasEpsilon;
  // Keras: y * (1 - label_smoothing) + label_smoothing / classes.
  const float keep = 1.f - smoothing_, add = smoothing_ / static_cast<float>(d);
  auto target = [&](int64_t r, int64_t j) {
    const float t = b.y.dense[r * d + j];
    return smoothing_ != 0.f ? t * keep + add : t;
  };
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
  for (int64_t r = 0; r < b.rows; ++r) {
    const float* z = b.out + r * d;
    float* g = grad ? grad + r * d : nullptr;
    if (sparse_ && has_ignore_ && b.y.sparse[r] == ignore_) {
      valid[r] = 0;
      values[r] = 0.f;
      if (g) std::fill(g, g + d, 0.f);
      continue;
    }
    if (logits_) {
      // tf.nn.(sparse_)softmax_cross_entropy_with_logits:
      // sum_j y_j * (log(sum exp(z - m)) - (z_j - m)).
      const float m = *std::max_element(z, z + d);
      float s = 0.f;
      for (int64_t j = 0; j < d; ++j) s += std::exp(z[j] - m);
      const float log_s = std::log(s);
      float loss = 0.f;
      for (int64_t j = 0; j < d; ++j) {
        const float t = sparse_ ? (b.y.sparse[r] == j ? 1.f : 0.f) : target(r, j);
        loss += t * (log_s - (z[j] - m));
        if (g) g[j] = std::exp(z[j] - m) / s - t;
      }
      values[r] = loss;
    } else if (sparse_) {
      // Keras: logits = log(clip(p)); the sparse softmax cross-entropy of those.
      const int64_t t = b.y.sparse[r];
      float csum = 0.f;
      for (int64_t j = 0; j < d; ++j) csum += std::clamp(z[j], lo, hi);
      values[r] = std::log(csum) - std::log(std::clamp(z[t], lo, hi));
      if (g) {
        for (int64_t j = 0; j < d; ++j) {
          const float c = std::clamp(z[j], lo, hi);
          const bool passes = z[j] >= lo && z[j] <= hi;
          g[j] = passes ? 1.f / csum - (j == t ? 1.f / c : 0.f) : 0.f;
        }
      }
    } else {
      // Keras: q = p / sum(p); loss = -sum(y * log(clip(q))).
      float s = 0.f;
      for (int64_t j = 0; j < d; ++j) s += z[j];
      float loss = 0.f, dot = 0.f;  // dot: sum_j dL/dq_j * q_j
      for (int64_t j = 0; j < d; ++j) {
        const float q = z[j] / s, c = std::clamp(q, lo, hi), t = target(r, j);
        loss -= t * std::log(c);
        const float dq = (q >= lo && q <= hi) ? -t / c : 0.f;
        if (g) g[j] = dq;
        dot += dq * q;
      }
      if (g)
        for (int64_t j = 0; j < d; ++j) g[j] = (g[j] - dot) / s;
      values[r] = loss;
    }
  }
}

static RegisterLoss<CategoricalCrossentropy> categorical("categorical_crossentropy");
static RegisterLoss<CategoricalCrossentropy> sparse("sparse_categorical_crossentropy");

// tf.nn.sigmoid_cross_entropy_with_logits, as TensorFlow writes it:
// where(z >= 0, z, 0) - z t + log1p(exp(where(z >= 0, -z, z))); *dz gets
// its derivative by the same steps TensorFlow's autodiff takes.
static inline float sigmoid_xent(float z, float t, float* dz) {
  const bool pos = z >= 0.f;
  const float u = std::exp(pos ? -z : z);
  if (dz) *dz = (pos ? 1.f : 0.f) - t + (pos ? -1.f : 1.f) * (u * (1.f / (1.f + u)));
  return ((pos ? z : 0.f) - z * t) + std::log1p(u);
}

// Keras's clipped binary cross-entropy of a probability; *dp its
// derivative, 0 where the clip holds.
static inline float clipped_bce(float p, float t, float* dp) {
  const float lo = kKerasEpsilon, hi = 1.f - kKerasEpsilon;
  const float c = std::clamp(p, lo, hi);
  if (dp) *dp = (p >= lo && p <= hi) ? -(t * (1.f / c) - (1.f - t) * (1.f / (1.f - c))) : 0.f;
  return -(t * std::log(c) + (1.f - t) * std::log(1.f - c));
}

BinaryCrossentropy::BinaryCrossentropy(Config config) : Loss(std::move(config)) {
  logits_ = config_.flag("from_logits", false);
  smoothing_ = read_smoothing(config_, kind());
  read_last_axis(config_, kind());
}

void BinaryCrossentropy::rows(const LossRows& b, float* values, float* grad, uint8_t*) const {
  const int64_t d = b.d;
  const float fd = static_cast<float>(d);
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
  for (int64_t r = 0; r < b.rows; ++r) {
    float sum = 0.f;
    for (int64_t j = 0; j < d; ++j) {
      const int64_t i = r * d + j;
      float t = b.y.dense[i];
      if (smoothing_ != 0.f) t = t * (1.f - smoothing_) + 0.5f * smoothing_;
      float de = 0.f;
      sum += logits_ ? sigmoid_xent(b.out[i], t, grad ? &de : nullptr)
                     : clipped_bce(b.out[i], t, grad ? &de : nullptr);
      if (grad) grad[i] = de / fd;
    }
    values[r] = sum / fd;
  }
}

static RegisterLoss<BinaryCrossentropy> binary("binary_crossentropy");

BinaryFocalCrossentropy::BinaryFocalCrossentropy(Config config) : Loss(std::move(config)) {
  balancing_ = config_.flag("apply_class_balancing", false);
  alpha_ = static_cast<float>(config_.number("alpha", 0.25));
  gamma_ = static_cast<float>(config_.number("gamma", 2.0));
  logits_ = config_.flag("from_logits", false);
  smoothing_ = read_smoothing(config_, kind());
  read_last_axis(config_, kind());
}

void BinaryFocalCrossentropy::rows(const LossRows& b, float* values, float* grad,
                                   uint8_t*) const {
  const int64_t d = b.d;
  const float fd = static_cast<float>(d);
#pragma omp parallel for schedule(static) if (b.rows * d > 65536)
  for (int64_t r = 0; r < b.rows; ++r) {
    float sum = 0.f;
    for (int64_t j = 0; j < d; ++j) {
      const int64_t i = r * d + j;
      float t = b.y.dense[i];
      if (smoothing_ != 0.f) t = t * (1.f - smoothing_) + 0.5f * smoothing_;
      // Keras: p = sigmoid(z) when reading logits, and the cross-entropy
      // then comes from the logits (tf's sigmoid keeps them on p).
      const float p = logits_ ? 1.f / (1.f + std::exp(-b.out[i])) : b.out[i];
      float dbce = 0.f;
      const float bce = logits_ ? sigmoid_xent(b.out[i], t, &dbce) : clipped_bce(p, t, &dbce);
      const float pt = t * p + (1.f - t) * (1.f - p);
      const float focal = std::pow(1.f - pt, gamma_);
      const float w = balancing_ ? t * alpha_ + (1.f - t) * (1.f - alpha_) : 1.f;
      sum += balancing_ ? w * (focal * bce) : focal * bce;
      if (grad) {
        // d focal / d p = -gamma (1 - p_t)^(gamma - 1) (2t - 1).
        const float dfocal = -(gamma_ * std::pow(1.f - pt, gamma_ - 1.f)) * (2.f * t - 1.f);
        const float dp_dx = logits_ ? p * (1.f - p) : 1.f;  // by z (logits) or p
        grad[i] = w * (dfocal * dp_dx * bce + focal * dbce) / fd;
      }
    }
    values[r] = sum / fd;
  }
}

static RegisterLoss<BinaryFocalCrossentropy> focal("binary_focal_crossentropy");

}  // namespace fmnistcpp
