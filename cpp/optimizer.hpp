// Adam, AdamW, RMSprop and SGD (momentum, Nesterov) with Keras 3's update
// rules, the same arithmetic in the same order so results match to float
// rounding; optional decoupled weight decay (any optimizer, as Keras's
// `weight_decay=`) and an ExponentialDecay learning-rate schedule.
#pragma once

#include "param.hpp"

#include <string>
#include <unordered_map>
#include <vector>

namespace fmnistcpp {

struct OptimizerConfig {
  std::string kind = "adam";  // "adam", "adamw", "rmsprop" or "sgd"
  double learning_rate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // Adam
  double momentum = 0.0;                                 // SGD
  bool nesterov = false;                                 // SGD
  double rho = 0.9;                                      // RMSprop
  bool centered = false;                                 // RMSprop
  // Keras's base_optimizer._apply_weight_decay: w -= w * wd * lr before
  // the update; 0 = off (AdamW defaults to 0.004 in Python).
  double weight_decay = 0.0;
  // keras.optimizers.schedules.ExponentialDecay when decay_steps > 0:
  // lr = learning_rate * decay_rate ** (iterations / decay_steps).
  double decay_steps = 0.0, decay_rate = 1.0;
  bool staircase = false;
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerConfig config);
  // One update of every parameter from its .grad; bumps .version.
  void step(const std::vector<Param*>& params);
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t it) { iterations_ = it; }
  // The rate the next step uses (a schedule evaluated at iterations()).
  double learning_rate() const;
  // A constant rate from now on (replaces a schedule, as Keras's setter).
  void set_learning_rate(double lr) {
    config_.learning_rate = lr;
    config_.decay_steps = 0.0;
  }
  const OptimizerConfig& config() const { return config_; }

 private:
  OptimizerConfig config_;
  int64_t iterations_ = 0;
  // RMSprop(centered=True)'s average gradient: a third slot Param lacks.
  std::unordered_map<const Param*, AlignedVector> average_grad_;
};

}  // namespace fmnistcpp
