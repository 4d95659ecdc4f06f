// LayerNormalization, as Keras 3's (keras/src/ops/nn.py, layer_normalization):
// per sample, over the axes in `axis`,
//   mean, var = moments(x);  inv = rsqrt(var + epsilon) * gamma
//   out = x * inv + (beta - mean * inv)
// and with rms_scaling (Keras's deprecated flag, which divides by the
// standard deviation, not the root mean square): out = x * rsqrt(var + eps)
// * gamma, no beta. gamma and beta span the normalised axes.
//
// The normalised axes must be adjacent (axis=-1, or [1, 2, 3] on images):
// the input is then (outer, reduced, inner) per sample and the statistics
// are one per (sample, outer, inner) group.
#pragma once

#include "layer.hpp"

#include <memory>

namespace fmnistcpp {

class LayerNormalization : public Layer {
 public:
  // Keras's `axis` (an int or a list, counted with the batch axis),
  // `epsilon`, `center`, `scale`, `rms_scaling`.
  explicit LayerNormalization(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t groups() const { return batch_ * outer_ * inner_; }
  // Offset of element r of group g.
  int64_t at(int64_t g, int64_t r) const {
    return ((g / inner_) * red_ + r) * inner_ + g % inner_;
  }

  std::vector<int64_t> axes_;  // as given
  float epsilon_;
  bool center_, scale_, rms_;
  int64_t outer_ = 1, red_ = 1, inner_ = 1;
  std::unique_ptr<Param> gamma_, beta_;
  std::vector<float> mean_, inv_;  // per group, from the last forward
};

}  // namespace fmnistcpp
