// The loops over batches: fit_epoch, evaluate, predict, and the test
// entry points. Each batch runs under the engine lock; progress callbacks
// run between batches without it.
#include "denormals.hpp"
#include "engine_guard.hpp"
#include "engine_lock.hpp"
#include "network.hpp"
#include "random.hpp"
#include "thread_team.hpp"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <numeric>
#include <stdexcept>

namespace fmnistcpp {

static constexpr ForwardMode kTrain{true, true};
static constexpr ForwardMode kInfer{false, false};

template <class T>
static void convert_row(const T* src, float* dst, int64_t n) {
  for (int64_t i = 0; i < n; ++i) dst[i] = static_cast<float>(src[i]);
}

void Network::load_inputs(const std::vector<InputArray>& x, int64_t start, int64_t m,
                          const int64_t* rows) {
  for (size_t i = 0; i < input_shapes_.size(); ++i) {
    const int64_t size = shape_size(input_shapes_[i]);
    const InputArray& a = x[i];
    if (!rows && a.dtype == DType::f32) {  // contiguous rows: read in place
      tensor_ptr_[i] = static_cast<const float*>(a.data) + start * size;
      continue;
    }
    float* dst = tensor_buf_[i].data();
    // Shuffled rows come from all over the array (cache and TLB misses), so
    // even a small batch's gather pays for a second thread: seed 002's
    // 32 x 784 floats went 6 % faster per epoch split in two.
#pragma omp parallel for schedule(static) if (m * size > 8192)
    for (int64_t r = 0; r < m; ++r) {
      const int64_t row = rows ? rows[r] : start + r;
      float* out = dst + r * size;
      switch (a.dtype) {
        case DType::f32:
          std::memcpy(out, static_cast<const float*>(a.data) + row * size, size * sizeof(float));
          break;
        case DType::f64: convert_row(static_cast<const double*>(a.data) + row * size, out, size); break;
        case DType::u8: convert_row(static_cast<const uint8_t*>(a.data) + row * size, out, size); break;
      }
    }
    tensor_ptr_[i] = dst;
  }
}

void Network::load_labels(const PassData& data, int64_t start, int64_t m, const int64_t* rows) {
  for (size_t ti = 0; ti < targets_.size(); ++ti) {
    const Labels& y = data.y[ti];
    const int64_t k = shape_size(output_shape(targets_[ti].output));
    Labels& out = batch_labels_[ti];
    out = Labels{};
    if (!rows) {  // in place
      if (y.sparse) out.sparse = y.sparse + start;
      if (y.dense) out.dense = y.dense + start * k;
      continue;
    }
    if (y.is_sparse()) {
      int32_t* dst = sparse_labels_[ti].data();
      for (int64_t i = 0; i < m; ++i) dst[i] = y.sparse[rows[i]];
      out.sparse = dst;
    } else {
      float* dst = dense_labels_[ti].data();
      for (int64_t i = 0; i < m; ++i)
        std::memcpy(dst + i * k, y.dense + rows[i] * k, k * sizeof(float));
      out.dense = dst;
    }
  }
  batch_weight_ptr_ = nullptr;
  if (data.sample_weight) {
    if (!rows) {
      batch_weight_ptr_ = data.sample_weight + start;
    } else {
      for (int64_t i = 0; i < m; ++i) batch_weights_[i] = data.sample_weight[rows[i]];
      batch_weight_ptr_ = batch_weights_.data();
    }
  }
}

int64_t Network::check_pass(const PassData& data, int64_t batch_size, bool labelled) const {
  if (data.n <= 0) throw std::invalid_argument("no samples: the arrays are empty");
  if (batch_size <= 0) throw std::invalid_argument("batch_size must be positive");
  if (data.x.size() != input_shapes_.size())
    throw std::invalid_argument("the model has " + std::to_string(input_shapes_.size()) +
                                " inputs, got " + std::to_string(data.x.size()) + " arrays");
  if (!labelled) return data.n;
  if (!compiled()) throw std::logic_error("the model is not compiled");
  if (data.y.size() != targets_.size())
    throw std::invalid_argument("the model has " + std::to_string(targets_.size()) +
                                " outputs with a loss, got labels for " +
                                std::to_string(data.y.size()));
  for (size_t ti = 0; ti < targets_.size(); ++ti) {
    const Labels& y = data.y[ti];
    if (!y.sparse && !y.dense) throw std::invalid_argument("labels are missing");
    if (!y.is_sparse()) continue;
    const int64_t k = shape_size(output_shape(targets_[ti].output));
    for (int64_t i = 0; i < data.n; ++i)
      if (y.sparse[i] < 0 || y.sparse[i] >= k)
        throw std::invalid_argument("label " + std::to_string(y.sparse[i]) + " at index " +
                                    std::to_string(i) + " is outside [0, " + std::to_string(k) +
                                    ")");
  }
  return data.n;
}

PassData Network::unlabelled(const std::vector<InputArray>& x, int64_t n) {
  PassData data;
  data.x = x;
  data.n = n;
  return data;
}

int64_t Network::floats_per_row() const {
  int64_t per_row = 0;
  for (const Shape& s : tensor_shape_) per_row += shape_size(s);
  return per_row;
}

void Network::train_step(const PassData& data, const int64_t* rows, int64_t m, uint64_t seed,
                         EpochLogs& logs, int lanes) {
  {
    EngineLock lock(engine_mutex());
    const auto started = std::chrono::steady_clock::now();
    if (!planned_ || planned_input_grads_) plan_backward(false);
    reserve_batch(m, true);
    load_inputs(data.x, 0, m, rows);
    load_labels(data, 0, m, rows);
    lanes = lanes_for(m, lanes);
    if (lanes > 1) {
      forward_backward_on_lanes(lanes, m, seed, logs);
    } else {
      forward(kTrain, seed);
      losses(m, true, logs);
      backward({});
    }
    logs.loss_sum += penalty(true) * m;  // the batch's mean loss gains it once
    // On lanes the team is smaller than the lanes (the cores are shared):
    // the optimizer's pass over the weights runs on the lanes' threads too.
    ScopedTeam optimizer_team(std::max(lanes, omp_get_max_threads()));
    optimizer_->step();
    for (Param* p : trainable_) apply_constraint(*p);  // as Keras, after the step
    read_metrics(logs);
    const double took =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    window_min_seconds_ = std::min(window_min_seconds_, took);
    if (++window_steps_ == kStepWindow) {
      step_floor_seconds_ = window_min_seconds_;
      window_min_seconds_ = 1e30;
      window_steps_ = 0;
    }
  }
  logs.samples += m;
  logs.batches += 1;
}

void Network::test_step(const PassData& data, int64_t start, int64_t m, double weight_penalty,
                        EpochLogs& logs) {
  {
    EngineLock lock(engine_mutex());
    reserve_batch(m, false);
    load_inputs(data.x, start, m, nullptr);
    load_labels(data, start, m, nullptr);
    forward(kInfer, 0);
    losses(m, false, logs);
    logs.loss_sum += weight_penalty * m;
    read_metrics(logs);
  }
  logs.samples += m;
  logs.batches += 1;
}

// The seed of batch b of an epoch seeded `seed` (dropout masks and other
// per-batch randomness): the same for arrays and for batch-at-a-time data.
uint64_t Network::batch_seed(uint64_t seed, int64_t b) { return mix64(seed + 0x5eed + uint64_t(b)); }

// Batches in a pass of n rows: ceil(n / batch_size) without overflow.
static int64_t batch_count(int64_t n, int64_t batch_size) {
  return n / batch_size + (n % batch_size != 0);
}

EpochLogs Network::fit_epoch(const PassData& data, int64_t batch_size, bool shuffle,
                             uint64_t seed, const ProgressFn& progress) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  FitTeamToFreeCores team;  // after flush: thread_team.hpp
  const int64_t n = check_pass(data, batch_size, true);
  batch_size = std::min(batch_size, n);  // Keras clamps a batch larger than the data
  std::vector<int64_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  if (shuffle) {
    // Fisher-Yates from a seeded hash: the same order on every platform.
    for (int64_t i = n - 1; i > 0; --i)
      std::swap(order[i], order[mix64(seed ^ mix64(uint64_t(i))) % uint64_t(i + 1)]);
  }
  EpochLogs logs;
  {
    EngineLock lock(engine_mutex());
    logs = new_logs();
    reset_metrics();
  }
  const int64_t num_batches = batch_count(n, batch_size);
  for (int64_t b = 0; b < num_batches; ++b) {
    const int64_t start = b * batch_size;
    const int64_t m = std::min(batch_size, n - start);
    team.between_batches();
    train_step(data, order.data() + start, m, batch_seed(seed, b), logs, team.spare_lanes());
    if (progress && progress(b + 1, num_batches, logs)) break;
  }
  return logs;
}

