#include "spatial_dropout.hpp"

#include "layer_registry.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<SpatialDropout2D> registered("SpatialDropout2D");

SpatialDropout2D::SpatialDropout2D(Config config) : RandomLayer(std::move(config)) {
  const double rate = config_.number("rate");
  if (!(rate >= 0.0 && rate < 1.0))
    throw std::invalid_argument("SpatialDropout2D rate must be in [0, 1), got " +
                                python_repr(ConfigValue(rate)));
  rate_ = static_cast<float>(rate);
  channels_first_ = config_.choice("data_format", {"channels_last", "channels_first"},
                                   "channels_last") == "channels_first";
}

Shape SpatialDropout2D::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 3)
    throw std::invalid_argument("SpatialDropout2D expects 4D inputs (batch, rows, cols, "
                                "channels), got per-sample shape " + shape_str(in));
  channels_ = channels_first_ ? in[0] : in[2];
  pixels_ = shape_size(in) / channels_;
  return in;
}

void SpatialDropout2D::prepare(int64_t batch) {
  batch_ = batch;
  scale_.resize(checked_mul(batch, channels_, "a dropout mask"));
}

void SpatialDropout2D::apply(const float* src, float* dst) const {
  const int64_t C = channels_, P = pixels_;
#pragma omp parallel for schedule(static) if (batch_ * C * P > 65536)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* s = scale_.data() + n * C;
    const float* x = src + n * C * P;
    float* y = dst + n * C * P;
    if (channels_first_) {
      for (int64_t c = 0; c < C; ++c)
        for (int64_t p = 0; p < P; ++p) y[c * P + p] = x[c * P + p] * s[c];
    } else {
      for (int64_t p = 0; p < P; ++p)
        for (int64_t c = 0; c < C; ++c) y[p * C + c] = x[p * C + c] * s[c];
    }
  }
}

void SpatialDropout2D::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  const int64_t n = batch_ * shape_size(input());
  masked_ = mode.training && rate_ > 0.f;
  if (!masked_) {
    if (src[0] != dst) std::memcpy(dst, src[0], n * sizeof(float));
    return;
  }
  const float keep_scale = 1.f / (1.f - rate_);
  for (size_t i = 0; i < scale_.size(); ++i)
    scale_[i] = uniform(uint64_t(i)) >= rate_ ? keep_scale : 0.f;
  apply(src[0], dst);
}

void SpatialDropout2D::backward(const Sources&, const float*, float* diff_dst,
                                const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  if (!masked_) {
    if (dx != diff_dst) std::memcpy(dx, diff_dst, batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  apply(diff_dst, dx);
}

}  // namespace fmnistcpp
