// GlobalMaxPooling2D: the maximum over height and width of each channel:
// (channels,), or (1, 1, channels) with `keepdims` ((channels, 1, 1) in
// channels_first). Keras's ops.max is TensorFlow's reduce_max, whose
// gradient is shared equally by every position holding the maximum (ties
// are common after a ReLU), so backward does the same.
#include "layer_registry.hpp"

#include <algorithm>
#include <stdexcept>
#include <vector>

namespace fmnistcpp {

class GlobalMaxPooling2D : public Layer {
 public:
  explicit GlobalMaxPooling2D(Config config)
      : Layer(std::move(config)), keepdims_(config_.flag("keepdims", false)),
        channels_first_(config_.choice("data_format", {"channels_last", "channels_first"},
                                       "channels_last") == "channels_first") {}
  void prepare(int64_t batch) override { batch_ = batch; }

  // [N, H, W, C] -> [N, C]
  void forward(const Sources& src, float* dst, const ForwardMode&) override {
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < batch_; ++n) {
      const float* x = src[0] + n * hw_ * c_;
      float* y = dst + n * c_;
      for (int64_t k = 0; k < c_; ++k) y[k] = x[k * stride_c_];
      for (int64_t p = 1; p < hw_; ++p)
        for (int64_t k = 0; k < c_; ++k) y[k] = std::max(y[k], x[p * stride_p_ + k * stride_c_]);
    }
  }

  // diff_src = diff_dst / (number of maxima) where src == max, else 0
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override {
    float* out = diff_src[0];
    if (!out) return;
#pragma omp parallel for schedule(static)
    for (int64_t n = 0; n < batch_; ++n) {
      const float* x = src[0] + n * hw_ * c_;
      const float* y = dst + n * c_;
      float* d = out + n * hw_ * c_;
      std::vector<int64_t> ties(c_, 0);
      for (int64_t p = 0; p < hw_; ++p)
        for (int64_t k = 0; k < c_; ++k) ties[k] += x[p * stride_p_ + k * stride_c_] == y[k];
      for (int64_t p = 0; p < hw_; ++p)
        for (int64_t k = 0; k < c_; ++k) {
          const int64_t i = p * stride_p_ + k * stride_c_;
          d[i] = x[i] == y[k] ? diff_dst[n * c_ + k] / static_cast<float>(ties[k]) : 0.f;
        }
    }
  }

 private:
  Shape infer(const std::vector<Shape>& inputs) override {
    const Shape& in = inputs[0];
    if (in.size() != 3)
      throw std::invalid_argument("GlobalMaxPooling2D expects input of shape " +
                                  std::string(channels_first_ ? "(channels, height, width)"
                                                              : "(height, width, channels)") +
                                  ", got " + shape_str(in));
    c_ = channels_first_ ? in[0] : in[2];
    hw_ = channels_first_ ? in[1] * in[2] : in[0] * in[1];
    stride_p_ = channels_first_ ? 1 : c_;  // between positions
    stride_c_ = channels_first_ ? hw_ : 1;  // between channels
    if (!keepdims_) return {c_};
    return channels_first_ ? Shape{c_, 1, 1} : Shape{1, 1, c_};
  }
  bool keepdims_, channels_first_;
  int64_t c_ = 0, hw_ = 0, stride_p_ = 0, stride_c_ = 0;
};

static RegisterLayer<GlobalMaxPooling2D> registered("GlobalMaxPooling2D");

}  // namespace fmnistcpp
