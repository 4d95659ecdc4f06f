#include "gaussian_noise.hpp"

#include "layer_registry.hpp"
#include "parallel.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<GaussianNoise> registered_noise("GaussianNoise");
static RegisterLayer<GaussianNoise> registered_dropout("GaussianDropout");

constexpr int64_t kMinParallel = 16384;  // elements below which one thread does it all

GaussianNoise::GaussianNoise(Config config)
    : RandomLayer(std::move(config)), multiplicative_(kind() == "GaussianDropout") {
  if (multiplicative_) {
    const double rate = config_.number("rate");
    // Keras accepts rate == 1, then divides by zero in training.
    if (!(rate >= 0.0 && rate < 1.0))
      throw std::invalid_argument("GaussianDropout rate must be in [0, 1), got " +
                                  python_repr(ConfigValue(rate)));
    stddev_ = static_cast<float>(std::sqrt(rate / (1.0 - rate)));  // Keras's, in double
  } else {
    const double stddev = config_.number("stddev");
    if (!(stddev >= 0.0 && stddev <= 1.0))
      throw std::invalid_argument(
          "GaussianNoise stddev must be a float between 0 and 1 (Keras's range), got " +
          python_repr(ConfigValue(stddev)));
    stddev_ = static_cast<float>(stddev);
  }
}

void GaussianNoise::prepare(int64_t batch) {
  batch_ = batch;
  if (multiplicative_) factor_.reserve(checked_mul(batch, shape_size(input()), "a noise buffer"));
}

void GaussianNoise::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  const float* x = src[0];
  const int64_t n = batch_ * shape_size(input());
  noisy_ = mode.training && stddev_ > 0.f;
  if (!noisy_) {
    if (x != dst) std::memcpy(dst, x, n * sizeof(float));
    return;
  }
  const float s = stddev_;
  float* f = factor_.data();
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    if (multiplicative_) {
      for (int64_t i = begin; i < end; ++i) {
        f[i] = normal(uint64_t(i)) * s + 1.f;  // TF: normal * stddev + mean
        dst[i] = x[i] * f[i];
      }
    } else {
      for (int64_t i = begin; i < end; ++i) dst[i] = x[i] + normal(uint64_t(i)) * s;
    }
  });
}

void GaussianNoise::backward(const Sources&, const float*, float* diff_dst,
                             const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  const int64_t n = batch_ * shape_size(input());
  if (!noisy_ || !multiplicative_) {  // additive noise: d(x + e)/dx = 1
    if (dx != diff_dst) std::memcpy(dx, diff_dst, n * sizeof(float));
    return;
  }
  const float* f = factor_.data();
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] = diff_dst[i] * f[i];
  });
}

}  // namespace fmnistcpp
