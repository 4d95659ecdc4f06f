#include "network.hpp"

#include "denormals.hpp"
#include "engine_guard.hpp"
#include "random.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <omp.h>
#include <sstream>
#include <stdexcept>

namespace fmnistcpp {

static constexpr ForwardMode kTrain{true, true};
static constexpr ForwardMode kInfer{false, false};

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ",";
  o << ")";
  return o.str();
}

Network::Network(Shape input_shape) : input_shape_(std::move(input_shape)) {
  for (auto d : input_shape_)
    if (d <= 0) throw std::invalid_argument("input shape must be positive, got " + shape_str(input_shape_));
}

const Shape& Network::output_shape() const {
  return layers_.empty() ? input_shape_ : layers_.back()->output_shape();
}

const Shape& Network::add(LayerPtr layer) {
  layer->build(output_shape());
  if (first_trainable_ < 0 && !layer->params().empty())
    first_trainable_ = static_cast<int64_t>(layers_.size());
  layers_.push_back(std::move(layer));
  outputs_.emplace_back();
  output_ptr_.push_back(nullptr);
  capacity_ = backward_capacity_ = 0;  // buffers are re-sized for the new chain on next use
  batch_ = 0;
  return layers_.back()->output_shape();
}

std::vector<Param*> Network::params() {
  std::vector<Param*> trainable;
  for (auto& l : layers_)
    for (Param* p : l->params())
      if (p->trainable) trainable.push_back(p);
  return trainable;
}

std::vector<Param*> Network::all_params() {
  std::vector<Param*> all;
  for (auto& l : layers_)
    for (Param* p : l->params()) all.push_back(p);
  return all;
}

void Network::compile(bool sparse_labels, bool from_logits, const OptimizerConfig& optimizer,
                      std::vector<MetricSpec> metrics) {
  if (layers_.empty()) throw std::invalid_argument("the model has no layers");
  if (output_shape().size() != 1)
    throw std::invalid_argument("cross-entropy needs a model output of shape (classes,), got " +
                                shape_str(output_shape()));
  for (const auto& m : metrics)
    if (m.top_k < 0) throw std::invalid_argument("top-k metric needs k >= 1");
  auto opt = std::make_unique<Optimizer>(optimizer);
  sparse_labels_mode_ = sparse_labels;
  // Keras 3 (keras/src/backend/tensorflow/nn.py, _get_logits) takes the
  // logits a softmax or sigmoid output carries and computes a softmax
  // cross-entropy from them, whatever from_logits says. Follow it.
  output_activation_ = layers_.back()->output_activation();
  const bool keras_logits =
      output_activation_ == Activation::softmax || output_activation_ == Activation::sigmoid;
  for (auto& l : layers_) l->set_emit_logits(false);
  layers_.back()->set_emit_logits(keras_logits);
  emits_logits_ = keras_logits;
  batch_ = 0;  // primitives are rebuilt for the new output
  loss_.set_input_is_logits(keras_logits || from_logits);
  metrics_ = std::move(metrics);
  optimizer_ = std::move(opt);
  // A new optimizer starts from zero moments, as a freshly compiled Keras
  // model does.
  for (Param* p : params()) {
    p->slot1.clear();
    p->slot2.clear();
  }
}

Optimizer& Network::optimizer() {
  if (!optimizer_) throw std::logic_error("the model is not compiled");
  return *optimizer_;
}

