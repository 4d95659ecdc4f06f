// Categorical cross-entropy for integer labels (sparse) or one-hot / soft
// labels, reduced as Keras does (mean over the batch), with its gradient.
//
// Two input kinds, chosen by the network, each matching Keras 3 on
// TensorFlow exactly:
//  - logits: the model ends in a softmax (Keras then takes the logits from
//    the softmax op, whatever from_logits says) or from_logits=True:
//    loss = logsumexp(z) - z_y, d/dz = softmax(z) - y.
//  - probabilities: any other output with from_logits=False: Keras
//    renormalises, clips to [1e-7, 1 - 1e-7] and takes the log; gradients
//    stop at clipped entries.
#pragma once

#include <cstdint>

namespace fmnistcpp {

constexpr float kKerasEpsilon = 1e-7f;

// Labels for a batch: exactly one of the two is set.
struct Labels {
  const int32_t* sparse = nullptr;  // [N]
  const float* dense = nullptr;     // [N, K]
  bool is_sparse() const { return sparse != nullptr; }
};

// Row-wise softmax, as tf.nn.softmax: exp(z - max) / sum.   [N, K] -> [N, K]
void softmax_rows(const float* z, float* p, int64_t n, int64_t k);

class CrossEntropy {
 public:
  void set_input_is_logits(bool v) { logits_ = v; }
  bool input_is_logits() const { return logits_; }

  // Sum over the batch of per-sample losses (the caller divides). When grad
  // is not null it receives d(mean loss)/d(output). probs receives the
  // probabilities the metrics should see (softmax(z) for logits input, the
  // output itself otherwise).
  //   output [N, K], labels [N] or [N, K] -> grad [N, K], probs [N, K]
  double forward_backward(const float* output, const Labels& labels, int64_t n, int64_t k,
                          float* grad, float* probs) const;

 private:
  bool logits_ = true;
};

}  // namespace fmnistcpp
