// Adam and SGD (momentum, Nesterov) with Keras 3's update rules, the same
// arithmetic in the same order so results match to float rounding.
#pragma once

#include "param.hpp"

#include <string>
#include <vector>

namespace fmnistcpp {

struct OptimizerConfig {
  std::string kind = "adam";  // "adam" or "sgd"
  double learning_rate = 0.001;
  double beta_1 = 0.9, beta_2 = 0.999, epsilon = 1e-7;  // Adam
  double momentum = 0.0;                                 // SGD
  bool nesterov = false;                                 // SGD
};

class Optimizer {
 public:
  explicit Optimizer(OptimizerConfig config);
  // One update of every parameter from its .grad; bumps .version.
  void step(const std::vector<Param*>& params);
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t it) { iterations_ = it; }
  double learning_rate() const { return config_.learning_rate; }
  void set_learning_rate(double lr) { config_.learning_rate = lr; }
  const OptimizerConfig& config() const { return config_; }

 private:
  OptimizerConfig config_;
  int64_t iterations_ = 0;
};

}  // namespace fmnistcpp
