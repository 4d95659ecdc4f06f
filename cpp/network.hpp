// A model in C++: a directed acyclic graph of layer nodes over tensors, its
// buffers, the losses and metrics of its outputs, the optimizer, and the
// loops over batches (fit, evaluate, predict). Python never sees a batch:
// it calls one of these per epoch. A Sequential model is the linear case.
//
// Tensors are numbered: 0 .. num_inputs-1 are the model's inputs, then one
// per node, in the order nodes were added (which is a topological order,
// since a node may only read tensors that exist).
#pragma once

#include "aligned_buffer.hpp"
#include "layer.hpp"
#include "loss.hpp"
#include "metrics.hpp"
#include "optimizer.hpp"

#include <functional>
#include <memory>
#include <vector>

namespace fmnistcpp {

// Rows of one model input: float32 rows are read in place, uint8 and
// float64 rows are converted to float32 a batch at a time as they are read,
// so a large uint8 or float64 dataset never exists as float32 in full.
enum class DType { f32, f64, u8 };
struct InputArray {
  const void* data = nullptr;
  DType dtype = DType::f32;
};

// What a pass reads: one array per model input, labels for each output
// that has a loss (in target order), optional per-sample weights.
struct PassData {
  std::vector<InputArray> x;
  std::vector<Labels> y;
  const float* sample_weight = nullptr;  // [n] or null
  int64_t n = 0;
};

// What compile says about one model output.
struct Target {
  int output = 0;  // index into the network's outputs
  LossPtr loss;
  float weight = 1.f;                     // Keras's loss_weights
  std::vector<MetricPtr> metrics;         // Keras's `metrics` (unweighted)
  std::vector<MetricPtr> weighted_metrics;  // Keras's `weighted_metrics`
};

// Running sums over the batches of one pass; means are what Keras reports.
struct EpochLogs {
  double loss_sum = 0.0;                // the model's loss (weighted sum + penalties) x rows
  std::vector<double> target_loss_sum;  // each target's own loss x rows
  std::vector<double> metrics;          // each target's metrics, then weighted ones
  int64_t samples = 0;
  int64_t batches = 0;
  double loss() const { return samples ? loss_sum / samples : 0.0; }
  double target_loss(size_t t) const { return samples ? target_loss_sum[t] / samples : 0.0; }
};

// Called after every batch with (batches done, batches in the pass, logs).
// Returns true to stop the pass after this batch. May throw (Ctrl-C, an
// exception from a Python callback): the model is then consistent, since it
// is only called between batches, with the engine lock released.
using ProgressFn = std::function<bool(int64_t, int64_t, const EpochLogs&)>;

// For tests and benchmarks: train on this many lanes whenever the network
// can (0: as the thread team suggests, the default).
void set_forced_lanes(int lanes);
int forced_lanes();
int64_t lane_steps();  // training steps run on lanes so far, in this process

class Network {
 public:
  explicit Network(std::vector<Shape> input_shapes);
  Network(const Network&) = delete;
  Network& operator=(const Network&) = delete;

