#include "random_flip.hpp"

#include "layer_registry.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<RandomFlip> registered("RandomFlip");

RandomFlip::RandomFlip(Config config) : RandomLayer(std::move(config)) {
  const std::string mode = config_.choice(
      "mode", {"horizontal", "vertical", "horizontal_and_vertical"}, "horizontal_and_vertical");
  horizontal_ = mode != "vertical";
  vertical_ = mode != "horizontal";
  if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
      "channels_last")
    throw not_implemented("RandomFlip supports data_format='channels_last' only");
}

Shape RandomFlip::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 3)
    throw std::invalid_argument("RandomFlip expects images (batch, height, width, channels), "
                                "got per-sample shape " + shape_str(in));
  return in;
}

void RandomFlip::prepare(int64_t batch) {
  batch_ = batch;
  flipped_.resize(batch);
}

void RandomFlip::apply(const float* src, float* dst) const {
  const int64_t H = input()[0], W = input()[1], C = input()[2], size = H * W * C;
#pragma omp parallel for schedule(static) if (batch_ * size > 65536)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* x = src + n * size;
    float* y = dst + n * size;
    if (!flipped_[n]) {
      if (x != y) std::memcpy(y, x, size * sizeof(float));
      continue;
    }
    for (int64_t h = 0; h < H; ++h) {
      const int64_t from_h = vertical_ ? H - 1 - h : h;
      for (int64_t w = 0; w < W; ++w) {
        const int64_t from_w = horizontal_ ? W - 1 - w : w;
        std::memcpy(y + (h * W + w) * C, x + (from_h * W + from_w) * C, C * sizeof(float));
      }
    }
  }
}

void RandomFlip::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  active_ = mode.training;
  if (!active_) {
    if (src[0] != dst) std::memcpy(dst, src[0], batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  // Keras: flip where uniform() <= 0.5
  for (int64_t n = 0; n < batch_; ++n) flipped_[n] = uniform(uint64_t(n)) <= 0.5f;
  apply(src[0], dst);
}

void RandomFlip::backward(const Sources&, const float*, float* diff_dst,
                          const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  if (!active_) {
    if (dx != diff_dst) std::memcpy(dx, diff_dst, batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  apply(diff_dst, dx);
}

}  // namespace fmnistcpp
