// Adam, AdamW, RMSprop and SGD (momentum, Nesterov) with Keras 3's update
// rules, the same arithmetic in the same order so results match to float
// rounding; optional decoupled weight decay (any optimizer, as Keras's
// `weight_decay=`) and an ExponentialDecay learning-rate schedule.
//
// The optimizer owns its per-variable state and says what it is: the slot
// names of each of Keras's `add_optimizer_variables` calls, so a saved file
// lists them in Keras's order and Python needs no knowledge of slots.
#pragma once

#include "config.hpp"
#include "param.hpp"

#include <string>
#include <vector>

namespace fmnistcpp {

class Optimizer {
 public:
  // Config owner: Keras's class name ("Adam", "AdamW", "RMSprop", "SGD");
  // arguments under Keras's names (learning_rate, beta_1, ...), plus
  // decay_steps / decay_rate / staircase for an ExponentialDecay schedule.
  explicit Optimizer(Config config);
  const Config& config() const { return config_; }

  // The variables this optimizer updates, in Keras's trainable_weights
  // order; (re)creates zero state for them.
  void build(std::vector<Param*> params);
  const std::vector<Param*>& variables() const { return params_; }
  // One update of every variable from its .grad; bumps .version.
  void step();
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t it) { iterations_ = it; }
  // The rate the next step uses (a schedule evaluated at iterations()).
  double learning_rate() const;
  // A constant rate from now on (replaces a schedule, as Keras's setter).
  void set_learning_rate(double lr);
  bool has_schedule() const { return decay_steps_ > 0; }

  // The state Keras keeps beyond `iteration` and `learning_rate`, in the
  // order Keras creates it: for each group of slot names, for each
  // variable, each name of the group.
  struct Slot {
    size_t variable;
    size_t index;  // into slot_names()
    std::string name;
  };
  std::vector<Slot> slots() const;
  const std::vector<std::string>& slot_names() const { return slot_names_; }
  AlignedVector& slot(size_t variable, size_t index) { return state_.at(variable).at(index); }

 private:
  Config config_;
  std::string kind_;  // "adam" (Adam, AdamW), "rmsprop" or "sgd"
  double learning_rate_;
  double beta_1_ = 0.9, beta_2_ = 0.999, epsilon_ = 1e-7;
  double momentum_ = 0.0, rho_ = 0.9;
  bool nesterov_ = false, centered_ = false;
  // Keras's base_optimizer._apply_weight_decay: w -= w * wd * lr before
  // the update; 0 = off.
  double weight_decay_ = 0.0;
  // keras.optimizers.schedules.ExponentialDecay when decay_steps > 0:
  // lr = learning_rate * decay_rate ** (iterations / decay_steps).
  double decay_steps_ = 0.0, decay_rate_ = 1.0;
  bool staircase_ = false;

  std::vector<std::vector<std::string>> slot_groups_;
  std::vector<std::string> slot_names_;
  std::vector<Param*> params_;
  std::vector<std::vector<AlignedVector>> state_;  // [variable][slot]
  int64_t iterations_ = 0;
};

}  // namespace fmnistcpp
