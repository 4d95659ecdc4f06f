// RandomRotation, RandomZoom and RandomTranslation, as Keras 3's: in
// training each image gets its own random affine map (drawn as Keras draws
// it, from the same ranges) and is resampled through it (image_transform);
// at inference they are the identity. Only their maps differ.
#pragma once

#include "image_transform.hpp"
#include "random_layer.hpp"

#include <vector>

namespace fmnistcpp {

class RandomAffine : public RandomLayer {
 public:
  // Keras's `fill_mode`, `interpolation`, `fill_value`, `seed`, `data_format`.
  explicit RandomAffine(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 protected:
  // The map {a0, a1, a2, b0, b1, b2} of image n of the batch.
  virtual void draw(int64_t n, float* m) const = 0;
  float height() const { return static_cast<float>(geometry_.height); }
  float width() const { return static_cast<float>(geometry_.width); }

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  ImageGeometry geometry_{};
  bool transformed_ = false;
  std::vector<float> maps_;  // 6 per image of the last training batch
};

class RandomRotation : public RandomAffine {
 public:
  // `factor`: a fraction of 2 pi, a number or a (lower, upper) pair.
  explicit RandomRotation(Config config);

 private:
  void draw(int64_t n, float* m) const override;
  float lower_deg_, upper_deg_;
};

class RandomZoom : public RandomAffine {
 public:
  // `height_factor`, `width_factor` (None: the height's zoom for both).
  explicit RandomZoom(Config config);

 private:
  void draw(int64_t n, float* m) const override;
  float h_min_, h_max_, w_min_, w_max_;
  bool same_zoom_;
};

class RandomTranslation : public RandomAffine {
 public:
  // `height_factor`, `width_factor`: fractions of the image's height / width.
  explicit RandomTranslation(Config config);

 private:
  void draw(int64_t n, float* m) const override;
  float h_lower_, h_upper_, w_lower_, w_upper_;
};

}  // namespace fmnistcpp
