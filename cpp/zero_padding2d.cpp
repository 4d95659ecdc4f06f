// ZeroPadding2D: zeros around the image. Keras's `padding`: an int, (rows,
// columns) or ((top, bottom), (left, right)); `data_format`.
#include "layer_registry.hpp"
#include "window_copy.hpp"

#include <stdexcept>

namespace fmnistcpp {

class ZeroPadding2D : public Layer {
 public:
  explicit ZeroPadding2D(Config config)
      : Layer(std::move(config)), pad_(config_.int_pairs("padding", 2, {{1, 1}, {1, 1}})),
        channels_first_(config_.choice("data_format", {"channels_last", "channels_first"},
                                       "channels_last") == "channels_first") {}
  void prepare(int64_t batch) override {
    batch_ = batch;
    const Shape& in = input();
    const int64_t c = channels_first_ ? in[0] : in[2];
    const int64_t h = channels_first_ ? in[1] : in[0], w = channels_first_ ? in[2] : in[1];
    geometry_ = {batch * (channels_first_ ? c : 1), channels_first_ ? 1 : c, h, w,
                 h + pad_[0][0] + pad_[0][1], w + pad_[1][0] + pad_[1][1], pad_[0][0], pad_[1][0]};
  }
  // [N, H, W, C] -> [N, H + top + bottom, W + left + right, C]
  void forward(const Sources& src, float* dst, const ForwardMode&) override {
    copy_window(geometry_, src[0], dst, /*into_big=*/true);
  }
  // the gradient of the padded image, cut back to the input's window
  void backward(const Sources&, const float*, float* diff_dst,
                const SourceGrads& diff_src) override {
    if (diff_src[0]) copy_window(geometry_, diff_dst, diff_src[0], /*into_big=*/false);
  }

 private:
  Shape infer(const std::vector<Shape>& inputs) override {
    Shape out = inputs[0];
    if (out.size() != 3)
      throw std::invalid_argument("ZeroPadding2D expects input of shape " +
                                  std::string(channels_first_ ? "(channels, height, width)"
                                                              : "(height, width, channels)") +
                                  ", got " + shape_str(out));
    const int h = channels_first_ ? 1 : 0;
    for (int a = 0; a < 2; ++a)
      if (__builtin_add_overflow(out[h + a], pad_[a][0], &out[h + a]) ||
          __builtin_add_overflow(out[h + a], pad_[a][1], &out[h + a]))
        throw std::invalid_argument("ZeroPadding2D padding=" +
                                    python_repr(config_.values().at("padding")) +
                                    " makes an image larger than a tensor can hold");
    return out;
  }
  IntTuples pad_;
  bool channels_first_;
  WindowGeometry geometry_{};
};

static RegisterLayer<ZeroPadding2D> registered("ZeroPadding2D");

}  // namespace fmnistcpp
