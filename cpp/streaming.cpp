// Batch-at-a-time passes, for data that Python produces one batch at a time
// (generators, PyDataset, ImageDataGenerator.flow): each call runs what one
// iteration of fit_epoch / evaluate runs, on all rows of the batch it is
// given, and adds to sums the caller keeps between calls (the metrics keep
// their own state in the network), so an epoch's logs are the same means
// Keras reports and fit_epoch computes.
#include "denormals.hpp"
#include "engine_guard.hpp"
#include "engine_lock.hpp"
#include "network.hpp"
#include "thread_team.hpp"

#include <stdexcept>

namespace fmnistcpp {

EpochLogs Network::begin_stream() {
  if (!compiled()) throw std::logic_error("the model is not compiled");
  EngineLock lock(engine_mutex());
  reset_metrics();
  return new_logs();
}

void Network::check_stream(const EpochLogs& logs) const {
  const EpochLogs fresh = new_logs();  // a metric may keep several numbers
  if (logs.target_loss_sum.size() != targets_.size() ||
      logs.metrics.size() != fresh.metrics.size())
    throw std::logic_error("the model was compiled again during the pass: start a new one");
}

void Network::train_batch(const PassData& data, uint64_t seed, int64_t batch, EpochLogs& logs) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  FitTeamToFreeCores team;  // after flush: thread_team.hpp
  const int64_t m = check_pass(data, data.n, true);
  check_stream(logs);
  train_step(data, nullptr, m, batch_seed(seed, batch), logs, team.spare_lanes());
}

void Network::test_batch(const PassData& data, EpochLogs& logs) {
  EngineGuard guard;     // first: signals blocked, threads fit to this process
  FlushDenormals flush;  // as TensorFlow computes
  FitTeamToFreeCores team;  // after flush: thread_team.hpp
  const int64_t m = check_pass(data, data.n, true);
  check_stream(logs);
  double weight_penalty;
  {
    EngineLock lock(engine_mutex());
    weight_penalty = penalty(false);
  }
  test_step(data, 0, m, weight_penalty, logs);
}

}  // namespace fmnistcpp
