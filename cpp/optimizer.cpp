#include "optimizer.hpp"

#include "parallel.hpp"

#include <cmath>
#include <map>
#include <stdexcept>

namespace fmnistcpp {

// A function-local static: registrations run from other files' static
// initialisers, in an order the language does not fix.
static std::map<std::string, OptimizerFactory>& registry() {
  static std::map<std::string, OptimizerFactory> factories;
  return factories;
}

void register_optimizer(const std::string& name, OptimizerFactory factory) {
  if (!registry().emplace(name, factory).second)
    throw std::logic_error("optimizer " + name + " registered twice");
}

std::vector<std::string> Optimizer::names() {
  std::vector<std::string> out;
  for (const auto& [name, f] : registry()) out.push_back(name);
  return out;
}

std::unique_ptr<Optimizer> Optimizer::make(Config config) {
  auto it = registry().find(config.owner());
  if (it == registry().end()) {
    std::string known;
    for (const auto& n : names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown optimizer '" + config.owner() + "'; known: " + known);
  }
  std::unique_ptr<Optimizer> opt = it->second(std::move(config));
  opt->config_.check_all_read();
  return opt;
}

static void check_finite_nonnegative(double v, const std::string& owner, const char* what) {
  if (!(v >= 0) || !std::isfinite(v))
    throw std::invalid_argument(owner + " " + what + " must be a finite number >= 0, got " +
                                python_repr(ConfigValue(v)));
}

double Optimizer::number_in(const std::string& key, double fallback, double low, double high,
                            bool low_open, bool high_open) {
  const double v = config_.number(key, fallback);
  const bool ok = (low_open ? v > low : v >= low) && (high_open ? v < high : v <= high);
  if (!ok)
    throw std::invalid_argument(config_.owner() + " " + key + " must be in " +
                                (low_open ? "(" : "[") + python_repr(ConfigValue(low)) + ", " +
                                python_repr(ConfigValue(high)) + (high_open ? ")" : "]") +
                                ", got " + python_repr(ConfigValue(v)));
  return v;
}

// base_optimizer.BaseOptimizer.__init__'s arguments and checks.
Optimizer::Optimizer(Config config) : config_(std::move(config)) {
  const std::string& cls = config_.owner();
  learning_rate_ = config_.number("learning_rate");
  check_finite_nonnegative(learning_rate_, cls, "learning_rate");
  weight_decay_ = config_.optional_number("weight_decay").value_or(0.0);
  check_finite_nonnegative(weight_decay_, cls, "weight_decay");
  // Keras clips only with a value > 0 (`if self.clipnorm and self.clipnorm > 0`).
  int clip_args = 0;
  for (auto [key, target] : {std::pair{"clipnorm", &clipnorm_},
                             std::pair{"global_clipnorm", &global_clipnorm_},
                             std::pair{"clipvalue", &clipvalue_}}) {
    auto v = config_.optional_number(key);
    if (!v) continue;
    ++clip_args;
    if (!std::isfinite(*v))
      throw std::invalid_argument(cls + " " + key + " must be a finite number, got " +
                                  python_repr(ConfigValue(*v)));
    *target = *v > 0 ? *v : 0.0;
  }
  if (clip_args > 1)
    throw std::invalid_argument("Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can "
                                "be set.");
  use_ema_ = config_.flag("use_ema", false);
  ema_momentum_ = config_.number("ema_momentum", 0.99);
  const auto frequency = config_.optional_integer("ema_overwrite_frequency");
  if (use_ema_) {
    if (!(ema_momentum_ >= 0 && ema_momentum_ <= 1))
      throw std::invalid_argument("`ema_momentum` must be in the range [0, 1]. Received: "
                                  "ema_momentum=" + python_repr(ConfigValue(ema_momentum_)));
    if (frequency && *frequency < 0)  // (0 is None, as Keras's `if ema_overwrite_frequency`)
      throw std::invalid_argument("`ema_overwrite_frequency` must be an integer >= 1 or None. "
                                  "Received: ema_overwrite_frequency=" +
                                  std::to_string(*frequency));
    ema_overwrite_frequency_ = frequency.value_or(0);
    groups_.push_back({{"average"}, {0.f}});  // Keras's build() adds these first
  }
  config_.none_only("loss_scale_factor",
                    cls + "(loss_scale_factor=...) is not supported: fmnistcpp trains in float32, "
                          "where the loss needs no scaling");
  config_.none_only("gradient_accumulation_steps",
                    cls + "(gradient_accumulation_steps=...) is not supported; use a larger "
                          "batch_size instead");
  decay_steps_ = config_.number("decay_steps", 0.0);
  decay_rate_ = config_.number("decay_rate", 1.0);
  staircase_ = config_.flag("staircase", false);
  if (!(decay_steps_ >= 0) || !std::isfinite(decay_steps_) || !std::isfinite(decay_rate_))
    throw std::invalid_argument("decay_steps must be >= 0 and decay_rate finite");
}

void Optimizer::add_slots(std::vector<std::string> names, std::vector<float> initial) {
  initial.resize(names.size(), 0.f);
  groups_.push_back({std::move(names), std::move(initial)});
}

size_t Optimizer::add_scalar(std::string name, float initial) {
  scalar_names_.push_back(std::move(name));
  scalar_initial_.push_back(initial);
  return scalar_names_.size() - 1;
}

void Optimizer::build(std::vector<Param*> params) {
  params_ = std::move(params);
  state_.assign(params_.size(), {});
  for (size_t i = 0; i < params_.size(); ++i)
    for (const Group& g : groups_)
      for (float init : g.initial) state_[i].emplace_back(params_[i]->value.size(), init);
  scalars_.clear();
  for (float init : scalar_initial_) scalars_.emplace_back(1, init);
}

std::vector<Optimizer::Slot> Optimizer::slots() {
  std::vector<Slot> out;
  size_t first = 0;
  for (const Group& g : groups_) {
    for (size_t v = 0; v < params_.size(); ++v)
      for (size_t j = 0; j < g.names.size(); ++j)
        out.push_back({v, g.names[j], params_[v]->shape, &state_[v][first + j]});
    first += g.names.size();
  }
  for (size_t s = 0; s < scalars_.size(); ++s)
    out.push_back({kShared, scalar_names_[s], {}, &scalars_[s]});
  return out;
}

void Optimizer::set_learning_rate(double lr) {
  check_finite_nonnegative(lr, config_.owner(), "learning_rate");
  learning_rate_ = lr;
  decay_steps_ = 0.0;
}

// keras/src/optimizers/schedules/learning_rate_schedule.py ExponentialDecay:
// every operand is cast to float32 (the dtype of the initial rate) and
// p = step / decay_steps, floored with staircase, lr = initial * rate ** p.
double Optimizer::learning_rate() const {
  if (!(decay_steps_ > 0)) return learning_rate_;
  const float initial = static_cast<float>(learning_rate_);
  const float steps = static_cast<float>(decay_steps_);
  const float rate = static_cast<float>(decay_rate_);
  float p = static_cast<float>(iterations_) / steps;
  if (staircase_) p = std::floor(p);
  return static_cast<double>(initial * std::pow(rate, p));
}

// The update loops take their arrays __restrict (they are distinct vectors)
// and read each element once into a local: otherwise GCC must reload m[i]
// after storing it, and those reloads made Adam over seed 002's kernel 3x
// slower (a 64-byte store forwarded to a load stalls).

static double sum_of_squares(const Param& p) {
  double s = 0.0;
  for (float g : p.grad) s += double(g) * g;
  return s;
}

// base_optimizer._clip_gradients, on TensorFlow:
//  clipnorm: tf.clip_by_norm per variable, g * c / max(||g||, c);
//  global_clipnorm: g * scale, scale = c * min(1 / ||all||, 1 / c) (NaN
//    when the norm is not finite, as Keras's `+ (norm - norm)`);
//  clipvalue: tf.clip_by_value(g, -v, v).
FMNISTCPP_ISA_CLONES
static void scale_range(float* __restrict g, float numerator, float denominator, int64_t begin,
                        int64_t end) {
  for (int64_t i = begin; i < end; ++i) g[i] = (g[i] * numerator) / denominator;
}

FMNISTCPP_ISA_CLONES
static void multiply_range(float* __restrict g, float scale, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) g[i] = g[i] * scale;
}

FMNISTCPP_ISA_CLONES
static void clip_range(float* __restrict g, float v, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) g[i] = std::max(std::min(g[i], v), -v);
}

