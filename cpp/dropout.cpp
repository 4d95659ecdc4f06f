#include "dropout.hpp"

#include "parallel.hpp"
#include "random.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

// The mask for elements [begin, end) of a batch, and its product with src.
// __restrict: the network gives every layer its own output and gradient
// buffers, so src, dst and the mask never overlap.
FMNISTCPP_ISA_CLONES
static void dropout_mask_range(const float* __restrict src, float* __restrict dst,
                               float* __restrict scale, uint64_t seed, float rate,
                               float keep_scale, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) {
    const float si = uniform01(seed, static_cast<uint64_t>(i)) >= rate ? keep_scale : 0.f;
    scale[i] = si;
    dst[i] = src[i] * si;
  }
}

FMNISTCPP_ISA_CLONES
static void multiply_range(const float* __restrict a, const float* __restrict b,
                           float* __restrict out, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = a[i] * b[i];
}

// Elements below which one thread does the whole mask.
constexpr int64_t kMinParallel = 16384;

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
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    dropout_mask_range(src, dst, scale, seed_, rate_, keep_scale, begin, end);
  });
}

void Dropout::backward(const float*, const float*, const float* diff_dst, float* diff_src) {
  if (!diff_src) return;
  const int64_t n = batch_ * shape_size(input_);
  if (!masked_) {
    if (diff_src != diff_dst) std::memcpy(diff_src, diff_dst, n * sizeof(float));
    return;
  }
  const float* scale = scale_.data();
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    multiply_range(diff_dst, scale, diff_src, begin, end);
  });
}

}  // namespace fmnistcpp
