// Weighting and reduction common to every loss, as keras/src/losses/loss.py
// (reduce_weighted_values, apply_mask), and the registry of losses.
#include "loss.hpp"

#include "cross_entropy.hpp"

#include <cmath>
#include <cstring>
#include <map>
#include <stdexcept>

namespace fmnistcpp {

Loss::Loss(Config config) : config_(std::move(config)) {
  const std::string r = config_.choice(
      "reduction", {"sum_over_batch_size", "mean", "sum", "mean_with_sample_weight", "none"},
      "sum_over_batch_size");
  reduction_ = r == "sum"                       ? Reduction::sum
               : r == "mean_with_sample_weight" ? Reduction::mean_with_sample_weight
               : r == "none"                    ? Reduction::none
                                                : Reduction::sum_over_batch_size;
  d_ = config_.integer("last_axis_size", 0);
  if (d_ < 0) throw std::invalid_argument(kind() + " last_axis_size must be >= 0");
}

// sum_r w_r v_r / divisor, with Keras's divisor: the row count
// (sum_over_batch_size; the valid rows when a mask drops some), 1 (sum),
// or the sum of the weights (mean_with_sample_weight, when there are
// weights or a mask). A zero divisor gives 0, as ops.divide_no_nan.
double Loss::reduce(const float* sw, int64_t n, int64_t rows, const float* v, const uint8_t* valid,
                    double* divisor) const {
  const int64_t rps = rows / n;
  double total = 0.0, weights = 0.0;
  int64_t kept = 0;
  for (int64_t r = 0; r < rows; ++r) {
    if (!valid[r]) continue;
    const float w = row_weight(sw, r, rps);
    total += static_cast<double>(w * v[r]);
    weights += w;
    ++kept;
  }
  const bool masked = kept != rows;
  double div = 1.0;
  switch (reduction_) {
    case Reduction::sum_over_batch_size: div = masked ? kept : rows; break;
    case Reduction::mean_with_sample_weight: div = (sw || masked) ? weights : rows; break;
    case Reduction::sum:
    case Reduction::none: div = 1.0; break;
  }
  *divisor = div;
  return div == 0.0 ? 0.0 : total / div;
}

double Loss::forward_backward(const float* out, const Labels& y, const float* sw, int64_t n,
                              int64_t k, float grad_scale, float* grad, float* probs) const {
  if (reduction_ == Reduction::none)
    throw not_implemented(kind() + ": reduction='none' gives one loss per sample; training "
                          "needs one number (use 'sum', which has the same gradients)");
  const int64_t d = d_ > 0 ? d_ : k, rows = n * (k / d);
  values_.resize(rows);
  valid_.assign(rows, 1);
  check_rows(k, d);
  this->rows(LossRows{out, y, rows, d}, values_.data(), grad, valid_.data());
  double divisor = 1.0;
  const double loss = reduce(sw, n, rows, values_.data(), valid_.data(), &divisor);
  if (grad) {
    // d(loss)/d(out_r) = w_r / divisor * d v_r / d out_r; in double so that
    // the default case (no weights, divisor n) multiplies by grad_scale
    // exactly.
    const double base = divisor == 0.0 ? 0.0 : static_cast<double>(grad_scale) * n / divisor;
    const int64_t rps = k / d;
#pragma omp parallel for schedule(static) if (n * k > 65536)
    for (int64_t r = 0; r < rows; ++r) {
      const float c = valid_[r] ? static_cast<float>(base * row_weight(sw, r, rps)) : 0.f;
      float* g = grad + r * d;
      for (int64_t j = 0; j < d; ++j) g[j] *= c;
    }
  }
  if (probs) {
    if (logits_ && stripped_ == Activation::softmax) {
      softmax_rows(out, probs, n * k / d, d);
    } else if (logits_ && stripped_ == Activation::sigmoid) {
      sigmoid(out, probs, n * k);
    } else if (probs != out) {
      std::memcpy(probs, out, n * k * sizeof(float));
    }
  }
  return loss * n;
}

void Loss::check_rows(int64_t k, int64_t d) const {
  if (d <= 0 || k % d != 0)
    throw std::invalid_argument(kind() + ": the output's last axis (" + std::to_string(d) +
                                ") does not divide its " + std::to_string(k) +
                                " values per sample");
}

void Loss::values(const float* out, const Labels& y, int64_t n, int64_t k, float* values) const {
  const int64_t d = d_ > 0 ? d_ : k, rows = n * (k / d);
  check_rows(k, d);
  valid_.assign(rows, 1);
  this->rows(LossRows{out, y, rows, d}, values, nullptr, valid_.data());
  for (int64_t r = 0; r < rows; ++r)
    if (!valid_[r]) values[r] = 0.f;
}

double Loss::call(const float* out, const Labels& y, const float* sw, int64_t n, int64_t k,
                  float* values) const {
  const int64_t d = d_ > 0 ? d_ : k, rows = n * (k / d);
  check_rows(k, d);
  valid_.assign(rows, 1);
  this->rows(LossRows{out, y, rows, d}, values, nullptr, valid_.data());
  double divisor = 1.0;
  const double loss = reduce(sw, n, rows, values, valid_.data(), &divisor);
  if (reduction_ == Reduction::none) {
    // Keras returns the values times the weights (and the mask) unreduced.
    for (int64_t r = 0; r < rows; ++r)
      values[r] = valid_[r] ? values[r] * row_weight(sw, r, k / d) : 0.f;
  }
  return loss;
}

static std::map<std::string, LossFactory>& registry() {
  static std::map<std::string, LossFactory> factories;  // filled by other files' initialisers
  return factories;
}

void register_loss(const std::string& kind, LossFactory factory) {
  if (!registry().emplace(kind, factory).second)
    throw std::logic_error("loss " + kind + " registered twice");
}

LossPtr make_loss(const std::string& kind, Config::Values args) {
  auto it = registry().find(kind);
  if (it == registry().end()) {
    std::string known;
    for (const auto& [k, f] : registry()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument("the engine has no loss '" + kind + "'; it has: " + known);
  }
  LossPtr loss = it->second(Config(kind, std::move(args)));
  loss->config().check_all_read();
  return loss;
}

}  // namespace fmnistcpp
