// Cross-entropies with their gradients, matching Keras 3 on TensorFlow
// (keras/src/losses/losses.py, keras/src/backend/tensorflow/nn.py):
//  - logits: the output ends in a softmax or sigmoid (Keras's activations
//    keep the logits on the result, `_keras_logits`, and every
//    cross-entropy reads them whatever from_logits says), or
//    from_logits=True. Categorical: logsumexp(z) - sum(y z), gradient
//    softmax(z) - y (TensorFlow's kernel, which assumes rows of y sum to
//    1). Binary: tf.nn.sigmoid_cross_entropy_with_logits.
//  - probabilities: any other output with from_logits=False: Keras clips
//    to [1e-7, 1 - 1e-7] (categorical: after renormalising each row) and
//    takes the log; gradients stop at clipped entries.
#pragma once

#include "loss.hpp"

namespace fmnistcpp {

// Row-wise softmax, as tf.nn.softmax: exp(z - max) / sum.   [N, K] -> [N, K]
void softmax_rows(const float* z, float* p, int64_t n, int64_t k);
// 1 / (1 + exp(-z)) elementwise, as the network's sigmoid.   [n] -> [n]
void sigmoid(const float* z, float* p, int64_t n);

// "categorical_crossentropy" (from_logits, label_smoothing, axis=-1) or
// "sparse_categorical_crossentropy" (from_logits, ignore_class, axis=-1).
class CategoricalCrossentropy : public Loss {
 public:
  explicit CategoricalCrossentropy(Config config);
  bool sparse_labels() const override { return sparse_; }
  // Keras's ignore_class path passes the output through ops.where first,
  // which drops the logits the activation left on it.
  bool takes_logits_of(Activation a) const override {
    return !has_ignore_ && (a == Activation::softmax || a == Activation::sigmoid);
  }

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t* valid) const override;
  bool batch_rule() const override { return has_ignore_; }  // the mean over kept rows

 private:
  bool sparse_;
  float smoothing_ = 0.f;
  bool has_ignore_ = false;
  int64_t ignore_ = 0;
};

// "binary_crossentropy" (from_logits, label_smoothing, axis=-1): the mean
// over the last axis of the elementwise cross-entropy.
class BinaryCrossentropy : public Loss {
 public:
  explicit BinaryCrossentropy(Config config);
  bool takes_logits_of(Activation a) const override {
    return a == Activation::softmax || a == Activation::sigmoid;
  }

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t* valid) const override;

 private:
  float smoothing_ = 0.f;
};

// "binary_focal_crossentropy" (apply_class_balancing, alpha, gamma,
// from_logits, label_smoothing, axis=-1): (1 - p_t)^gamma times the
// binary cross-entropy, p_t = y p + (1 - y)(1 - p). The logits are taken
// from a sigmoid only (a softmax output is read as probabilities, where
// Keras would mix the pre-softmax logits with the softmax).
class BinaryFocalCrossentropy : public Loss {
 public:
  explicit BinaryFocalCrossentropy(Config config);
  bool takes_logits_of(Activation a) const override { return a == Activation::sigmoid; }

 protected:
  void rows(const LossRows& b, float* values, float* grad, uint8_t* valid) const override;

 private:
  float smoothing_ = 0.f, alpha_ = 0.25f, gamma_ = 2.f;
  bool balancing_ = false;
};

}  // namespace fmnistcpp
