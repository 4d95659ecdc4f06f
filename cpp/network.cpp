// The graph: building it, compiling it, and one batch's forward, losses and
// backward. The loops over batches are in passes.cpp.
#include "network.hpp"

#include "cross_entropy.hpp"
#include "random.hpp"
#include "thread_team.hpp"

#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <set>
#include <stdexcept>

namespace fmnistcpp {

// Slot numbers <= kInputSlot name the caller's input-gradient buffers
// (input i is kInputSlot - i); -1 means "none".
constexpr int kInputSlot = -2;

Network::Network(std::vector<Shape> input_shapes) : input_shapes_(std::move(input_shapes)) {
  if (input_shapes_.empty()) throw std::invalid_argument("a model needs at least one input");
  for (const Shape& s : input_shapes_) {
    for (auto d : s)
      if (d <= 0) throw std::invalid_argument("input shape must be positive, got " + shape_str(s));
    shape_size(s);
    tensor_shape_.push_back(s);
    producer_.push_back(-1);
  }
  tensor_buf_.resize(input_shapes_.size());
  tensor_ptr_.resize(input_shapes_.size(), nullptr);
  for (const Shape& s : input_shapes_) largest_tensor_ = std::max(largest_tensor_, shape_size(s));
}

int Network::add(LayerPtr layer, std::vector<int> inputs) {
  for (const Node& n : nodes_)
    if (n.layer == layer)
      throw not_implemented("the layer " + layer->kind() +
                            " is called twice in one model (shared weights); fmnistcpp models "
                            "use each layer once");
  std::vector<Shape> shapes;
  for (int t : inputs) {
    if (t < 0 || t >= static_cast<int>(tensor_shape_.size()))
      throw std::invalid_argument("node input " + std::to_string(t) + " is not a tensor of this model");
    shapes.push_back(tensor_shape_[t]);
  }
  const Shape out = layer->build(shapes);
  const int id = static_cast<int>(tensor_shape_.size());
  Node node{std::move(layer), std::move(inputs), id};
  node.src.resize(node.inputs.size());
  node.diff_src.resize(node.inputs.size());
  nodes_.push_back(std::move(node));
  tensor_shape_.push_back(out);
  producer_.push_back(static_cast<int>(nodes_.size()) - 1);
  tensor_buf_.emplace_back();
  tensor_ptr_.push_back(nullptr);
  emits_logits_.push_back(false);
  largest_tensor_ = std::max(largest_tensor_, shape_size(out));
  capacity_ = backward_capacity_ = 0;  // buffers are re-sized on next use
  planned_ = false;
  lanes_.clear();
  splittable_ = -1;
  return id;
}

void Network::set_outputs(std::vector<int> tensors) {
  if (tensors.empty()) throw std::invalid_argument("a model needs at least one output");
  for (int t : tensors)
    if (t < 0 || t >= static_cast<int>(tensor_shape_.size()))
      throw std::invalid_argument("output " + std::to_string(t) + " is not a tensor of this model");
  outputs_ = std::move(tensors);
  planned_ = false;
}

std::vector<Param*> Network::all_params() {
  std::vector<Param*> all;
  for (Node& n : nodes_)
    for (Param* p : n.layer->params()) all.push_back(p);
  return all;
}

Optimizer& Network::optimizer() {
  if (!optimizer_) throw std::logic_error("the model is not compiled");
  return *optimizer_;
}

void Network::compile(std::vector<Target> targets, std::unique_ptr<Optimizer> optimizer,
                      std::vector<bool> frozen, const std::vector<std::pair<int, int>>& order) {
  if (nodes_.empty()) throw std::invalid_argument("the model has no layers");
  if (frozen.size() != nodes_.size())
    throw std::invalid_argument("compile: frozen flags for " + std::to_string(frozen.size()) +
                                " nodes, the model has " + std::to_string(nodes_.size()));
  if (targets.empty()) throw std::invalid_argument("compile needs a loss for at least one output");
  std::vector<int> consumers(tensor_shape_.size(), 0);
  for (const Node& n : nodes_)
    for (int t : n.inputs) ++consumers[t];
  // Keras 3 (keras/src/backend/tensorflow/nn.py, _get_logits) takes the
  // logits a softmax or sigmoid output carries and computes its
  // cross-entropy from them, whatever from_logits says. Follow it, where
  // the output feeds nothing else and every loss on it agrees.
  std::vector<bool> emit(nodes_.size(), false), refuse(nodes_.size(), false);
  for (const Target& tg : targets) {
    if (tg.output < 0 || tg.output >= static_cast<int>(outputs_.size()))
      throw std::invalid_argument("compile: no model output " + std::to_string(tg.output));
    const int t = outputs_[tg.output];
    const int k = producer_[t];
    if (k < 0 || consumers[t] > 0) continue;
    (tg.loss->takes_logits_of(nodes_[k].layer->output_activation()) ? emit : refuse)[k] = true;
  }
  for (Target& tg : targets) {
    const int k = producer_[outputs_[tg.output]];
    if (k >= 0 && emit[k] && !refuse[k]) tg.loss->set_logits_of(nodes_[k].layer->output_activation());
  }
  for (size_t k = 0; k < nodes_.size(); ++k) {
    emits_logits_[k] = emit[k] && !refuse[k];
    nodes_[k].frozen = frozen[k];
    if (emits_logits_[k] && nodes_[k].layer->has_activity_regularizer())
      throw not_implemented("activity_regularizer on the " + nodes_[k].layer->kind() +
                            " whose softmax/sigmoid output the loss reads as logits is not "
                            "supported; regularize an earlier layer's output");
  }
  trainable_.clear();
  for (Node& n : nodes_)
    if (!n.frozen)
      for (Param* p : n.layer->params())
        if (p->trainable) trainable_.push_back(p);
  if (!order.empty()) {
    std::vector<Param*> ordered;
    for (const auto& [k, i] : order) {
      if (k < 0 || k >= static_cast<int>(nodes_.size()))
        throw std::invalid_argument("compile: no node " + std::to_string(k));
      auto ps = nodes_[k].layer->params();
      if (i < 0 || i >= static_cast<int>(ps.size()))
        throw std::invalid_argument("compile: no parameter " + std::to_string(i) + " in node " +
                                    std::to_string(k));
      ordered.push_back(ps[i]);
    }
    std::vector<Param*> a = ordered, b = trainable_;
    std::sort(a.begin(), a.end());
    std::sort(b.begin(), b.end());
    if (a != b)
      throw std::logic_error("compile: the trainable weights Python lists are not the ones the "
                             "network trains");
    trainable_ = std::move(ordered);
  }
  // A new optimizer starts from zero state, as a freshly compiled Keras
  // model's does.
  optimizer->build(trainable_);
  targets_ = std::move(targets);
  optimizer_ = std::move(optimizer);
  probs_.resize(targets_.size());
  dense_labels_.resize(targets_.size());
  sparse_labels_.resize(targets_.size());
  batch_labels_.resize(targets_.size());
  capacity_ = backward_capacity_ = 0;
  planned_ = false;
  lanes_.clear();
  splittable_ = -1;
}

std::vector<int> Network::layer_teams() const {
  std::vector<int> teams;
  for (const Node& n : nodes_) teams.push_back(n.team);
  return teams;
}

std::vector<bool> Network::gradients_in_place() const {
  std::vector<bool> in_place(nodes_.size(), false);
  for (const GradStep& s : plan_)
    if (s.node >= 0 && s.write_slot.size() == 1 && s.dst_slot >= 0)
      in_place[s.node] = s.write_slot[0] == s.dst_slot;
  return in_place;
}

void Network::reserve_batch(int64_t batch, bool with_backward) {
  checked_mul(batch, largest_tensor_, "a batch of activations");  // no size below overflows then
  if (omp_get_max_threads() != prepared_threads_) {  // e.g. in a fork: fork_guard.hpp
    for (Node& n : nodes_) n.layer->forget_primitives();
    prepared_threads_ = omp_get_max_threads();
  }
  if (batch > capacity_) {
    for (size_t t = 0; t < tensor_shape_.size(); ++t) {
      const int k = producer_[t];
      if (k < 0 || !nodes_[k].layer->is_view())
        tensor_buf_[t].reserve(checked_mul(batch, shape_size(tensor_shape_[t]), "a batch"));
    }
    for (size_t ti = 0; ti < targets_.size(); ++ti)
      probs_[ti].reserve(batch * shape_size(output_shape(targets_[ti].output)));
    capacity_ = batch;
  }
  // Only passes that run backward (training, gradients) need the gradient
  // slots and the gathered labels.
  if (with_backward && batch > backward_capacity_) {
    slots_.resize(num_slots_);
    for (auto& s : slots_) s.reserve(checked_mul(batch, largest_tensor_, "a batch"));
    for (size_t ti = 0; ti < targets_.size(); ++ti) {
      dense_labels_[ti].reserve(batch * shape_size(output_shape(targets_[ti].output)));
      sparse_labels_[ti].resize(batch);
    }
    batch_weights_.resize(batch);
    backward_capacity_ = batch;
  }
  // Every batch: a layer may have served another network since the last one.
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const int64_t work = nodes_[k].layer->work_per_sample();
    nodes_[k].team = work < 0 ? omp_get_max_threads() : team_for_work(batch * work);
    ScopedTeam team(nodes_[k].team);
    nodes_[k].layer->set_emit_logits(emits_logits_[k]);
    nodes_[k].layer->prepare(batch);
  }
  batch_ = batch;
}

