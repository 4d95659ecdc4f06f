// Convolutions over Keras's images: Conv2D and what shares its arguments and
// its oneDNN convolution (Conv1D, DepthwiseConv2D: conv1d.hpp,
// depthwise_conv2d.hpp). Bias and activation are fused (WeightedLayer).
//
// Arguments: `kernel_size`, `strides`, `padding` ('valid' or 'same', Keras's
// split: the extra row/column goes after; Conv1D also 'causal'),
// `dilation_rate` (not with strides > 1 in Conv2D/Conv1D, as Keras),
// `groups`, `data_format` ('channels_last' or 'channels_first'),
// `activation`, `use_bias`. Conv2D kernel (kh, kw, in / groups, filters),
// bias (filters).
#pragma once

#include "weighted_layer.hpp"

namespace fmnistcpp {

class ConvBase : public WeightedLayer {
 public:
  void prepare(int64_t batch) override;

 protected:
  // rank 2, or 1 for Conv1D (a 2-D convolution over one row). Reads the
  // arguments every convolution has; `dilation_with_strides`: whether Keras
  // allows strides > 1 together with dilation_rate > 1 (its depthwise and
  // separable convolutions do, Conv2D and Conv1D do not).
  ConvBase(Config config, int rank, bool dilation_with_strides);

  // Checks the input, sets the geometry for `out_channels` outputs in
  // `groups` groups and creates the kernel (kernel_shape) and bias.
  Shape infer_conv(const Shape& in, int64_t out_channels, int64_t groups,
                   std::vector<int64_t> kernel_shape);
  // Per-sample (height, width, channels) of a Keras shape in this layer's
  // rank and data format.
  Shape image_hwc(const Shape& keras_shape) const;
  Shape keras_shape(int64_t h, int64_t w, int64_t c) const;

  void run_backward_weights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                            const dnnl::memory& diff_weights,
                            const dnnl::memory* diff_bias) override;

  int rank_;
  bool channels_first_;
  std::string padding_;  // 'valid', 'same' or (Conv1D) 'causal'
  std::vector<int64_t> ksize_, strides_, dilation_;  // (height, width); rank 1: height 1
  int64_t groups_ = 1, in_channels_ = 0, out_channels_ = 0;
  Shape in_hwc_, out_hwc_;
  Dims pad_l_, pad_r_;

 private:
  // The bias gradient as column_sums of diff_dst instead of in the
  // backward-weights primitive (set by ConvBase::prepare, see there).
  bool bias_grad_by_column_sums_ = false;
};

class Conv2D : public ConvBase {
 public:
  explicit Conv2D(Config config);

 protected:
  Conv2D(Config config, int rank);

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t filters_, groups_arg_;
};

// Keras's output length and padding for one spatial axis ('same' puts
// total/2 before and the rest after). `k` is the window's extent (for a
// dilated kernel, (k - 1) * dilation + 1). Shared with the pooling layers.
void window_geometry(int64_t in, int64_t k, int64_t s, bool same, int64_t& out,
                     int64_t& pad_before, int64_t& pad_after);

// Output (height, width) of a 2-D window op on a (height, width, channels)
// input; throws when the window does not fit with 'valid' padding.
// pad_l/pad_r receive the (top, left) and (bottom, right) padding.
std::vector<int64_t> window_output(const std::string& layer, const char* window_name,
                                   const Shape& input, const std::vector<int64_t>& window,
                                   const std::vector<int64_t>& strides, bool same, Dims& pad_l,
                                   Dims& pad_r);

// An activation tensor's descriptor: (N, C, H, W) dims, stored channels last
// (nhwc) or first (nchw).
inline dnnl::memory::desc image_md(int64_t n, int64_t c, int64_t h, int64_t w,
                                   bool channels_first) {
  return plain_md({n, c, h, w}, channels_first ? Tag::nchw : Tag::nhwc);
}

// Keras's kernel (kh, kw, in / groups, out) as oneDNN weights: (out, in, kh,
// kw) for one group, else (groups, out / groups, in / groups, kh, kw), where
// output channel o belongs to group o / (out / groups) as in Keras.
dnnl::memory::desc keras_conv_kernel_md(int64_t kh, int64_t kw, int64_t in_per_group,
                                        int64_t out, int64_t groups);
Dims conv_weights_dims(int64_t kh, int64_t kw, int64_t in_per_group, int64_t out,
                       int64_t groups);

}  // namespace fmnistcpp
