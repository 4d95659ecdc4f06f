// Training on lanes: the step for a machine whose cores other processes
// share (see thread_team.hpp for how a pass notices).
//
// A oneDNN primitive is one OpenMP region with a static split, and a step
// is about thirty of them: when one of our threads is descheduled for a
// scheduler slice, every region waits for it, so two threads beside a busy
// neighbour are slower than one. One thread alone, though, gets only its
// per-thread share of the cores (2/3 of a core beside a 2-thread neighbour
// on 2 cores: 3x the idle epoch). A lane is a private copy of every layer,
// with primitives made for one thread, that runs the whole forward and
// backward pass on its own rows of the batch; the lanes meet three times
// per step instead of thirty (after the forward pass, for the loss on the
// whole batch; after the backward pass; and the optimizer's own region), so
// a descheduled thread delays the step once, not at every primitive. Each
// lane's weight gradient covers its rows (the loss gradient is already
// divided by the whole batch), and their sum is the batch's gradient, which
// the network's optimizer applies to the network's own parameters. The
// lanes' Dense and convolution layers read those parameters directly, and
// the first lane writes its gradients straight into the network's
// (Layer::use_params_of); a layer that cannot gets a copy of the new
// values before each forward pass.
//
// Only layers whose rows do not interact can run on lanes (a
// BatchNormalization in training, for one, needs the statistics of the
// whole batch); a network with any other layer, or one computing in
// bfloat16 (see lanes_for), trains as before. Results
// agree with the one-team step up to summation order; dropout masks come
// from per-lane seeds, so they differ from the one-team step's.
#include "kernel_row_split.hpp"
#include "layer_registry.hpp"
#include "network.hpp"
#include "random.hpp"
#include "thread_team.hpp"

#include <omp.h>

#include <atomic>
#include <cstring>
#include <exception>
#include <set>
#include <stdexcept>
#include <string>