// Inference runs on chunks of several of the caller's batches: per-sample
// results do not depend on how samples are grouped beyond float32 round-off
// (AVX2 sgemm blocks rows by the batch; AVX-512 kernels measured bit-equal),
// nor does the loss beyond its summation order, and larger batches keep
// oneDNN's kernels busier and pay the per-primitive overhead less often.
// Progress still counts caller batches.
// A chunk grows to 256 rows, but no further than 64 MB of activations, so
// predict(batch_size=1) on a wide model stays small.
static int64_t inference_rows(int64_t batch_size, int64_t n, int64_t floats_per_row) {
  constexpr int64_t kRows = 256, kBytes = int64_t(64) << 20;
  if (batch_size >= kRows) return std::min(batch_size, n);
  const int64_t by_memory = std::max<int64_t>(1, kBytes / (4 * std::max<int64_t>(1, floats_per_row)));
  const int64_t rows = std::min(kRows, by_memory);
  return std::min(n, std::max(batch_size, rows / batch_size * batch_size));
}

EpochLogs Network::evaluate(const PassData& data, int64_t batch_size, const ProgressFn& progress) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  FitTeamToFreeCores team;  // after flush: thread_team.hpp
  const int64_t n = check_pass(data, batch_size, true);
  EpochLogs logs;
  double weight_penalty;
  int64_t per_row = 0;
  {
    EngineLock lock(engine_mutex());
    logs = new_logs();
    reset_metrics();
    // The weights do not change during evaluation: their penalty is one number.
    weight_penalty = penalty(false);
    per_row = floats_per_row();
  }
  // A loss that depends on how samples are grouped sees the caller's batches.
  bool grouped = false;
  for (const Target& tg : targets_) grouped = grouped || tg.loss->depends_on_batches();
  const int64_t rows = grouped ? std::min(batch_size, n) : inference_rows(batch_size, n, per_row);
  const int64_t num_batches = batch_count(n, batch_size);
  for (int64_t start = 0; start < n; start += rows) {
    const int64_t m = std::min(rows, n - start);
    team.between_batches();
    test_step(data, start, m, weight_penalty, logs);
    logs.batches = batch_count(start + m, batch_size);
    if (progress && progress(logs.batches, num_batches, logs)) break;
  }
  return logs;
}

