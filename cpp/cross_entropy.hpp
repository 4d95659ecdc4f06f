// Categorical cross-entropy for integer labels (sparse) or one-hot / soft
// labels, with its gradient, matching Keras 3 on TensorFlow exactly:
//  - logits: the model ends in a softmax or sigmoid (Keras then takes the
//    logits from the activation, whatever from_logits says) or
//    from_logits=True: loss = logsumexp(z) - z_y, d/dz = softmax(z) - y.
//  - probabilities: any other output with from_logits=False: Keras
//    renormalises, clips to [1e-7, 1 - 1e-7] and takes the log; gradients
//    stop at clipped entries.
#pragma once

#include "loss.hpp"

namespace fmnistcpp {

constexpr float kKerasEpsilon = 1e-7f;

// Row-wise softmax, as tf.nn.softmax: exp(z - max) / sum.   [N, K] -> [N, K]
void softmax_rows(const float* z, float* p, int64_t n, int64_t k);

class CrossEntropy : public Loss {
 public:
  // "categorical_crossentropy" or "sparse_categorical_crossentropy", with
  // Keras's `from_logits`.
  explicit CrossEntropy(Config config);
  bool sparse_labels() const override { return sparse_; }
  bool takes_logits_of(Activation a) const override {
    return a == Activation::softmax || a == Activation::sigmoid;
  }
  double forward_backward(const float* output, const Labels& labels, const float* sample_weight,
                          int64_t n, int64_t k, float grad_scale, float* grad,
                          float* probs) const override;
  bool from_logits() const { return from_logits_; }

 private:
  bool sparse_;
  bool from_logits_;
};

}  // namespace fmnistcpp