  // Adds a node computing layer(tensors `inputs`...): builds the layer on
  // their shapes (a built layer must see the shapes it was built for) and
  // returns the id of the node's output tensor.
  int add(LayerPtr layer, std::vector<int> inputs);
  void set_outputs(std::vector<int> tensors);
  size_t num_inputs() const { return input_shapes_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  size_t num_nodes() const { return nodes_.size(); }
  const Shape& tensor_shape(int t) const { return tensor_shape_.at(t); }
  const Shape& input_shape(size_t i) const { return input_shapes_.at(i); }
  const Shape& output_shape(size_t o) const { return tensor_shape_.at(outputs_.at(o)); }
  Layer& layer(size_t node) { return *nodes_.at(node).layer; }
  // For tests: the threads each node's layer was prepared for in the last batch.
  std::vector<int> layer_teams() const;
  // Per node, in the last planned backward pass: whether it wrote its
  // input's gradient over its output's (plan_backward). For tests.
  std::vector<bool> gradients_in_place() const;
  // Every parameter once, in node order and each layer's order.
  std::vector<Param*> all_params();

  // One target per output that has a loss; `frozen[k]` for node k: its
  // parameters are not updated and a BatchNormalization runs in inference
  // mode (Keras's trainable=False, decided at compile as in Keras).
  // `order` lists the trainable parameters as (node, index in the layer's
  // params) in Keras's trainable_weights order, which the optimizer's state
  // follows; empty means node order.
  void compile(std::vector<Target> targets, std::unique_ptr<Optimizer> optimizer,
               std::vector<bool> frozen,
               const std::vector<std::pair<int, int>>& order = {});
  bool compiled() const { return optimizer_ != nullptr; }
  Optimizer& optimizer();
  size_t num_targets() const { return targets_.size(); }
  const Target& target(size_t t) const { return targets_.at(t); }

  EpochLogs fit_epoch(const PassData& data, int64_t batch_size, bool shuffle, uint64_t seed,
                      const ProgressFn& progress);
  EpochLogs evaluate(const PassData& data, int64_t batch_size, const ProgressFn& progress);
  //   x: per input [n, *input_shape] -> out: per output [n, *output_shape].
  // `training` runs dropout and batch statistics (model(x, training=True)).
  void predict(const std::vector<InputArray>& x, int64_t n, int64_t batch_size,
               const std::vector<float*>& out, const ProgressFn& progress,
               bool training = false, uint64_t seed = 0);

  // Batch-at-a-time passes (streaming.cpp), for batches Python produces one
  // at a time: begin_stream() resets the metrics and returns empty sums;
  // train_batch / test_batch run one batch of all data.n rows, as one
  // iteration of fit_epoch (batch number `batch` of an epoch seeded `seed`)
  // or evaluate, adding to `logs`.
  EpochLogs begin_stream();
  void train_batch(const PassData& data, uint64_t seed, int64_t batch, EpochLogs& logs);
  void test_batch(const PassData& data, EpochLogs& logs);

  // For tests: one batch of all n rows; fills every trainable parameter's
  // grad with d(loss)/d(param) and each non-null input_grads[i] with d/dx_i.
  double loss_and_gradients(const PassData& data, bool training, uint64_t seed,
                            const std::vector<float*>& input_grads);
  // For tests: the value of every tensor at inference (inputs included).
  std::vector<std::vector<float>> tensor_values(const std::vector<InputArray>& x, int64_t n);

 private:
  struct Node {
    LayerPtr layer;
    std::vector<int> inputs;  // tensor ids
    int output;               // tensor id
    bool frozen = false;
    int team = 1;             // threads its layer is prepared for and runs on
    Sources src;              // filled every forward
    SourceGrads diff_src;     // filled every backward
  };
  // One step of the backward sweep, planned once per compile (see plan_backward).
  struct GradStep {
    int node = -1;     // -1: a loss gradient (target `target`)
    int target = -1;
    int dst_slot = -1;                  // where the node reads d/d(output)
    std::vector<int> write_slot;        // per input: slot written, -1 none
    std::vector<int> add_into;          // per input: slot to add write_slot into, -1 none
    int release = -1;                   // slot free after this step
  };

  int64_t check_pass(const PassData& data, int64_t batch_size, bool labelled) const;
  static PassData unlabelled(const std::vector<InputArray>& x, int64_t n);
  // Floats of all tensors of one sample: what a row of inference holds.
  int64_t floats_per_row() const;
  // Per batch, under the engine lock: buffers, primitives and per-layer
  // state for this network (layers may have served another one since).
  void reserve_batch(int64_t batch, bool with_backward);
  // Points the input tensors at rows [start, start + m) (converting
  // non-float32 rows), or at gathered rows when `rows` is given.
  void load_inputs(const std::vector<InputArray>& x, int64_t start, int64_t m,
                   const int64_t* rows);
  void load_labels(const PassData& data, int64_t start, int64_t m, const int64_t* rows);
  void forward(const ForwardMode& mode, uint64_t seed);
  // Losses and metrics of the batch; gradients when with_grad.
  void losses(int64_t m, bool with_grad, EpochLogs& logs);
  void backward(const std::vector<float*>& input_grads);
  void plan_backward(bool input_grads);
  // Training on lanes (lanes.cpp): each lane a copy of every layer with
  // one-thread primitives, running the whole pass on its own rows.
  struct Lane {
    std::vector<LayerPtr> layers;             // per node
    std::vector<std::vector<Param*>> params;  // per node, as layer->params()
    std::vector<bool> shares_params;          // per node: Layer::use_params_of
  };
  bool runs_on_lanes();
  int lanes_for(int64_t m, int suggested);
  void make_lanes(int lanes);
  void refresh_lane_weights(Lane& lane);
  void lane_forward(Lane& lane, int lane_id, int64_t row0, int64_t rows, uint64_t seed);
  void lane_backward(Lane& lane, int64_t row0, int64_t rows);
  void defer_lane_weight_gradients(int64_t m, const std::vector<int64_t>& row0);
  void sum_lane_gradients(int64_t m);
  // forward, losses and backward of one training batch on `lanes` lanes.
  void forward_backward_on_lanes(int lanes, int64_t m, uint64_t seed, EpochLogs& logs);
  float* slot(int s, const std::vector<float*>& input_grads);
  // Softmax/sigmoid that a loss took over, put back for outputs.
  void finish_output(size_t o, int64_t m, float* dst) const;
  double penalty(bool add_grad);
  double activity_penalty(int64_t m) const;
  void reset_metrics();
  void check_stream(const EpochLogs& logs) const;
  // One optimizer step on m rows (gathered through `rows`, or rows [0, m)),
  // and one evaluation batch on rows [start, start + m); each under the
  // engine lock, adding to logs.
  // `lanes`: the threads the team suggests running on lanes (lanes.cpp);
  // 1 (or a network that cannot) runs the step on the OpenMP team.
  void train_step(const PassData& data, const int64_t* rows, int64_t m, uint64_t seed,
                  EpochLogs& logs, int lanes = 1);
  void test_step(const PassData& data, int64_t start, int64_t m, double weight_penalty,
                 EpochLogs& logs);
  static uint64_t batch_seed(uint64_t seed, int64_t b);
  void read_metrics(EpochLogs& logs) const;
  EpochLogs new_logs() const;

  std::vector<Shape> input_shapes_;
  std::vector<Shape> tensor_shape_;
  std::vector<int> producer_;  // node of each tensor, -1 for inputs
  std::vector<Node> nodes_;
  std::vector<int> outputs_;
  std::vector<bool> emits_logits_;  // per output tensor's node: stops before softmax/sigmoid

  std::vector<Target> targets_;
  std::unique_ptr<Optimizer> optimizer_;
  std::vector<Param*> trainable_;  // what the optimizer updates

  // Buffers, reused across batches.
  std::vector<AlignedBuffer> tensor_buf_;   // node outputs (not views), staged inputs
  std::vector<const float*> tensor_ptr_;    // where each tensor is this batch
  std::vector<AlignedBuffer> slots_;        // gradient buffers (see plan_backward)
  std::vector<AlignedBuffer> probs_, dense_labels_;  // per target
  std::vector<std::vector<int32_t>> sparse_labels_;
  std::vector<Labels> batch_labels_;
  std::vector<float> batch_weights_;
  const float* batch_weight_ptr_ = nullptr;
  int64_t capacity_ = 0, backward_capacity_ = 0, batch_ = 0;
  int64_t largest_tensor_ = 0;
  int prepared_threads_ = 0;  // the OpenMP thread count the primitives were made for

  std::vector<GradStep> plan_;
  std::vector<int> loss_step_;  // per target: its step in plan_, or -1
  bool planned_ = false, planned_input_grads_ = false;
  int num_slots_ = 0;
  std::vector<Lane> lanes_;  // made on first use, dropped when the graph or compile changes
  // Per node, on lanes: whether the network computes the layer's weight
  // gradient for the whole batch, and the gradient at the layer's output
  // the lanes leave for it (defer_lane_weight_gradients).
  std::vector<char> deferred_;
  std::vector<AlignedBuffer> deferred_dy_;
  int splittable_ = -1;      // runs_on_lanes(), -1 until asked
  // The shortest training step of the last kStepWindow (lanes_for): a
  // minimum, because a step the scheduler preempted takes a slice longer.
  static constexpr int kStepWindow = 16;
  double step_floor_seconds_ = 0, window_min_seconds_ = 1e30;
  int window_steps_ = 0;
};

}  // namespace fmnistcpp