void Network::forward(const ForwardMode& mode, uint64_t seed) {
  for (size_t k = 0; k < nodes_.size(); ++k) {
    Node& n = nodes_[k];
    for (size_t j = 0; j < n.inputs.size(); ++j) n.src[j] = tensor_ptr_[n.inputs[j]];
    if (n.layer->is_view()) {
      tensor_ptr_[n.output] = n.src[0];
      continue;
    }
    ForwardMode m = mode;
    if (n.frozen && n.layer->frozen_means_inference()) m.training = false;
    if (mode.training) n.layer->set_seed(mix64(seed ^ mix64(k + 1)));
    float* dst = tensor_buf_[n.output].data();
    ScopedTeam team(n.team);
    n.layer->forward(n.src, dst, m);
    tensor_ptr_[n.output] = dst;
  }
}

float* Network::slot(int s, const std::vector<float*>& input_grads) {
  if (s >= 0) return slots_[s].data();
  if (s <= kInputSlot) return input_grads.at(kInputSlot - s);
  return nullptr;
}

// Adds n floats of `from` into `into`.
static void add_into(float* into, const float* from, int64_t n) {
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) into[i] += from[i];
}

void Network::losses(int64_t m, bool with_grad, EpochLogs& logs) {
  static const std::vector<float*> no_inputs;
  double total = 0.0;
  for (size_t ti = 0; ti < targets_.size(); ++ti) {
    Target& tg = targets_[ti];
    const int64_t k = shape_size(output_shape(tg.output));
    const GradStep* step =
        with_grad && loss_step_[ti] >= 0 ? &plan_[loss_step_[ti]] : nullptr;
    float* grad = step ? slot(step->write_slot[0], no_inputs) : nullptr;
    // For loss weight 1 this is exactly 1/m, as Keras's mean.
    const float grad_scale = tg.weight * (1.f / static_cast<float>(m));
    const double l = tg.loss->forward_backward(tensor_ptr_[outputs_[tg.output]], batch_labels_[ti],
                                               batch_weight_ptr_, m, k, grad_scale, grad,
                                               probs_[ti].data());
    if (step && step->add_into[0] != -1) add_into(slot(step->add_into[0], no_inputs), grad, m * k);
    logs.target_loss_sum[ti] += l;
    total += static_cast<double>(tg.weight) * l;
    for (auto& metric : tg.metrics) metric->update(probs_[ti].data(), batch_labels_[ti], nullptr, m, k);
    for (auto& metric : tg.weighted_metrics)
      metric->update(probs_[ti].data(), batch_labels_[ti], batch_weight_ptr_, m, k);
  }
  logs.loss_sum += total + activity_penalty(m);
}

