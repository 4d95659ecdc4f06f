#include "normalization.hpp"

#include "layer_registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<Normalization> registered("Normalization");

static std::vector<double> values_or_none(Config& config, const std::string& key) {
  if (!config.has(key)) {
    config.none_only(key, "");
    return {};
  }
  return config.numbers(key, {});
}

Normalization::Normalization(Config config) : Layer(std::move(config)) {
  // Keras: None -> (), an int -> (int,); stored as the tuple.
  auto it = config_.values().find("axis");
  const bool none = it != config_.values().end() &&
                    std::holds_alternative<std::monostate>(it->second);
  if (!none) {
    for (double a : config_.numbers("axis", {-1.0})) {
      if (a != std::floor(a))
        throw std::invalid_argument("Normalization axis must be an int, a tuple of ints or "
                                    "None, got " + python_repr(config_.values().at("axis")));
      axes_.push_back(static_cast<int64_t>(a));
    }
  } else {
    config_.none_only("axis", "");
  }
  config_.set("axis", axes_);
  invert_ = config_.flag("invert", false);
  mean_values_ = values_or_none(config_, "mean");
  variance_values_ = values_or_none(config_, "variance");
  const bool has_mean = config_.has("mean"), has_var = config_.has("variance");
  if (has_mean != has_var)
    throw std::invalid_argument("When setting values directly, both `mean` and `variance` must "
                                "be set. Received: mean=" +
                                python_repr(config_.values().at("mean")) + " and variance=" +
                                python_repr(config_.values().at("variance")));
  given_ = has_mean;
  // The shapes the values were given in (Python passes np.shape of each).
  auto shape_of = [&](const std::string& key, const std::vector<double>& values) {
    std::vector<int64_t> shape;
    if (!config_.has(key)) {
      config_.none_only(key, "");
      if (values.size() != 1) shape.push_back(static_cast<int64_t>(values.size()));
      return shape;
    }
    for (double d : config_.numbers(key, {})) {
      if (!(d >= 0) || d != std::floor(d))
        throw std::invalid_argument("Normalization " + key + " must be a tuple of sizes");
      shape.push_back(static_cast<int64_t>(d));
    }
    config_.set(key, shape);
    return shape;
  };
  mean_shape_ = shape_of("mean_shape", mean_values_);
  const std::vector<int64_t> variance_shape = shape_of("variance_shape", variance_values_);
  if (given_ && variance_shape != mean_shape_)
    throw std::invalid_argument("When setting values directly, `mean` and `variance` must have "
                                "the same shape. Received: mean shape " + shape_str(mean_shape_) +
                                " and variance shape " + shape_str(variance_shape));
  if (given_) {
    int64_t count = 1;
    for (int64_t d : mean_shape_) count = checked_mul(count, d, "the mean");
    if (static_cast<int64_t>(mean_values_.size()) != count ||
        variance_values_.size() != mean_values_.size())
      throw std::invalid_argument(
          "When setting values directly, `mean` and `variance` must have the same shape. "
          "Received: " + std::to_string(mean_values_.size()) + " mean values and " +
          std::to_string(variance_values_.size()) + " variance values for shape " +
          shape_str(mean_shape_));
    if (mean_shape_.size() > axes_.size())
      throw std::invalid_argument("The rank of `mean` must be less than or equal to the number "
                                  "of axes (" + std::to_string(axes_.size()) +
                                  "). Received: mean shape " + shape_str(mean_shape_) +
                                  " for axis " + shape_str(axes_));
    for (double v : variance_values_)
      if (!(v >= 0.0)) throw std::invalid_argument("Normalization variance must be >= 0");
  }
}

