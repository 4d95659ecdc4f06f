// Keras 3's optimizers: the base (keras/src/optimizers/base_optimizer.py)
// here, one class per algorithm in optimizer_*.cpp, each repeating Keras's
// float32 arithmetic in the same order so results match to rounding.
//
// A step is Keras's apply(): gradients clipped (clipnorm per variable,
// global_clipnorm over all, or clipvalue), decoupled weight decay
// (w -= w * weight_decay * lr), the algorithm's update of each variable,
// then the exponential moving average of the weights (use_ema) and its
// periodic overwrite; the step count goes up last. The learning rate is a
// number or an ExponentialDecay schedule evaluated at the step count.
//
// The optimizer owns its per-variable state and says what it is, in the
// order Keras creates it (the EMA's averages, then the algorithm's
// add_optimizer_variables calls, then optimizer-wide scalars such as
// Nadam's u_product), so a saved file lists it as Keras does.
#pragma once

#include "config.hpp"
#include "param.hpp"
#include "parallel.hpp"

#include <memory>
#include <string>
#include <vector>

namespace fmnistcpp {

class Optimizer {
 public:
  // Config owner: Keras's class name ("Adam", "Nadam", ...); arguments under
  // Keras's names, plus decay_steps / decay_rate / staircase for an
  // ExponentialDecay schedule. Throws std::invalid_argument for an unknown
  // class or a bad argument, not_implemented for an unsupported one.
  static std::unique_ptr<Optimizer> make(Config config);
  static std::vector<std::string> names();
  virtual ~Optimizer() = default;
  const Config& config() const { return config_; }

  // The variables this optimizer updates, in Keras's trainable_weights
  // order; (re)creates their state with its initial values.
  void build(std::vector<Param*> params);
  const std::vector<Param*>& variables() const { return params_; }
  // One update of every variable from its .grad (clipped in place); bumps
  // .version.
  void step();
  // Keras's finalize_variable_values at the end of fit: with use_ema, the
  // variables take their moving averages.
  void finalize();
  int64_t iterations() const { return iterations_; }
  void set_iterations(int64_t it) { iterations_ = it; }
  // The rate the next step uses (a schedule evaluated at iterations()).
  double learning_rate() const;
  // A constant rate from now on (replaces a schedule, as Keras's setter).
  void set_learning_rate(double lr);
  bool has_schedule() const { return decay_steps_ > 0; }

  // The state Keras keeps beyond `iteration` and `learning_rate`, in its
  // order. `variable` is the index into variables(), or kShared for an
  // optimizer-wide scalar (shape ()).
  static constexpr size_t kShared = static_cast<size_t>(-1);
  struct Slot {
    size_t variable;
    std::string name;
    std::vector<int64_t> shape;
    AlignedVector* values;
  };
  std::vector<Slot> slots();

 protected:
  // Reads the arguments every optimizer takes (base_optimizer's).
  explicit Optimizer(Config config);

  // One of Keras's add_optimizer_variables calls in build(): for every
  // variable, one slot per name, starting at its initial value.
  void add_slots(std::vector<std::string> names, std::vector<float> initial = {});
  // An optimizer-wide float32 scalar (Nadam's u_product); returns its index.
  size_t add_scalar(std::string name, float initial);
  float& scalar(size_t index) { return scalars_.at(index)[0]; }

  // Before the variables' updates (Nadam's u_product).
  virtual void begin_step(float /*lr*/) {}
  // The algorithm's update_step for variable i: its clipped gradient is in
  // p.grad, its slots (in add_slots order, EMA's excluded) in `slots`.
  virtual void update(Param& p, float* const* slots, float lr) = 0;

  // A number in [low, high] (either end open), with Keras's argument name.
  double number_in(const std::string& key, double fallback, double low, double high,
                   bool low_open = false, bool high_open = false);

  Config config_;

 private:
  void clip_gradients();
  void apply_weight_decay(float lr);
  void update_moving_averages();

  double learning_rate_;
  double weight_decay_ = 0.0;  // 0 = off
  double clipnorm_ = 0.0, global_clipnorm_ = 0.0, clipvalue_ = 0.0;  // 0 = off
  bool use_ema_ = false;
  double ema_momentum_ = 0.99;
  int64_t ema_overwrite_frequency_ = 0;  // 0 = never
  // ExponentialDecay when decay_steps > 0:
  // lr = learning_rate * decay_rate ** (iterations / decay_steps).
  double decay_steps_ = 0.0, decay_rate_ = 1.0;
  bool staircase_ = false;

  struct Group {
    std::vector<std::string> names;
    std::vector<float> initial;
  };
  std::vector<Group> groups_;  // the EMA's first (when on), then the algorithm's
  std::vector<std::string> scalar_names_;
  std::vector<float> scalar_initial_;
  std::vector<Param*> params_;
  std::vector<std::vector<AlignedVector>> state_;  // [variable][slot, over all groups]
  std::vector<AlignedVector> scalars_;              // one float each
  int64_t iterations_ = 0;
};

using OptimizerFactory = std::unique_ptr<Optimizer> (*)(Config&&);
void register_optimizer(const std::string& name, OptimizerFactory factory);

// `static RegisterOptimizer<Adagrad> registered("Adagrad");` in its file.
template <class O>
struct RegisterOptimizer {
  explicit RegisterOptimizer(const char* name) {
    register_optimizer(name, [](Config&& c) -> std::unique_ptr<Optimizer> {
      return std::make_unique<O>(std::move(c));
    });
  }
};

// Below this many elements an update runs on one thread: waking the others
// costs more than the loop (measured on seed 002's 1290-element layer).
constexpr int64_t kMinParallelUpdate = 32768;

// An update loop over one parameter, split in ranges across the threads.
template <class Body>
inline void each_range(Param& p, const Body& body) {
  parallel_ranges(p.size(), kMinParallelUpdate, body);
}

}  // namespace fmnistcpp
