// Resampling an image through an affine map, as TensorFlow's
// ImageProjectiveTransformV3 (tensorflow/core/kernels/image/image_ops.h),
// which Keras 3's RandomRotation, RandomZoom and RandomTranslation call
// through keras.ops.image.affine_transform: output pixel (x, y) reads the
// input at (a0 x + a1 y + a2, b0 x + b1 y + b2), mapped into the image by
// the fill mode, by nearest or bilinear interpolation; what falls outside
// reads fill_value. The backward pass is the exact adjoint of that
// sampling (TensorFlow's registered gradient resamples through the inverse
// map instead, which is not the derivative).
#pragma once

#include <cstdint>
#include <string>

namespace fmnistcpp {

enum class FillMode { reflect, wrap, constant, nearest };
enum class Interpolation { nearest, bilinear };

FillMode fill_mode_from(const std::string& name);
Interpolation interpolation_from(const std::string& name);

struct ImageGeometry {
  int64_t height, width, channels;
  FillMode fill;
  Interpolation interpolation;
  float fill_value;
};

// One image, (H, W, C) channels-last. m = {a0, a1, a2, b0, b1, b2}.
void affine_forward(const float* in, float* out, const float* m, const ImageGeometry& g);
// diff_in = the adjoint applied to diff_out (overwritten).
void affine_backward(const float* diff_out, float* diff_in, const float* m,
                     const ImageGeometry& g);

}  // namespace fmnistcpp
