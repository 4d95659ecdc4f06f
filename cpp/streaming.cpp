// Batch-at-a-time passes, for data that Python produces one batch at a time
// (generators, PyDataset, ImageDataGenerator.flow): each call runs what one
// iteration of fit_epoch / evaluate runs, on all rows of the batch it is
// given, and adds to sums the caller keeps between calls (the metrics keep
// their own state in the network), so an epoch's logs are the same means
// Keras reports and fit_epoch computes.
#include "denormals.hpp"
#include "engine_lock.hpp"
#include "network.hpp"
#include "random.hpp"

#include <stdexcept>

namespace fmnistcpp {

EpochLogs Network::begin_stream() {
  if (!compiled()) throw std::logic_error("the model is not compiled");
  EngineLock lock(engine_mutex());
  reset_metrics();
  return new_logs();
}

void Network::check_stream(const EpochLogs& logs) const {
  size_t metrics = 0;
  for (const Target& tg : targets_) metrics += tg.metrics.size() + tg.weighted_metrics.size();
  if (logs.target_loss_sum.size() != targets_.size() || logs.metrics.size() != metrics)
    throw std::logic_error("the model was compiled again during the pass: start a new one");
}

void Network::train_batch(const PassData& data, uint64_t seed, int64_t batch, EpochLogs& logs) {
  FlushDenormals flush;  // as TensorFlow computes
  const int64_t m = check_pass(data, data.n, true);
  check_stream(logs);
  {
    EngineLock lock(engine_mutex());
    if (!planned_ || planned_input_grads_) plan_backward(false);
    reserve_batch(m, true);
    load_inputs(data.x, 0, m, nullptr);
    load_labels(data, 0, m, nullptr);
    // The seed fit_epoch gives batch `batch` of an epoch seeded `seed`:
    // the same batches as arrays draw the same dropout masks.
    forward(ForwardMode{true, true}, mix64(seed + 0x5eed + uint64_t(batch)));
    losses(m, true, logs);
    backward({});
    logs.loss_sum += penalty(true) * m;  // the batch's mean loss gains it once
    optimizer_->step();
    read_metrics(logs);
  }
  logs.samples += m;
  logs.batches += 1;
}

void Network::test_batch(const PassData& data, EpochLogs& logs) {
  FlushDenormals flush;  // as TensorFlow computes
  const int64_t m = check_pass(data, data.n, true);
  check_stream(logs);
  {
    EngineLock lock(engine_mutex());
    reserve_batch(m, false);
    load_inputs(data.x, 0, m, nullptr);
    load_labels(data, 0, m, nullptr);
    forward(ForwardMode{false, false}, 0);
    losses(m, false, logs);
    logs.loss_sum += penalty(false) * m;
    read_metrics(logs);
  }
  logs.samples += m;
  logs.batches += 1;
}

}  // namespace fmnistcpp