// Keras's activity regularizers: each adds (l1 * sum|y| + l2 * sum(y^2)) / m
// to the batch's mean loss, so m times that to the sum the logs keep.
double Network::activity_penalty(int64_t m) const {
  double total = 0.0;
  for (const Node& n : nodes_) {
    const Layer& l = *n.layer;
    if (!l.has_activity_regularizer()) continue;
    const float* y = tensor_ptr_[n.output];
    const int64_t size = m * shape_size(tensor_shape_[n.output]);
    double sum_abs = 0.0, sum_sq = 0.0;
    for (int64_t i = 0; i < size; ++i) {
      sum_abs += std::fabs(double(y[i]));
      sum_sq += double(y[i]) * y[i];
    }
    total += double(l.activity_l1) * sum_abs + double(l.activity_l2) * sum_sq;
  }
  return total;
}

// Its gradient, (l1 * sign(y) + 2 * l2 * y) / m, added to d(loss)/d(y).
static void add_activity_gradient(const Layer& l, const float* y, float* dy, int64_t size,
                                  int64_t m) {
  const float l1 = l.activity_l1 / static_cast<float>(m);
  const float l2 = 2.f * l.activity_l2 / static_cast<float>(m);
  for (int64_t i = 0; i < size; ++i)
    dy[i] += l1 * (y[i] > 0.f ? 1.f : (y[i] < 0.f ? -1.f : 0.f)) + l2 * y[i];
}

