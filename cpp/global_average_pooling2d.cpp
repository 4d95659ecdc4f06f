#include "global_average_pooling2d.hpp"

#include <stdexcept>
#include <vector>

namespace fmnistcpp {

Shape GlobalAveragePooling2D::build(const Shape& input) {
  if (input.size() != 3)
    throw std::invalid_argument(
        "GlobalAveragePooling2D expects input of shape (height, width, channels), got " +
        shape_str(input));
  input_ = input;
  output_ = keepdims_ ? Shape{1, 1, input[2]} : Shape{input[2]};
  batch_ = -1;
  return output_;
}

void GlobalAveragePooling2D::forward(const float* src, float* dst, const ForwardMode&) {
  const int64_t hw = input_[0] * input_[1], c = input_[2];
  const double inv = 1.0 / static_cast<double>(hw);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < batch_; ++n) {
    std::vector<double> acc(c, 0.0);
    const float* s = src + n * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t k = 0; k < c; ++k) acc[k] += s[p * c + k];
    for (int64_t k = 0; k < c; ++k) dst[n * c + k] = static_cast<float>(acc[k] * inv);
  }
}

void GlobalAveragePooling2D::backward(const float*, const float*, const float* diff_dst,
                                      float* diff_src) {
  if (!diff_src) return;
  const int64_t hw = input_[0] * input_[1], c = input_[2];
  const float inv = 1.f / static_cast<float>(hw);
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* g = diff_dst + n * c;
    float* d = diff_src + n * hw * c;
    for (int64_t p = 0; p < hw; ++p)
      for (int64_t k = 0; k < c; ++k) d[p * c + k] = g[k] * inv;
  }
}

}  // namespace fmnistcpp
