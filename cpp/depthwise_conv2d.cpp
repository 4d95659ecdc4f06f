// DepthwiseConv2D: each input channel convolved with its own
// `depth_multiplier` filters, as a grouped convolution with one group per
// channel. Arguments as Conv2D (conv2d.hpp) without filters/groups, plus
// `depth_multiplier`; strides > 1 with dilation_rate > 1 is allowed, as in
// Keras. Kernel (kh, kw, channels, multiplier): output channel c * multiplier
// + m, which is Keras's grouped-kernel layout (kh, kw, 1, channels *
// multiplier). Bias (channels * multiplier).
#include "conv2d.hpp"
#include "layer_registry.hpp"

namespace fmnistcpp {

class DepthwiseConv2D : public ConvBase {
 public:
  explicit DepthwiseConv2D(Config config)
      : ConvBase(std::move(config), 2, /*dilation_with_strides=*/true),
        multiplier_(config_.positive_int("depth_multiplier", 1)) {}

 private:
  Shape infer(const std::vector<Shape>& inputs) override {
    const int64_t c = image_hwc(inputs[0])[2];
    const int64_t out = checked_size({c, multiplier_}, "DepthwiseConv2D's output channels");
    return infer_conv(inputs[0], out, c, {ksize_[0], ksize_[1], c, multiplier_});
  }
  int64_t multiplier_;
};

static RegisterLayer<DepthwiseConv2D> registered("DepthwiseConv2D");

}  // namespace fmnistcpp
