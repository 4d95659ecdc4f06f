#include "dropout.hpp"

#include "random.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

Dropout::Dropout(double rate) : rate_(static_cast<float>(rate)) {
  if (!(rate >= 0.0 && rate < 1.0))
    throw std::invalid_argument("Dropout rate must be in [0, 1), got " + std::to_string(rate));
}

void Dropout::prepare(int64_t batch) {
  batch_ = batch;
  scale_.reserve(batch * shape_size(input_));
}

void Dropout::forward(const float* src, float* dst, const ForwardMode& mode) {
  const int64_t n = batch_ * shape_size(input_);
  masked_ = mode.training && rate_ != 0.f;
  if (!masked_) {
    if (src != dst) std::memcpy(dst, src, n * sizeof(float));
    return;
  }
  const float keep_scale = 1.f / (1.f - rate_);
  float* scale = scale_.data();
  const uint64_t seed = seed_;
  const float rate = rate_;
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) {
    scale[i] = uniform01(seed, static_cast<uint64_t>(i)) >= rate ? keep_scale : 0.f;
    dst[i] = src[i] * scale[i];
  }
}

void Dropout::backward(const float*, const float*, const float* diff_dst, float* diff_src) {
  if (!diff_src) return;
  const int64_t n = batch_ * shape_size(input_);
  if (!masked_) {
    if (diff_src != diff_dst) std::memcpy(diff_src, diff_dst, n * sizeof(float));
    return;
  }
  const float* scale = scale_.data();
#pragma omp parallel for simd schedule(static)
  for (int64_t i = 0; i < n; ++i) diff_src[i] = diff_dst[i] * scale[i];
}

}  // namespace fmnistcpp