void Optimizer::clip_gradients() {
  if (clipnorm_ > 0) {
    const float c = static_cast<float>(clipnorm_);
    for (Param* p : params_) {
      const float l2sum = static_cast<float>(sum_of_squares(*p));
      const float norm = l2sum > 0.f ? std::sqrt(l2sum) : l2sum;
      float* g = p->grad.data();
      each_range(*p, [&](int64_t b, int64_t e) { scale_range(g, c, std::max(norm, c), b, e); });
    }
  } else if (global_clipnorm_ > 0) {
    double total = 0.0;
    for (Param* p : params_) total += static_cast<float>(sum_of_squares(*p));
    const float norm = std::sqrt(static_cast<float>(total));
    const float c = static_cast<float>(global_clipnorm_);
    float scale = c * std::min(1.f / norm, static_cast<float>(1.0 / global_clipnorm_));
    scale = scale + (norm - norm);
    for (Param* p : params_) {
      float* g = p->grad.data();
      each_range(*p, [&](int64_t b, int64_t e) { multiply_range(g, scale, b, e); });
    }
  } else if (clipvalue_ > 0) {
    const float v = static_cast<float>(clipvalue_);
    for (Param* p : params_) {
      float* g = p->grad.data();
      each_range(*p, [&](int64_t b, int64_t e) { clip_range(g, v, b, e); });
    }
  }
}