namespace fmnistcpp {

namespace {

std::atomic<int> g_forced_lanes{0};
std::atomic<int64_t> g_lane_steps{0};

constexpr double kShortestLaneStep = 5e-3;  // seconds; see lanes_for

// Layers whose output row i depends only on input row i (and, in backward,
// whose gradients are sums over rows).
const std::set<std::string>& row_independent_kinds() {
  static const std::set<std::string> kinds = {
      "Activation", "Softmax", "ReLU", "LeakyReLU", "ELU", "Conv1D", "Conv2D", "Dense",
      "Dropout", "SpatialDropout2D", "GaussianNoise", "GaussianDropout", "MaxPooling2D",
      "AveragePooling2D", "MaxPooling1D", "AveragePooling1D", "GlobalAveragePooling2D",
      "GlobalMaxPooling2D", "Flatten", "Reshape", "Rescaling", "ZeroPadding2D", "Cropping2D",
      "UpSampling2D", "Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
      "Concatenate"};
  return kinds;
}

// Runs body(lane) on `lanes` threads; an exception in any lane is rethrown
// here after all have finished (it must not leave the region).
template <class F>
void on_lanes(int lanes, F&& body) {
  std::exception_ptr error;
#pragma omp parallel num_threads(lanes)
  {
    omp_set_num_threads(1);  // this lane's own loops and primitives: one thread
    const int lane = omp_get_thread_num();
    try {
      if (omp_get_num_threads() != lanes)
        throw std::runtime_error("training lanes: OpenMP gave " +
                                 std::to_string(omp_get_num_threads()) + " threads, not " +
                                 std::to_string(lanes));
      body(lane);
    } catch (...) {
#pragma omp critical(fmnistcpp_lane_error)
      if (!error) error = std::current_exception();
    }
  }
  if (error) std::rethrow_exception(error);
}

}  // namespace

void set_forced_lanes(int lanes) { g_forced_lanes.store(std::max(0, lanes)); }
int forced_lanes() { return g_forced_lanes.load(); }
int64_t lane_steps() { return g_lane_steps.load(); }

bool Network::runs_on_lanes() {
  if (splittable_ < 0) {
    bool ok = compiled();
    for (const Node& n : nodes_)
      ok = ok && row_independent_kinds().count(n.layer->kind()) &&
           !n.layer->has_activity_regularizer();
    for (const Target& tg : targets_) ok = ok && !tg.loss->depends_on_batches();
    splittable_ = ok;
  }
  return splittable_ == 1;
}

int Network::lanes_for(int64_t m, int suggested) {
  const int forced = forced_lanes();
  const int lanes = forced > 0 ? forced : suggested;
  // A lane needs rows to be worth a thread (a last, short batch runs as one team).
  if (lanes < 2 || m < 4 * int64_t(lanes) || !runs_on_lanes()) return 1;
  // A step that takes less than a few scheduler slices (~3 ms each with
  // four threads on two cores) loses more to one lane waiting out a slice
  // than lanes win: seed 002's MLP (0.25 ms steps) beside the NumPy loop ran
  // 0.50-0.66 s per epoch on lanes, 0.39-0.55 s on a team of one.
  if (forced <= 0 && step_floor_seconds_ < kShortestLaneStep) return 1;
  // Under mixed_bfloat16 a lane's one-thread bf16 kernels and its own bf16
  // copy of the weights cost more than lanes win: seed 000 beside a 2-thread
  // NumPy loop ran 2.0-2.2 s per 6 000 images on lanes, 1.6-1.9 s on a team
  // of one (docs/PERFORMANCE.md).
  for (const Node& n : nodes_)
    if (n.layer->computes_bfloat16()) return 1;
  return lanes;
}

void Network::make_lanes(int lanes) {
  if (static_cast<int>(lanes_.size()) == lanes) return;
  lanes_.clear();
  for (int l = 0; l < lanes; ++l) {
    Lane lane;
    for (const Node& n : nodes_) {
      LayerPtr copy = make_layer(n.layer->kind(), n.layer->config().values());
      std::vector<Shape> shapes;
      for (int t : n.inputs) shapes.push_back(tensor_shape_[t]);
      copy->build(shapes);
      // Lane 0 writes its gradients into the network's own (the others'
      // are added to them); every lane reads the network's weights where
      // the layer can, else keeps a copy (refresh_lane_weights).
      const bool shares = copy->use_params_of(*n.layer, /*gradients=*/l == 0);
      lane.shares_params.push_back(shares);
      lane.params.push_back(copy->params());
      for (Param* p : lane.params.back()) p->version = ~uint64_t(0);  // copy the values first
      lane.layers.push_back(std::move(copy));
    }
    lanes_.push_back(std::move(lane));
  }
}

// Before a lane's forward pass, on its thread: the network's weights, where
// they changed (an optimizer step, set_weights, a constraint).
void Network::refresh_lane_weights(Lane& lane) {
  for (size_t k = 0; k < nodes_.size(); ++k) {
    if (lane.shares_params[k]) continue;
    const std::vector<Param*> own = nodes_[k].layer->params();
    for (size_t i = 0; i < own.size(); ++i) {
      Param& p = *lane.params[k][i];
      if (p.version == own[i]->version && p.size() == own[i]->size()) continue;
      std::memcpy(p.value.data(), own[i]->value.data(), own[i]->size() * sizeof(float));
      p.version = own[i]->version;
    }
  }
}

void Network::lane_forward(Lane& lane, int lane_id, int64_t row0, int64_t rows, uint64_t seed) {
  static constexpr ForwardMode kTrain{true, true};
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const Node& n = nodes_[k];
    if (n.layer->is_view()) continue;  // its pointer is its input's (resolved before)
    Sources src(n.inputs.size());
    for (size_t j = 0; j < n.inputs.size(); ++j)
      src[j] = tensor_ptr_[n.inputs[j]] + row0 * shape_size(tensor_shape_[n.inputs[j]]);
    ForwardMode mode = kTrain;
    if (n.frozen && n.layer->frozen_means_inference()) mode.training = false;
    lane.layers[k]->set_seed(mix64(seed ^ mix64(k + 1) ^ mix64(0x1a4e0000u + uint64_t(lane_id))));
    float* dst = tensor_buf_[n.output].data() + row0 * shape_size(tensor_shape_[n.output]);
    lane.layers[k]->forward(src, dst, mode);
  }
}

