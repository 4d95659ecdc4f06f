#include "alpha_dropout.hpp"

#include "layer_registry.hpp"
#include "parallel.hpp"

#include <cmath>
#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<AlphaDropout> registered("AlphaDropout");

constexpr int64_t kMinParallel = 16384;

AlphaDropout::AlphaDropout(Config config) : RandomLayer(std::move(config)) {
  const double rate = config_.number("rate");
  // Keras accepts rate == 1, then divides by zero in training.
  if (!(rate >= 0.0 && rate < 1.0))
    throw std::invalid_argument("AlphaDropout rate must be in [0, 1), got " +
                                python_repr(ConfigValue(rate)));
  config_.none_only("noise_shape",
                    "AlphaDropout(noise_shape=...) is not supported; use noise_shape=None "
                    "(an independent draw per element)");
  // Keras computes these in Python floats (double), then TF casts them.
  const double alpha = 1.6732632423543772848170429916717;
  const double scale = 1.0507009873554804934193349852946;
  const double alpha_p = -alpha * scale;
  const double a = std::pow((1.0 - rate) * (1.0 + rate * alpha_p * alpha_p), -0.5);
  rate_ = static_cast<float>(rate);
  alpha_p_ = static_cast<float>(alpha_p);
  a_ = static_cast<float>(a);
  b_ = static_cast<float>(-a * alpha_p * rate);
}

void AlphaDropout::prepare(int64_t batch) {
  batch_ = batch;
  slope_.reserve(checked_mul(batch, shape_size(input()), "a dropout mask"));
}

void AlphaDropout::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  const float* x = src[0];
  const int64_t n = batch_ * shape_size(input());
  masked_ = mode.training && rate_ > 0.f;
  if (!masked_) {
    if (x != dst) std::memcpy(dst, x, n * sizeof(float));
    return;
  }
  float* slope = slope_.data();
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) {
      const bool kept = uniform(uint64_t(i)) >= rate_;
      // Keras: x * kept + alpha' * (1 - kept), then a * x + b
      const float v = kept ? x[i] : alpha_p_;
      dst[i] = a_ * v + b_;
      slope[i] = kept ? a_ : 0.f;
    }
  });
}

void AlphaDropout::backward(const Sources&, const float*, float* diff_dst,
                            const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  const int64_t n = batch_ * shape_size(input());
  if (!masked_) {
    if (dx != diff_dst) std::memcpy(dx, diff_dst, n * sizeof(float));
    return;
  }
  const float* slope = slope_.data();
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) dx[i] = diff_dst[i] * slope[i];
  });
}

}  // namespace fmnistcpp