void Network::backward(const std::vector<float*>& input_grads) {
  for (const GradStep& s : plan_) {
    if (s.node < 0) continue;  // loss gradients: written by losses()
    Node& n = nodes_[s.node];
    float* diff_dst = slot(s.dst_slot, input_grads);
    if (n.layer->has_activity_regularizer())
      add_activity_gradient(*n.layer, tensor_ptr_[n.output], diff_dst,
                            batch_ * shape_size(tensor_shape_[n.output]), batch_);
    for (size_t j = 0; j < n.inputs.size(); ++j) n.diff_src[j] = slot(s.write_slot[j], input_grads);
    if (n.layer->is_view()) {  // the identity on the flat buffer
      const int64_t size = batch_ * shape_size(tensor_shape_[n.output]);
      if (n.diff_src[0]) std::memcpy(n.diff_src[0], diff_dst, size * sizeof(float));
    } else {
      ScopedTeam team(n.team);
      n.layer->backward(n.src, tensor_ptr_[n.output], diff_dst, n.diff_src);
    }
    for (size_t j = 0; j < n.inputs.size(); ++j)
      if (s.add_into[j] != -1)
        add_into(slot(s.add_into[j], input_grads), n.diff_src[j],
                 batch_ * shape_size(tensor_shape_[n.inputs[j]]));
  }
}

