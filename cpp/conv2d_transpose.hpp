// Conv2DTranspose: the transpose (gradient) of a Conv2D, as Keras's
// conv_transpose on TensorFlow, run as oneDNN's deconvolution. Arguments as
// Conv2D (conv2d.hpp) without groups, plus `output_padding` (None, or
// per axis < strides). Keras's output length per axis, with k the dilated
// kernel's extent:
//   'valid': (in - 1) * s + k + output_padding, where None means
//            max(k, s) - k;
//   'same':  in * s when output_padding is None, else
//            (in - 1) * s + k % 2 + output_padding;
// and TensorFlow's padding of the convolution it transposes: total
// max((in - 1) * s + k - out, 0), half (rounded down) before. Rows past what
// the kernel reaches get only the bias. Kernel (kh, kw, filters, in), bias
// (filters).
#pragma once

#include "conv2d.hpp"

namespace fmnistcpp {

class Conv2DTranspose : public ConvBase {
 public:
  explicit Conv2DTranspose(Config config);
  void prepare(int64_t batch) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t filters_;
  std::optional<std::vector<int64_t>> output_padding_;
};

}  // namespace fmnistcpp