void Network::reserve_batch(int64_t batch, bool with_backward) {
  check_batch_fits(batch, input_shape_, layers_);  // no size below can overflow then
  if (omp_get_max_threads() != prepared_threads_) {  // e.g. in a fork: fork_guard.hpp
    for (auto& l : layers_) l->forget_primitives();
    prepared_threads_ = omp_get_max_threads();
    batch_ = 0;
  }
  if (batch > capacity_) {
    for (size_t i = 0; i < layers_.size(); ++i)
      if (!layers_[i]->is_view()) outputs_[i].reserve(batch * shape_size(layers_[i]->output_shape()));
    probs_.reserve(batch * output_size());
    capacity_ = batch;
  }
  // Only passes that run backward (training, gradients) need the gradient
  // buffers, and training's gathered input rows and labels.
  if (with_backward && batch > backward_capacity_) {
    int64_t largest = shape_size(input_shape_);
    input_.reserve(batch * largest);
    for (auto& l : layers_) largest = std::max(largest, shape_size(l->output_shape()));
    diff_a_.reserve(batch * largest);
    diff_b_.reserve(batch * largest);
    dense_labels_.reserve(batch * output_size());
    sparse_labels_.resize(batch);
    backward_capacity_ = batch;
  }
  if (batch != batch_) {
    for (auto& l : layers_) l->prepare(batch);
    batch_ = batch;
  }
}

void Network::gather(const float* x, const Labels& y, const int64_t* rows, int64_t m) {
  const int64_t in = shape_size(input_shape_);
  const int64_t k = output_size();
  float* dst = input_.data();
#pragma omp parallel for schedule(static) if (m * in > 32768)
  for (int64_t i = 0; i < m; ++i)
    std::memcpy(dst + i * in, x + rows[i] * in, in * sizeof(float));
  batch_labels_ = Labels{};
  if (y.is_sparse()) {
    for (int64_t i = 0; i < m; ++i) sparse_labels_[i] = y.sparse[rows[i]];
    batch_labels_.sparse = sparse_labels_.data();
  } else if (y.dense) {
    for (int64_t i = 0; i < m; ++i)
      std::memcpy(dense_labels_.data() + i * k, y.dense + rows[i] * k, k * sizeof(float));
    batch_labels_.dense = dense_labels_.data();
  }
}

const float* Network::forward(const float* input, const ForwardMode& mode, uint64_t seed) {
  batch_input_ = input;
  const float* src = input;
  for (size_t i = 0; i < layers_.size(); ++i) {
    Layer& l = *layers_[i];
    if (l.is_view()) {
      output_ptr_[i] = src;
      continue;
    }
    if (mode.training) l.set_seed(mix64(seed ^ mix64(i + 1)));
    float* dst = outputs_[i].data();
    l.forward(src, dst, mode);
    output_ptr_[i] = dst;
    src = dst;
  }
  return src;
}

void Network::backward(float* input_grad) {
  const float* diff = diff_a_.data();
  // Views (Flatten, Reshape) reinterpret the gradient's memory as they did
  // the output's, so they are skipped; the first computing layer writes
  // straight into input_grad.
  int64_t first_compute = -1;
  for (size_t i = 0; i < layers_.size(); ++i)
    if (!layers_[i]->is_view()) {
      first_compute = static_cast<int64_t>(i);
      break;
    }
  for (int64_t i = static_cast<int64_t>(layers_.size()) - 1; i >= 0; --i) {
    Layer& l = *layers_[i];
    if (l.is_view()) continue;
    const float* src = i == 0 ? batch_input_ : output_ptr_[i - 1];
    float* diff_src = nullptr;
    if (i == first_compute) {
      diff_src = input_grad;
    } else if (i > first_trainable_ || input_grad) {
      diff_src = diff == diff_a_.data() ? diff_b_.data() : diff_a_.data();
    }
    l.backward(src, output_ptr_[i], diff, diff_src);
    if (!diff_src) return;  // nothing before this layer learns, or input_grad is written
    diff = diff_src;
  }
  if (input_grad)  // the chain is views only
    std::memcpy(input_grad, diff, batch_ * shape_size(input_shape_) * sizeof(float));
}

void Network::finish_outputs(const float* out, int64_t m, float* dst) {
  if (emits_logits_ && output_activation_ == Activation::softmax) {
    softmax_rows(out, dst, m, output_size());
  } else if (emits_logits_) {
    const int64_t n = m * output_size();
    for (int64_t i = 0; i < n; ++i) dst[i] = 1.f / (1.f + std::exp(-out[i]));
  } else {
    std::memcpy(dst, out, m * output_size() * sizeof(float));
  }
}