Shape Normalization::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  const int64_t ndim = static_cast<int64_t>(in.size()) + 1;
  std::vector<int64_t> keep;
  for (int64_t a : axes_) {
    if (a < -ndim || a >= ndim)
      throw std::invalid_argument("All `axis` values must be in the range [-ndim, ndim). "
                                  "Received inputs with ndim=" + std::to_string(ndim) +
                                  ", while axis=" + shape_str(axes_));
    keep.push_back(a < 0 ? a + ndim : a);
  }
  std::sort(keep.begin(), keep.end());
  keep.erase(std::unique(keep.begin(), keep.end()), keep.end());
  if (!keep.empty() && keep[0] == 0)
    throw std::invalid_argument("All `axis` values to be kept must have a known shape. Received "
                                "axis=" + shape_str(axes_) + " with the batch axis (0), whose "
                                "size is unknown");
  Shape kept;
  for (int64_t k : keep) kept.push_back(in[k - 1]);
  const int64_t stats = shape_size(kept);

  // Each element's statistic: its coordinates on the kept axes, in C order.
  const int64_t size = shape_size(in);
  stat_of_.assign(size, 0);
  for (int64_t e = 0; e < size; ++e) {
    int64_t rest = e, index = 0, stride = 1;
    for (int64_t d = static_cast<int64_t>(in.size()) - 1; d >= 0; --d) {
      const int64_t coord = rest % in[d];
      rest /= in[d];
      auto k = std::find(keep.begin(), keep.end(), d + 1);
      if (k != keep.end()) {
        index += coord * stride;
        stride *= in[d];
      }
    }
    stat_of_[e] = index;
  }
  denom_.assign(stats, 1.f);

  if (!given_) {
    mean_ = std::make_unique<Param>("mean", kept, /*is_trainable=*/false);
    variance_ = std::make_unique<Param>("variance", kept, /*is_trainable=*/false);
    std::fill(variance_->value.begin(), variance_->value.end(), 1.f);
    count_ = std::make_unique<Param>("count", Shape{}, /*is_trainable=*/false);
    return in;
  }
  // Keras: the given values' trailing axes line up with the kept axes'
  // trailing ones, then broadcast_to the kept shape.
  const size_t m = mean_shape_.size();
  for (size_t i = 1; i <= m; ++i) {
    const int64_t want = kept[kept.size() - i], got = mean_shape_[m - i];
    if (got != want && got != 1)
      throw std::invalid_argument("Normalization: mean and variance of shape " +
                                  shape_str(mean_shape_) + " cannot be broadcast to the shape " +
                                  shape_str(kept) + " of the kept axes " + shape_str(axes_) +
                                  " of inputs of shape " + shape_str(in));
  }
  given_mean_.assign(stats, 0.f);
  given_variance_.assign(stats, 1.f);
  for (int64_t s = 0; s < stats; ++s) {
    // s's coordinates in `kept`, mapped to the given array (size-1 axes repeat).
    int64_t rest = s, index = 0, stride = 1;
    for (size_t d = kept.size(); d-- > 0;) {
      const int64_t coord = rest % kept[d];
      rest /= kept[d];
      const size_t from_end = kept.size() - d;
      if (from_end <= m) {
        const int64_t dim = mean_shape_[m - from_end];
        index += (dim == 1 ? 0 : coord) * stride;
        stride *= dim;
      }
    }
    given_mean_[s] = static_cast<float>(mean_values_[index]);
    given_variance_[s] = static_cast<float>(variance_values_[index]);
  }
  return in;
}

std::vector<Param*> Normalization::params() {
  if (given_ || !mean_) return {};
  return {mean_.get(), variance_.get(), count_.get()};
}

void Normalization::update_denominators() {
  const float* var = variances();
  for (size_t s = 0; s < denom_.size(); ++s)
    denom_[s] = std::max(std::sqrt(var[s]), 1e-7f);  // Keras's backend.epsilon()
}

void Normalization::forward(const Sources& src, float* dst, const ForwardMode&) {
  update_denominators();
  const float* x = src[0];
  const float* mean = means();
  const int64_t size = shape_size(input());
#pragma omp parallel for schedule(static) if (batch_ * size > 65536)
  for (int64_t n = 0; n < batch_; ++n) {
    const float* xs = x + n * size;
    float* ys = dst + n * size;
    for (int64_t e = 0; e < size; ++e) {
      const int64_t s = stat_of_[e];
      ys[e] = invert_ ? mean[s] + xs[e] * denom_[s] : (xs[e] - mean[s]) / denom_[s];
    }
  }
}

void Normalization::backward(const Sources&, const float*, float* dy,
                             const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  const int64_t size = shape_size(input());
#pragma omp parallel for schedule(static) if (batch_ * size > 65536)
  for (int64_t n = 0; n < batch_; ++n)
    for (int64_t e = 0; e < size; ++e) {
      const int64_t i = n * size + e, s = stat_of_[e];
      dx[i] = invert_ ? dy[i] * denom_[s] : dy[i] / denom_[s];
    }
}

}  // namespace fmnistcpp
