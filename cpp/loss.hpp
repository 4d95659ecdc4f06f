// A model output's loss, as Keras 3's Loss.__call__: per-row values from a
// kernel (a row is one vector along the output's last axis, which Keras
// reduces over), weighted by sample weight and Keras's mask, and reduced
// by the loss's `reduction`. Losses are made by Keras function name from
// their arguments (make_loss), like layers; each registers itself in its
// own file (RegisterLoss).
#pragma once

#include "activation.hpp"
#include "config.hpp"

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace fmnistcpp {

constexpr float kKerasEpsilon = 1e-7f;  // keras.config.epsilon()

// Labels for a batch: exactly one of the two is set.
struct Labels {
  const int32_t* sparse = nullptr;  // [N] class indices
  const float* dense = nullptr;     // [N, K] one-hot, soft or regression targets
  bool is_sparse() const { return sparse != nullptr; }
};

// What a loss kernel sees: `rows` rows of `d` values (d = the output's
// last axis; a sample holds K / d rows).
struct LossRows {
  const float* out;  // [rows, d] the output (logits when the loss reads logits)
  const Labels& y;   // sparse: one index per row; dense: [rows, d]
  int64_t rows, d;
};

class Loss {
 public:
  // Reads `reduction` and `last_axis_size` (the output's last axis, which
  // Python passes; 0 or missing: the whole sample is one row).
  explicit Loss(Config config);
  virtual ~Loss() = default;
  const std::string& kind() const { return config_.owner(); }
  const Config& config() const { return config_; }

  // Whether the labels are class indices (shape (N,)) rather than rows of
  // the output's shape.
  virtual bool sparse_labels() const { return false; }
  // Keras's _get_logits: given the activation the output layer ends in,
  // whether this loss reads the logits underneath it instead. The network
  // then makes that layer stop at the logits and calls set_logits_of.
  virtual bool takes_logits_of(Activation) const { return false; }
  void set_logits_of(Activation a) {
    logits_ = true;
    stripped_ = a;
  }
  bool input_is_logits() const { return logits_; }
  // Whether the loss of a pass depends on how its samples are grouped into
  // batches (a 'sum' or 'mean_with_sample_weight' reduction, a mask, a
  // per-batch label rule): then it must see the caller's batches.
  bool depends_on_batches() const {
    return reduction_ != Reduction::sum_over_batch_size || batch_rule();
  }

  // Returns the batch's reduced loss times n (so sums over batches divided
  // by the samples are Keras's epoch mean). When grad is not null it
  // receives grad_scale * n * d(reduced loss)/d(output); `probs` receives
  // what the metrics see: the output as Keras's model returns it (the
  // activation the network stripped applied again).
  //   output [N, K], labels [N] or [N, K], sample_weight [N] or null
  double forward_backward(const float* output, const Labels& labels, const float* sample_weight,
                          int64_t n, int64_t k, float grad_scale, float* grad,
                          float* probs) const;

  // Keras's loss(y_true, y_pred, sample_weight) on arrays: `values`
  // [N * K / d] receives the per-row values (times the weights for
  // reduction 'none', as Keras returns them); returns the reduced loss.
  double call(const float* output, const Labels& labels, const float* sample_weight, int64_t n,
              int64_t k, float* values) const;

  // Keras's per-row values (the loss function's result), unweighted.
  void values(const float* output, const Labels& labels, int64_t n, int64_t k,
              float* values) const;
  int64_t rows_per_sample(int64_t k) const { return d_ > 0 ? k / d_ : 1; }

 protected:
  // values[r] = the loss of row r; grad, when not null, receives
  // d values[r] / d out[r, :]; valid[r] = 0 drops row r (Keras's mask on
  // the loss, from ignore_class), arriving all 1.
  virtual void rows(const LossRows& b, float* values, float* grad, uint8_t* valid) const = 0;
  // Whether rows() applies a rule to the batch as a whole (a mask, hinge's
  // label check).
  virtual bool batch_rule() const { return false; }

  Config config_;
  bool logits_ = false;
  Activation stripped_ = Activation::linear;  // what set_logits_of took away

 private:
  enum class Reduction { sum_over_batch_size, sum, mean_with_sample_weight, none };
  double reduce(const float* sample_weight, int64_t n, int64_t rows, const float* values,
                const uint8_t* valid, double* divisor) const;
  // Throws unless the last axis d divides the k values of a sample.
  void check_rows(int64_t k, int64_t d) const;

  Reduction reduction_;
  int64_t d_ = 0;
  mutable std::vector<float> values_;
  mutable std::vector<uint8_t> valid_;
};

using LossPtr = std::unique_ptr<Loss>;
using LossFactory = LossPtr (*)(Config&&);

void register_loss(const std::string& kind, LossFactory factory);
// By Keras's function name ("sparse_categorical_crossentropy"); throws
// std::invalid_argument naming the known losses.
LossPtr make_loss(const std::string& kind, Config::Values args);

// `static RegisterLoss<Huber> registered("huber");` in the loss's .cpp.
template <class L>
struct RegisterLoss {
  explicit RegisterLoss(const char* kind) {
    register_loss(kind, [](Config&& c) -> LossPtr { return std::make_unique<L>(std::move(c)); });
  }
};

// Keras's reduction for a row count and per-row weights, shared with the
// metrics: the row's weight w_r (sample weight x mask).
inline float row_weight(const float* sample_weight, int64_t r, int64_t rows_per_sample) {
  return sample_weight ? sample_weight[r / rows_per_sample] : 1.f;
}

}  // namespace fmnistcpp