// The backward sweep, planned once per compile: which nodes run backward
// (those that learn or lie between a learning node and a loss), where each
// gradient goes, and which gradient buffers ("slots") can be reused. A
// tensor's gradient is written by its first writer and added to by the
// others (a tensor read by several nodes, a residual connection); a slot is
// freed once the tensor's producer has run, so a chain of layers needs two
// slots, as a Sequential did. A view (Flatten) whose input has no other
// writer shares its input's slot and costs nothing.
void Network::plan_backward(bool input_grads) {
  const size_t T = tensor_shape_.size(), I = input_shapes_.size();
  std::vector<bool> needs(T, false), reaches(T, false), exec(nodes_.size(), false);
  for (size_t i = 0; i < I; ++i) needs[i] = input_grads;
  for (const Node& n : nodes_) {
    bool learns = false;
    if (!n.frozen)
      for (Param* p : n.layer->params()) learns = learns || p->trainable;
    bool upstream = false;
    for (int t : n.inputs) upstream = upstream || needs[t];
    needs[n.output] = learns || upstream;
  }
  for (const Target& tg : targets_) reaches[outputs_[tg.output]] = true;
  for (size_t k = nodes_.size(); k-- > 0;)
    if (reaches[nodes_[k].output])
      for (int t : nodes_[k].inputs) reaches[t] = true;
  std::vector<int> writers(T, 0);
  for (const Target& tg : targets_)
    if (needs[outputs_[tg.output]]) ++writers[outputs_[tg.output]];
  for (size_t k = 0; k < nodes_.size(); ++k) {
    exec[k] = needs[nodes_[k].output] && reaches[nodes_[k].output];
    if (exec[k])
      for (int t : nodes_[k].inputs)
        if (needs[t]) ++writers[t];
  }
  // A view, and a layer whose backward runs in place (an activation,
  // dropout), whose input has no other writer write the input's gradient
  // where they read the output's: one slot for the chain.
  std::vector<int> alias(T, -1);
  std::vector<bool> in_place(nodes_.size(), false);
  for (size_t k = 0; k < nodes_.size(); ++k) {
    const Node& n = nodes_[k];
    if (!exec[k] || n.inputs.size() != 1 || !needs[n.inputs[0]] || writers[n.inputs[0]] != 1)
      continue;
    in_place[k] = !n.layer->is_view() && n.layer->backward_in_place() &&
                  n.inputs[0] >= static_cast<int>(I);  // not into the caller's input_grads
    if (n.layer->is_view() || in_place[k]) alias[n.output] = n.inputs[0];
  }
  auto root = [&](int t) {
    while (alias[t] >= 0) t = alias[t];
    return t;
  };

  std::vector<int> slot_of(T, -1), free_slots;
  std::vector<bool> written(T, false);
  int count = 0;
  auto acquire = [&]() {
    if (free_slots.empty()) return count++;
    const int s = free_slots.back();
    free_slots.pop_back();
    return s;
  };
  auto slot_for = [&](int t) {
    const int r = root(t);
    if (r < static_cast<int>(I)) return kInputSlot - r;
    if (slot_of[r] < 0) slot_of[r] = acquire();
    return slot_of[r];
  };
  // Where the next write of d/d(tensor t) goes: its slot the first time,
  // else a scratch slot added into it after the step. Scratch slots are
  // collected in `scratch` and freed by the caller once the whole step is
  // planned, so two of one step never coincide.
  auto place = [&](int t, GradStep& step, std::vector<int>& scratch) {
    const int r = root(t);
    if (!written[r]) {
      written[r] = true;
      step.write_slot.push_back(slot_for(t));
      step.add_into.push_back(-1);
    } else {
      const int s = acquire();
      scratch.push_back(s);
      step.write_slot.push_back(s);
      step.add_into.push_back(slot_for(t));
    }
  };

  plan_.clear();
  for (size_t ti = 0; ti < targets_.size(); ++ti) {
    const int t = outputs_[targets_[ti].output];
    if (!needs[t]) continue;
    GradStep step;
    step.target = static_cast<int>(ti);
    std::vector<int> scratch;
    place(t, step, scratch);
    free_slots.insert(free_slots.end(), scratch.begin(), scratch.end());
    plan_.push_back(std::move(step));
  }
  for (size_t k = nodes_.size(); k-- > 0;) {
    const Node& n = nodes_[k];
    if (!exec[k] || (alias[n.output] >= 0 && !in_place[k])) continue;
    GradStep step;
    step.node = static_cast<int>(k);
    step.dst_slot = slot_for(n.output);
    std::vector<int> scratch;
    if (in_place[k]) {  // the input's only writer: overwrites the shared slot
      step.write_slot.push_back(step.dst_slot);
      step.add_into.push_back(-1);
      plan_.push_back(std::move(step));
      continue;
    }
    for (int t : n.inputs) {
      if (!needs[t]) {
        step.write_slot.push_back(-1);
        step.add_into.push_back(-1);
        continue;
      }
      place(t, step, scratch);
    }
    free_slots.insert(free_slots.end(), scratch.begin(), scratch.end());
    if (root(n.output) == n.output) free_slots.push_back(step.dst_slot);
    plan_.push_back(std::move(step));
  }
  loss_step_.assign(targets_.size(), -1);
  for (size_t i = 0; i < plan_.size(); ++i)
    if (plan_[i].node < 0) loss_step_[plan_[i].target] = static_cast<int>(i);
  num_slots_ = count;
  planned_ = true;
  planned_input_grads_ = input_grads;
  backward_capacity_ = 0;  // the slot count may have changed
}

