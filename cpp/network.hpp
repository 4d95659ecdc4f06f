// A Sequential model in C++: the layer chain, its buffers, the loss, the
// metrics, the optimizer, and the loops over batches (fit, evaluate,
// predict). Python never sees a batch: it calls one of these per epoch.
#pragma once

#include "aligned_buffer.hpp"
#include "cross_entropy.hpp"
#include "layer.hpp"
#include "metrics.hpp"
#include "optimizer.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace fmnistcpp {

// Running sums over the batches of one pass; means are what Keras reports.
struct EpochLogs {
  double loss_sum = 0.0;
  int64_t samples = 0;
  int64_t batches = 0;
  std::vector<int64_t> correct;  // per metric
  double loss() const { return samples ? loss_sum / samples : 0.0; }
  double metric(size_t m) const { return samples ? double(correct[m]) / samples : 0.0; }
};

// Called after every batch with (batches done, batches in the pass, logs).
// Returns true to stop the pass after this batch. May throw (Ctrl-C, an
// exception from a Python callback): the model is then consistent, since it
// is only called between batches.
using ProgressFn = std::function<bool(int64_t, int64_t, const EpochLogs&)>;

class Network {
 public:
  explicit Network(Shape input_shape);

  // Builds the layer on the current output shape and appends it.
  const Shape& add(LayerPtr layer);
  const Shape& input_shape() const { return input_shape_; }
  const Shape& output_shape() const;
  size_t num_layers() const { return layers_.size(); }
  Layer& layer(size_t i) { return *layers_.at(i); }
  // Trainable params only (what the optimizer and gradients see).
  std::vector<Param*> params();
  // Every param, trainable or not, in Keras's weight order (get/set_weights).
  std::vector<Param*> all_params();

  void compile(bool sparse_labels, bool from_logits, const OptimizerConfig& optimizer,
               std::vector<MetricSpec> metrics);
  bool compiled() const { return optimizer_ != nullptr; }
  Optimizer& optimizer();
  size_t num_metrics() const { return metrics_.size(); }

  //   x [n, *input_shape], labels [n] or [n, K]
  EpochLogs fit_epoch(const float* x, const Labels& y, int64_t n, int64_t batch_size,
                      bool shuffle, uint64_t seed, const ProgressFn& progress);
  EpochLogs evaluate(const float* x, const Labels& y, int64_t n, int64_t batch_size,
                     const ProgressFn& progress);
  //   x [n, *input_shape] -> out [n, *output_shape]
  void predict(const float* x, int64_t n, int64_t batch_size, float* out,
               const ProgressFn& progress);

  // For tests: one batch of all n samples; fills every param's grad with
  // d(mean loss)/d(param) and input_grad (if not null) with d/dx.
  double loss_and_gradients(const float* x, const Labels& y, int64_t n, bool training,
                            uint64_t seed, float* input_grad);
  // For tests: every layer's output at inference, in order.
  std::vector<std::vector<float>> layer_outputs(const float* x, int64_t n);

 private:
  // The checks every pass with labels starts with; returns the class count.
  int64_t check_labelled_pass(const Labels& y, int64_t n, int64_t batch_size) const;
  // Sizes buffers and primitives for a batch; `with_backward` also sizes the
  // gradient buffers and the gathered input rows and labels.
  void reserve_batch(int64_t batch, bool with_backward);
  void gather(const float* x, const Labels& y, const int64_t* rows, int64_t m);
  // Runs the chain on input (batch_ rows: input_ after a gather, or rows of
  // the caller's array); returns the last layer's output.
  const float* forward(const float* input, const ForwardMode& mode, uint64_t seed);
  // diff_out is d(loss)/d(output) in diff_a_.
  void backward(float* input_grad);
  // Softmax the loss took over, put back for callers that want outputs.
  void finish_outputs(const float* out, int64_t m, float* dst);
  int64_t output_size() const { return shape_size(output_shape()); }

  Shape input_shape_;
  std::vector<LayerPtr> layers_;
  std::vector<AlignedBuffer> outputs_;     // per layer; unused by views
  std::vector<const float*> output_ptr_;   // where each layer's output is this batch
  int64_t first_trainable_ = -1;           // no diff_src needed before it
  const float* batch_input_ = nullptr;      // what the last forward read
  AlignedBuffer input_, diff_a_, diff_b_, probs_, dense_labels_;
  std::vector<int32_t> sparse_labels_;
  Labels batch_labels_;
  int64_t capacity_ = 0, backward_capacity_ = 0, batch_ = 0;
  int prepared_threads_ = 0;  // the OpenMP thread count the primitives were made for

  bool sparse_labels_mode_ = true;
  bool emits_logits_ = false;  // last layer stops before its softmax / sigmoid
  Activation output_activation_ = Activation::linear;
  CrossEntropy loss_;
  std::vector<MetricSpec> metrics_;
  std::unique_ptr<Optimizer> optimizer_;
};

}  // namespace fmnistcpp