void Network::predict(const std::vector<InputArray>& x, int64_t n, int64_t batch_size,
                      const std::vector<float*>& out, const ProgressFn& progress, bool training,
                      uint64_t seed) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  FitTeamToFreeCores team;  // after flush: thread_team.hpp
  check_pass(unlabelled(x, n), batch_size, false);
  if (out.size() != outputs_.size())
    throw std::invalid_argument("predict: " + std::to_string(out.size()) + " output buffers for " +
                                std::to_string(outputs_.size()) + " outputs");
  const int64_t rows = inference_rows(batch_size, n, floats_per_row());
  const int64_t num_batches = batch_count(n, batch_size);
  EpochLogs logs;
  for (int64_t start = 0, chunk = 0; start < n; start += rows, ++chunk) {
    const int64_t m = std::min(rows, n - start);
    team.between_batches();
    {
      EngineLock lock(engine_mutex());
      reserve_batch(m, false);
      load_inputs(x, start, m, nullptr);
      forward(training ? ForwardMode{true, false} : kInfer, mix64(seed + uint64_t(chunk)));
      for (size_t o = 0; o < outputs_.size(); ++o)
        finish_output(o, m, out[o] + start * shape_size(output_shape(o)));
    }
    logs.samples += m;
    logs.batches = batch_count(start + m, batch_size);
    if (progress && progress(logs.batches, num_batches, logs)) break;
  }
}

double Network::loss_and_gradients(const PassData& data, bool training, uint64_t seed,
                                   const std::vector<float*>& input_grads) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  const int64_t n = check_pass(data, data.n, true);
  EngineLock lock(engine_mutex());
  const bool want_inputs = !input_grads.empty();
  if (!planned_ || planned_input_grads_ != want_inputs) plan_backward(want_inputs);
  reserve_batch(n, true);  // for the gradient slots; x and y are read in place
  load_inputs(data.x, 0, n, nullptr);
  load_labels(data, 0, n, nullptr);
  for (size_t i = 0; i < input_grads.size(); ++i)
    std::fill(input_grads[i], input_grads[i] + n * shape_size(input_shapes_[i]), 0.f);
  EpochLogs logs = new_logs();
  forward(ForwardMode{training, true}, seed);
  losses(n, true, logs);
  backward(input_grads);
  return logs.loss_sum / n + penalty(true);
}

std::vector<std::vector<float>> Network::tensor_values(const std::vector<InputArray>& x,
                                                       int64_t n) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  check_pass(unlabelled(x, n), n, false);
  EngineLock lock(engine_mutex());
  reserve_batch(n, false);
  load_inputs(x, 0, n, nullptr);
  forward(kInfer, 0);
  std::vector<std::vector<float>> result;
  for (size_t t = 0; t < tensor_shape_.size(); ++t) {
    std::vector<float> v(n * shape_size(tensor_shape_[t]));
    const int k = producer_[t];
    if (k >= 0 && emits_logits_[k]) {
      size_t o = std::find(outputs_.begin(), outputs_.end(), int(t)) - outputs_.begin();
      finish_output(o, n, v.data());
    } else {
      std::memcpy(v.data(), tensor_ptr_[t], v.size() * sizeof(float));
    }
    result.push_back(std::move(v));
  }
  return result;
}

}  // namespace fmnistcpp