void Network::finish_output(size_t o, int64_t m, float* dst) const {
  const int t = outputs_[o];
  const int64_t size = m * shape_size(tensor_shape_[t]);
  const int k = producer_[t];
  if (k >= 0 && emits_logits_[k]) {
    if (nodes_[k].layer->output_activation() == Activation::softmax) {
      const int64_t classes = tensor_shape_[t].back();
      softmax_rows(tensor_ptr_[t], dst, size / classes, classes);
    } else {
      const float* z = tensor_ptr_[t];
      for (int64_t i = 0; i < size; ++i) dst[i] = 1.f / (1.f + std::exp(-z[i]));
    }
    return;
  }
  std::memcpy(dst, tensor_ptr_[t], size * sizeof(float));
}

// Keras's regularizers: the model's losses gain l1 * sum|w| + l2 * sum(w^2)
// of each trainable weight (float32, the weights as they are in the forward
// pass), in training and in evaluate; the gradient gains l1 * sign(w) +
// l2 * (2 * w), TF's gradients of those ops.
double Network::penalty(bool add_grad) {
  float total = 0.f;
  for (Param* p : trainable_) {
    if (p->l1 == 0.f && p->l2 == 0.f) continue;
    const float* w = p->value.data();
    double sum_abs = 0.0, sum_sq = 0.0;
    for (int64_t i = 0; i < p->size(); ++i) {
      sum_abs += std::fabs(double(w[i]));
      sum_sq += double(w[i]) * double(w[i]);
    }
    if (p->l1 != 0.f) total += p->l1 * static_cast<float>(sum_abs);
    if (p->l2 != 0.f) total += p->l2 * static_cast<float>(sum_sq);
    if (add_grad) {
      float* g = p->grad.data();
      for (int64_t i = 0; i < p->size(); ++i) {
        if (p->l1 != 0.f) g[i] += p->l1 * (w[i] > 0.f ? 1.f : (w[i] < 0.f ? -1.f : 0.f));
        if (p->l2 != 0.f) g[i] += p->l2 * (2.f * w[i]);
      }
    }
  }
  return total;
}

void Network::reset_metrics() {
  for (Target& tg : targets_) {
    for (auto& m : tg.metrics) m->reset();
    for (auto& m : tg.weighted_metrics) m->reset();
  }
}

// A metric may have several numbers (one per class or threshold): they
// follow each other in logs.metrics.
void Network::read_metrics(EpochLogs& logs) const {
  size_t i = 0;
  for (const Target& tg : targets_)
    for (const auto& m : tg.metrics) m->results(&logs.metrics[i]), i += m->result_size();
  for (const Target& tg : targets_)
    for (const auto& m : tg.weighted_metrics) m->results(&logs.metrics[i]), i += m->result_size();
}

EpochLogs Network::new_logs() const {
  EpochLogs logs;
  logs.target_loss_sum.assign(targets_.size(), 0.0);
  size_t count = 0;
  for (const Target& tg : targets_) {
    for (const auto& m : tg.metrics) count += m->result_size();
    for (const auto& m : tg.weighted_metrics) count += m->result_size();
  }
  logs.metrics.assign(count, 0.0);
  return logs;
}

}  // namespace fmnistcpp
