#include "dropout.hpp"

#include "layer_registry.hpp"
#include "parallel.hpp"
#include "random.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

// The mask for elements [begin, end) of a batch, and its product with src.
// __restrict: the network gives every layer its own output buffer, so src,
// dst and the mask never overlap. (The gradients may: backward runs in place.)
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
static void multiply_range(const float* a, const float* __restrict b, float* out,
                           int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = a[i] * b[i];
}

// Elements below which one thread does the whole mask.
constexpr int64_t kMinParallel = 16384;

static RegisterLayer<Dropout> registered("Dropout");

Dropout::Dropout(Config config) : Layer(std::move(config)) {
  const double rate = config_.number("rate");
  if (!(rate >= 0.0 && rate < 1.0))
    throw std::invalid_argument("Dropout rate must be in [0, 1), got " +
                                python_repr(ConfigValue(rate)));
  rate_ = static_cast<float>(rate);
  config_.none_only("noise_shape", "Dropout(noise_shape=...) is not supported");
  if (auto seed = config_.optional_integer("seed")) user_seed_ = mix64(static_cast<uint64_t>(*seed));
}

void Dropout::set_seed(uint64_t seed) { seed_ = seed ^ user_seed_; }

void Dropout::prepare(int64_t batch) {
  batch_ = batch;
  scale_.reserve(checked_mul(batch, shape_size(input()), "a dropout mask"));
}

void Dropout::forward(const Sources& sources, float* dst, const ForwardMode& mode) {
  const float* src = sources[0];
  const int64_t n = batch_ * shape_size(input());
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

void Dropout::backward(const Sources&, const float*, float* diff_dst,
                       const SourceGrads& diff_srcs) {
  float* diff_src = diff_srcs[0];
  if (!diff_src) return;
  const int64_t n = batch_ * shape_size(input());
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
