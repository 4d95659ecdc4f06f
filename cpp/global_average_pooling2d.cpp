#include "global_average_pooling2d.hpp"

#include "layer_registry.hpp"

#include <stdexcept>
#include <vector>

namespace fmnistcpp {

static RegisterLayer<GlobalAveragePooling2D> registered("GlobalAveragePooling2D");

GlobalAveragePooling2D::GlobalAveragePooling2D(Config config)
    : Layer(std::move(config)), keepdims_(config_.flag("keepdims", false)) {
  if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
      "channels_last")
    throw not_implemented("GlobalAveragePooling2D supports data_format='channels_last' only");
}

Shape GlobalAveragePooling2D::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 3)
    throw std::invalid_argument(
        "GlobalAveragePooling2D expects input of shape (height, width, channels), got " +
        shape_str(in));
  return keepdims_ ? Shape{1, 1, in[2]} : Shape{in[2]};
}

void GlobalAveragePooling2D::forward(const Sources& src, float* dst, const ForwardMode&) {
  const int64_t hw = input()[0] * input()[1], c = input()[2];
  const double inv = 1.0 / static_cast<double>(hw);
  const float* x = src[0];
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < batch_; ++n) {
    std::vector<double> acc(c, 0.0);
    const float* s = x + n * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t k = 0; k < c; ++k) acc[k] += s[p * c + k];
    for (int64_t k = 0; k < c; ++k) dst[n * c + k] = static_cast<float>(acc[k] * inv);
  }
}

void GlobalAveragePooling2D::backward(const Sources&, const float*, float* diff_dst,
                                      const SourceGrads& diff_src) {
  float* out = diff_src[0];
  if (!out) return;
  const int64_t hw = input()[0] * input()[1], c = input()[2];
  const float inv = 1.f / static_cast<float>(hw);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* g = diff_dst + n * c;
    float* d = out + n * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t k = 0; k < c; ++k) d[p * c + k] = g[k] * inv;
  }
}

}  // namespace fmnistcpp