static void check_labels(const Labels& y, int64_t n, int64_t k) {
  if (!y.is_sparse()) return;
  for (int64_t i = 0; i < n; ++i)
    if (y.sparse[i] < 0 || y.sparse[i] >= k)
      throw std::invalid_argument("label " + std::to_string(y.sparse[i]) + " at index " +
                                  std::to_string(i) + " is outside [0, " + std::to_string(k) +
                                  ")");
}

// Keras's kernel_regularizer=l2(f): the model's losses gain f * sum(w^2)
// (float32, the weights as they are in the forward pass), in training and
// in evaluate (compute_loss adds self.losses), and the gradient gains
// f * (2 * w), TF's Square gradient scaled by f.
static double l2_penalty(const std::vector<Param*>& ps, bool add_grad) {
  float total = 0.f;
  for (Param* p : ps) {
    if (p->l2 == 0.f) continue;
    const float* w = p->value.data();
    double sum = 0.0;
    for (int64_t i = 0; i < p->size(); ++i) sum += double(w[i]) * double(w[i]);
    total += p->l2 * static_cast<float>(sum);
    if (add_grad) {
      float* g = p->grad.data();
      for (int64_t i = 0; i < p->size(); ++i) g[i] += p->l2 * (2.f * w[i]);
    }
  }
  return total;
}

static void check_batch(int64_t n, int64_t batch_size) {
  if (n <= 0) throw std::invalid_argument("no samples: the arrays are empty");
  if (batch_size <= 0) throw std::invalid_argument("batch_size must be positive");
}

int64_t Network::check_labelled_pass(const Labels& y, int64_t n, int64_t batch_size) const {
  check_batch(n, batch_size);
  if (!compiled()) throw std::logic_error("the model is not compiled");
  const int64_t k = output_size();
  check_labels(y, n, k);
  return k;
}

EpochLogs Network::fit_epoch(const float* x, const Labels& y, int64_t n, int64_t batch_size,
                             bool shuffle, uint64_t seed, const ProgressFn& progress) {
  EngineGuard guard;  // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  const int64_t k = check_labelled_pass(y, n, batch_size);
  batch_size = std::min(batch_size, n);  // one batch of all, as Keras; n + batch_size fits then
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    // Fisher-Yates from a seeded hash: the same order on every platform.
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[mix64(seed ^ mix64(uint64_t(i))) % uint64_t(i + 1)]);
  }
  std::vector<Param*> ps = params();
  EpochLogs logs;
  logs.correct.assign(metrics_.size(), 0);
  const int64_t num_batches = (n + batch_size - 1) / batch_size;
  for (int64_t b = 0; b < num_batches; ++b) {
    const int64_t start = b * batch_size;
    const int64_t m = std::min(batch_size, n - start);
    reserve_batch(m, true);
    gather(x, y, order.data() + start, m);
    const float* out = forward(input_.data(), kTrain, mix64(seed + 0x5eed + uint64_t(b)));
    logs.loss_sum += loss_.forward_backward(out, batch_labels_, m, k, diff_a_.data(), probs_.data());
    count_correct(metrics_, probs_.data(), batch_labels_, m, k, logs.correct);
    backward(nullptr);
    logs.loss_sum += l2_penalty(ps, true) * m;  // the batch's mean loss gains it once
    optimizer_->step(ps);
    logs.samples += m;
    logs.batches = b + 1;
    if (progress && progress(b + 1, num_batches, logs)) break;
  }
  return logs;
}

// Inference runs on chunks of several of the caller's batches: per-sample
// results do not depend on how samples are grouped (up to summation order in
// the loss), and larger batches keep oneDNN's kernels busier and pay the
// per-primitive overhead less often. Progress still counts caller batches.
static int64_t inference_rows(int64_t batch_size) {
  constexpr int64_t kRows = 256;
  return batch_size >= kRows ? batch_size : (kRows + batch_size - 1) / batch_size * batch_size;
}