// The backward plan reuses a gradient slot for another tensor once it is
// free, and lanes run through the plan at their own pace: so in a slot,
// lane l owns the floats from row0_l * largest_tensor_ on, whatever tensor
// the slot holds (a row of any tensor fits in largest_tensor_ floats), and
// no two lanes ever touch the same floats.
void Network::lane_backward(Lane& lane, int64_t row0, int64_t rows) {
  static const std::vector<float*> no_inputs;
  const int64_t lane_slot = row0 * largest_tensor_;
  for (const GradStep& s : plan_) {
    if (s.node < 0) continue;  // loss gradients: written by losses() for the whole batch
    const Node& n = nodes_[s.node];
    const int64_t out_size = shape_size(tensor_shape_[n.output]);
    float* diff_dst = slot(s.dst_slot, no_inputs) + lane_slot;
    Sources src(n.inputs.size());
    SourceGrads diff_src(n.inputs.size());
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      const int64_t in_size = shape_size(tensor_shape_[n.inputs[j]]);
      src[j] = tensor_ptr_[n.inputs[j]] + row0 * in_size;
      float* w = slot(s.write_slot[j], no_inputs);
      diff_src[j] = w ? w + lane_slot : nullptr;
    }
    if (n.layer->is_view()) {
      if (diff_src[0]) std::memcpy(diff_src[0], diff_dst, rows * out_size * sizeof(float));
    } else {
      lane.layers[s.node]->backward(src, tensor_ptr_[n.output] + row0 * out_size, diff_dst,
                                    diff_src);
    }
    for (size_t j = 0; j < n.inputs.size(); ++j) {
      if (s.add_into[j] == -1) continue;
      const int64_t in_size = shape_size(tensor_shape_[n.inputs[j]]);
      float* into = slot(s.add_into[j], no_inputs) + lane_slot;
      const float* from = diff_src[j];
      for (int64_t i = 0; i < rows * in_size; ++i) into[i] += from[i];
    }
  }
}

// A Dense layer's weight gradient on lanes: each lane would write the
// gradient of the whole kernel for its own rows, and sum_lane_gradients
// read them all again to add them (for seed 000's 23232 x 100 kernel,
// 9.3 MB written per lane and read back, every step: most of what made a
// lanes step slower than a team step). Where the kernel is tall against
// the batch (kernel_row_split_pays), the lanes instead leave the gradient
// at the layer's output, (rows, units), in one whole-batch buffer, and
// the sum phase computes the batch's weight gradient once, each thread the
// kernel's rows that its slice of the optimizer's pass updates next
// (kernel_row_split.hpp). Before the lanes' backward pass, every step (a
// buffer may move when the batch grows).
void Network::defer_lane_weight_gradients(int64_t m, const std::vector<int64_t>& row0) {
  const int lanes = static_cast<int>(lanes_.size());
  deferred_.assign(nodes_.size(), 0);
  deferred_dy_.resize(nodes_.size());
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const Node& n = nodes_[k];
    std::vector<Param*> own = n.layer->params();
    bool defer = n.layer->kind() == "Dense" && !n.frozen && !own.empty();
    for (Param* p : own) defer = defer && p->trainable;
    defer = defer && kernel_row_split_pays(m, own[0]->shape[0], lanes);
    const int64_t units = defer ? own[0]->shape[1] : 0;
    float* dy = defer ? deferred_dy_[k].reserve(m * units) : nullptr;
    for (int l = 0; l < lanes && defer; ++l)
      defer = lanes_[l].layers[k]->defer_weight_gradient(dy + row0[l] * units);
    if (!defer)
      for (Lane& lane : lanes_) lane.layers[k]->defer_weight_gradient(nullptr);
    deferred_[k] = defer;
  }
}