// base_optimizer._apply_weight_decay (TensorFlow's): w -= w * wd * lr.
FMNISTCPP_ISA_CLONES
static void weight_decay_range(float* __restrict w, float wd, float lr, int64_t begin,
                               int64_t end) {
  for (int64_t i = begin; i < end; ++i) w[i] = w[i] - w[i] * wd * lr;
}

void Optimizer::apply_weight_decay(float lr) {
  if (!(weight_decay_ > 0)) return;
  const float wd = static_cast<float>(weight_decay_);
  for (Param* p : params_) {
    float* w = p->value.data();
    each_range(*p, [&](int64_t b, int64_t e) { weight_decay_range(w, wd, lr, b, e); });
  }
}

// base_optimizer._update_model_variables_moving_average: momentum is 0 on
// the first step (the average starts as the weights), then ema_momentum;
// a = m * a + (1 - m) * w.
FMNISTCPP_ISA_CLONES
static void average_range(float* __restrict a, const float* __restrict w, float m,
                          float one_minus_m, int64_t begin, int64_t end) {
  for (int64_t i = begin; i < end; ++i) a[i] = m * a[i] + one_minus_m * w[i];
}

void Optimizer::update_moving_averages() {
  const float m = (iterations_ != 0 ? 1.f : 0.f) * static_cast<float>(ema_momentum_);
  const float one_minus_m = 1.f - m;
  for (size_t i = 0; i < params_.size(); ++i) {
    float* a = state_[i][0].data();
    const float* w = params_[i]->value.data();
    each_range(*params_[i],
               [&](int64_t b, int64_t e) { average_range(a, w, m, one_minus_m, b, e); });
  }
  if (ema_overwrite_frequency_ > 0 && (iterations_ + 1) % ema_overwrite_frequency_ == 0)
    finalize();
}

void Optimizer::finalize() {
  if (!use_ema_) return;
  for (size_t i = 0; i < params_.size(); ++i) {
    std::copy(state_[i][0].begin(), state_[i][0].end(), params_[i]->value.begin());
    ++params_[i]->version;
  }
}

void Optimizer::step() {
  const float lr = static_cast<float>(learning_rate());
  clip_gradients();
  apply_weight_decay(lr);
  begin_step(lr);
  const size_t first = use_ema_ ? 1 : 0;
  std::vector<float*> slot_ptrs;
  for (size_t i = 0; i < params_.size(); ++i) {
    slot_ptrs.clear();
    for (size_t s = first; s < state_[i].size(); ++s) slot_ptrs.push_back(state_[i][s].data());
    update(*params_[i], slot_ptrs.data(), lr);
  }
  if (use_ema_) update_moving_averages();
  for (Param* p : params_) ++p->version;
  ++iterations_;
}

}  // namespace fmnistcpp