// Labels of rows [start, ...) of y.
static Labels labels_from_row(const Labels& y, int64_t start, int64_t k) {
  Labels out;
  if (y.sparse) out.sparse = y.sparse + start;
  if (y.dense) out.dense = y.dense + start * k;
  return out;
}

EpochLogs Network::evaluate(const float* x, const Labels& y, int64_t n, int64_t batch_size,
                            const ProgressFn& progress) {
  EngineGuard guard;  // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  const int64_t k = check_labelled_pass(y, n, batch_size);
  batch_size = std::min(batch_size, n);  // one batch of all, as Keras; n + batch_size fits then
  EpochLogs logs;
  logs.correct.assign(metrics_.size(), 0);
  // The weights do not change during evaluation: their penalty is one number.
  const double penalty = l2_penalty(params(), false);
  const int64_t in = shape_size(input_shape_);
  const int64_t rows = inference_rows(batch_size);
  const int64_t num_batches = (n + batch_size - 1) / batch_size;
  for (int64_t start = 0; start < n; start += rows) {
    const int64_t m = std::min(rows, n - start);
    reserve_batch(m, false);
    // The rows are contiguous: the network reads x and y in place.
    const Labels labels = labels_from_row(y, start, k);
    const float* out = forward(x + start * in, kInfer, 0);
    logs.loss_sum += loss_.forward_backward(out, labels, m, k, nullptr, probs_.data());
    logs.loss_sum += penalty * m;
    count_correct(metrics_, probs_.data(), labels, m, k, logs.correct);
    logs.samples += m;
    logs.batches = (start + m + batch_size - 1) / batch_size;
    if (progress && progress(logs.batches, num_batches, logs)) break;
  }
  return logs;
}

void Network::predict(const float* x, int64_t n, int64_t batch_size, float* out,
                      const ProgressFn& progress) {
  EngineGuard guard;  // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  check_batch(n, batch_size);
  batch_size = std::min(batch_size, n);  // one batch of all, as Keras; n + batch_size fits then
  const int64_t k = output_size();
  const int64_t in = shape_size(input_shape_);
  const int64_t rows = inference_rows(batch_size);
  EpochLogs logs;
  const int64_t num_batches = (n + batch_size - 1) / batch_size;
  for (int64_t start = 0; start < n; start += rows) {
    const int64_t m = std::min(rows, n - start);
    reserve_batch(m, false);
    finish_outputs(forward(x + start * in, kInfer, 0), m, out + start * k);
    logs.samples += m;
    logs.batches = (start + m + batch_size - 1) / batch_size;
    if (progress && progress(logs.batches, num_batches, logs)) break;
  }
}

double Network::loss_and_gradients(const float* x, const Labels& y, int64_t n, bool training,
                                   uint64_t seed, float* input_grad) {
  EngineGuard guard;  // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  const int64_t k = check_labelled_pass(y, n, n);
  reserve_batch(n, true);  // for the gradient buffers; x and y are read in place
  const float* out = forward(x, ForwardMode{training, true}, seed);
  double total = loss_.forward_backward(out, y, n, k, diff_a_.data(), probs_.data());
  backward(input_grad);
  return total / n + l2_penalty(params(), true);
}

std::vector<std::vector<float>> Network::layer_outputs(const float* x, int64_t n) {
  EngineGuard guard;  // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  check_batch(n, n);
  reserve_batch(n, false);
  forward(x, kInfer, 0);
  std::vector<std::vector<float>> result;
  for (size_t i = 0; i < layers_.size(); ++i) {
    const int64_t size = n * shape_size(layers_[i]->output_shape());
    std::vector<float> o(size);
    if (i + 1 == layers_.size()) {
      finish_outputs(output_ptr_[i], n, o.data());
    } else {
      std::memcpy(o.data(), output_ptr_[i], size * sizeof(float));
    }
    result.push_back(std::move(o));
  }
  return result;
}

}  // namespace fmnistcpp