// The network's gradient of each trainable parameter: the sum of the
// lanes' (lane 0's already in place where it shares the network's
// parameters), each lane summing its own slice of every parameter; for a
// deferred layer, its share of the batch's weight gradient.
void Network::sum_lane_gradients(int64_t m) {
  const int lanes = static_cast<int>(lanes_.size());
  on_lanes(lanes, [&](int l) {
    for (size_t k = 0; k < nodes_.size(); ++k) {
      if (nodes_[k].frozen) continue;
      if (deferred_[k]) {
        const std::vector<Param*> own = nodes_[k].layer->params();
        Param& kernel = *own[0];
        if (!weight_gradient_share(tensor_ptr_[nodes_[k].inputs[0]], deferred_dy_[k].data(),
                                   kernel.grad.data(),
                                   own.size() > 1 ? own[1]->grad.data() : nullptr, m,
                                   kernel.shape[0], kernel.shape[1], l, lanes))
          throw std::runtime_error("oneDNN's sgemm failed in a lane's Dense weight gradient");
        continue;
      }
      const std::vector<Param*> own = nodes_[k].layer->params();
      for (size_t i = 0; i < own.size(); ++i) {
        if (!own[i]->trainable) continue;
        const int64_t size = own[i]->size(), begin = size * l / lanes,
                      end = size * (l + 1) / lanes;
        float* g = own[i]->grad.data();
        if (!lanes_[0].shares_params[k])  // else lane 0 wrote into g itself
          std::memcpy(g + begin, lanes_[0].params[k][i]->grad.data() + begin,
                      (end - begin) * sizeof(float));
        for (int j = 1; j < lanes; ++j) {
          const float* add = lanes_[j].params[k][i]->grad.data();
          for (int64_t e = begin; e < end; ++e) g[e] += add[e];
        }
      }
    }
  });
}

void Network::forward_backward_on_lanes(int lanes, int64_t m, uint64_t seed, EpochLogs& logs) {
  make_lanes(lanes);
  std::vector<int64_t> row0(lanes + 1);
  for (int l = 0; l <= lanes; ++l) row0[l] = m * l / lanes;
  {
    // A primitive made for more threads than run it (in a lane only one
    // does) can wait forever at its own internal barrier.
    ScopedTeam one(1);
    for (size_t k = 0; k < nodes_.size(); ++k) {
      for (int l = 0; l < lanes; ++l) {
        Layer& copy = *lanes_[l].layers[k];
        copy.set_emit_logits(emits_logits_[k]);
        copy.set_compute_bfloat16(nodes_[k].layer->computes_bfloat16());
        copy.prepare(row0[l + 1] - row0[l]);
      }
    }
  }
  // Every tensor's whole-batch buffer; views share their input's.
  for (const Node& n : nodes_)
    tensor_ptr_[n.output] =
        n.layer->is_view() ? tensor_ptr_[n.inputs[0]] : tensor_buf_[n.output].data();
  on_lanes(lanes, [&](int l) {
    refresh_lane_weights(lanes_[l]);
    lane_forward(lanes_[l], l, row0[l], row0[l + 1] - row0[l], seed);
  });
  losses(m, true, logs);
  // losses() wrote each output's gradient for the whole batch, row after
  // row: move each lane's rows to where the lane reads them (lane_backward).
  // From the last lane down, so no rows are overwritten before they move.
  std::set<int> moved;  // two targets on one output share one slot
  for (size_t ti = 0; ti < targets_.size(); ++ti) {
    if (loss_step_[ti] < 0) continue;
    const GradStep& step = plan_[loss_step_[ti]];
    const int s = step.add_into[0] != -1 ? step.add_into[0] : step.write_slot[0];
    if (!moved.insert(s).second) continue;
    const int64_t k = shape_size(output_shape(targets_[ti].output));
    float* base = slots_.at(s).data();
    for (int l = lanes - 1; l >= 1; --l)
      std::memmove(base + row0[l] * largest_tensor_, base + row0[l] * k,
                   (row0[l + 1] - row0[l]) * k * sizeof(float));
  }
  defer_lane_weight_gradients(m, row0);
  on_lanes(lanes, [&](int l) { lane_backward(lanes_[l], row0[l], row0[l + 1] - row0[l]); });
  sum_lane_gradients(m);
  g_lane_steps.fetch_add(1);
}

}  // namespace fmnistcpp
