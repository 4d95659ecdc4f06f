// Cropping2D: rows and columns cut off the image's edges. Keras's
// `cropping`: an int, (rows, columns) or ((top, bottom), (left, right));
// `data_format`.
#include "layer_registry.hpp"
#include "window_copy.hpp"

#include <stdexcept>

namespace fmnistcpp {

class Cropping2D : public Layer {
 public:
  explicit Cropping2D(Config config)
      : Layer(std::move(config)), crop_(config_.int_pairs("cropping", 2, {{0, 0}, {0, 0}})),
        channels_first_(config_.choice("data_format", {"channels_last", "channels_first"},
                                       "channels_last") == "channels_first") {}
  void prepare(int64_t batch) override {
    batch_ = batch;
    const Shape& in = input();
    const int64_t c = channels_first_ ? in[0] : in[2];
    const int64_t h = channels_first_ ? in[1] : in[0], w = channels_first_ ? in[2] : in[1];
    geometry_ = {batch * (channels_first_ ? c : 1), channels_first_ ? 1 : c,
                 h - crop_[0][0] - crop_[0][1], w - crop_[1][0] - crop_[1][1], h, w,
                 crop_[0][0], crop_[1][0]};
  }
  // [N, H, W, C] -> [N, H - top - bottom, W - left - right, C]
  void forward(const Sources& src, float* dst, const ForwardMode&) override {
    copy_window(geometry_, src[0], dst, /*into_big=*/false);
  }
  // the kept window's gradient; zero where the image was cut
  void backward(const Sources&, const float*, float* diff_dst,
                const SourceGrads& diff_src) override {
    if (diff_src[0]) copy_window(geometry_, diff_dst, diff_src[0], /*into_big=*/true);
  }

 private:
  Shape infer(const std::vector<Shape>& inputs) override {
    Shape out = inputs[0];
    if (out.size() != 3)
      throw std::invalid_argument("Cropping2D expects input of shape " +
                                  std::string(channels_first_ ? "(channels, height, width)"
                                                              : "(height, width, channels)") +
                                  ", got " + shape_str(out));
    const int h = channels_first_ ? 1 : 0;
    for (int a = 0; a < 2; ++a) {
      // compared without adding, so huge croppings cannot overflow
      if (crop_[a][0] >= out[h + a] || crop_[a][1] >= out[h + a] - crop_[a][0])
        throw std::invalid_argument(
            "Cropping2D cropping=" + python_repr(config_.values().at("cropping")) +
            " must leave at least one row and column of its input " + shape_str(out) +
            " (Keras: values in `cropping` should be smaller than the spatial dimension)");
      out[h + a] -= crop_[a][0] + crop_[a][1];
    }
    return out;
  }
  IntTuples crop_;
  bool channels_first_;
  WindowGeometry geometry_{};
};

static RegisterLayer<Cropping2D> registered("Cropping2D");

}  // namespace fmnistcpp
