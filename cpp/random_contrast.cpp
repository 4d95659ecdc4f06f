#include "random_contrast.hpp"

#include "layer_registry.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<RandomContrast> registered("RandomContrast");

RandomContrast::RandomContrast(Config config) : RandomLayer(std::move(config)) {
  const auto [lower, upper] = base_factor(config_, "factor", 0.0, 1.0);
  // Keras: uniform(minval=1.0 - lower, maxval=1.0 + upper), float32
  min_factor_ = static_cast<float>(1.0 - lower);
  max_factor_ = static_cast<float>(1.0 + upper);
  const std::vector<double> range = config_.numbers("value_range", {0.0, 255.0});
  if (range.size() != 2 || !(range[0] <= range[1]))
    throw std::invalid_argument("RandomContrast value_range must be a (low, high) pair with "
                                "low <= high, got " +
                                python_repr(config_.values().at("value_range")));
  low_ = static_cast<float>(range[0]);
  high_ = static_cast<float>(range[1]);
  if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
      "channels_last")
    throw not_implemented("RandomContrast supports data_format='channels_last' only");
}

Shape RandomContrast::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 3)
    throw std::invalid_argument("RandomContrast expects images (batch, height, width, "
                                "channels), got per-sample shape " + shape_str(in));
  return in;
}

void RandomContrast::prepare(int64_t batch) {
  batch_ = batch;
  factor_.resize(batch);
  inside_.resize(checked_mul(batch, shape_size(input()), "a clip mask"));
}

void RandomContrast::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  const int64_t size = shape_size(input());
  active_ = mode.training;
  if (!active_) {
    if (src[0] != dst) std::memcpy(dst, src[0], batch_ * size * sizeof(float));
    return;
  }
  for (int64_t n = 0; n < batch_; ++n)
    factor_[n] = min_factor_ + (max_factor_ - min_factor_) * uniform(uint64_t(n));
  const int64_t C = input()[2], P = size / C;
#pragma omp parallel for schedule(static) if (batch_ * size > 65536)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* x = src[0] + n * size;
    float* y = dst + n * size;
    unsigned char* in = inside_.data() + n * size;
    const float f = factor_[n];
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0.0;
      for (int64_t p = 0; p < P; ++p) sum += x[p * C + c];
      const float mean = static_cast<float>(sum / P);
      for (int64_t p = 0; p < P; ++p) {
        const int64_t i = p * C + c;
        const float v = (x[i] - mean) * f + mean;
        in[i] = v >= low_ && v <= high_;  // tf.clip_by_value passes the gradient there
        y[i] = std::clamp(v, low_, high_);
      }
    }
  }
}

void RandomContrast::backward(const Sources&, const float*, float* diff_dst,
                              const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  const int64_t size = shape_size(input());
  if (!active_) {
    if (dx != diff_dst) std::memcpy(dx, diff_dst, batch_ * size * sizeof(float));
    return;
  }
  const int64_t C = input()[2], P = size / C;
  // out_j = f x_j + (1 - f) mean(x): dx_k = f g_k + (1 - f) / P * sum_j g_j per channel,
  // g being the gradient that passes the clip.
#pragma omp parallel for schedule(static) if (batch_ * size > 65536)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* dy = diff_dst + n * size;
    const unsigned char* in = inside_.data() + n * size;
    float* d = dx + n * size;
    const float f = factor_[n];
    for (int64_t c = 0; c < C; ++c) {
      double sum = 0.0;
      for (int64_t p = 0; p < P; ++p) sum += in[p * C + c] ? dy[p * C + c] : 0.f;
      const float share = static_cast<float>((1.0 - f) * sum / P);
      for (int64_t p = 0; p < P; ++p) {
        const int64_t i = p * C + c;
        d[i] = (in[i] ? f * dy[i] : 0.f) + share;
      }
    }
  }
}

}  // namespace fmnistcpp
