// Normalization, as Keras 3's (keras/src/layers/preprocessing/normalization.py):
//   out = (in - mean) / max(sqrt(variance), 1e-7)      (invert: the inverse)
// with one mean and variance per index of the kept axes (`axis`, counted
// with the batch axis; () for one scalar pair), broadcast over the others.
// Either given (`mean`, `variance`: then the layer has no weights) or the
// non-trainable weights mean, variance, count that Python's adapt() fills
// (Keras's; count stays 0, as Keras's adapt leaves it).
#pragma once

#include "layer.hpp"

#include <memory>

namespace fmnistcpp {

class Normalization : public Layer {
 public:
  // Keras's `axis`, `invert`, `mean` and `variance` (flattened, in C order)
  // with `mean_shape`, the shape they were given in.
  explicit Normalization(Config config);
  void prepare(int64_t batch) override { batch_ = batch; }
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  const float* means() const { return mean_ ? mean_->value.data() : given_mean_.data(); }
  const float* variances() const {
    return variance_ ? variance_->value.data() : given_variance_.data();
  }
  // max(sqrt(variance), epsilon) per statistic, from the current variance.
  void update_denominators();

  std::vector<int64_t> axes_;
  bool invert_;
  std::vector<double> mean_values_, variance_values_;
  std::vector<int64_t> mean_shape_;
  bool given_ = false;
  std::vector<float> given_mean_, given_variance_;  // broadcast to the kept shape
  std::unique_ptr<Param> mean_, variance_, count_;
  std::vector<int64_t> stat_of_;  // per element of a sample: its statistic
  std::vector<float> denom_;
};

}  // namespace fmnistcpp
