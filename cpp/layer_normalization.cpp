#include "layer_normalization.hpp"

#include "layer_registry.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<LayerNormalization> registered("LayerNormalization");

LayerNormalization::LayerNormalization(Config config) : Layer(std::move(config)) {
  // An int or a list of ints; the config keeps the form it was given in.
  auto it = config_.values().find("axis");
  const bool scalar = it == config_.values().end() ||
                      std::holds_alternative<int64_t>(it->second);
  for (double a : config_.numbers("axis", {-1.0})) {
    if (a != std::floor(a))
      throw std::invalid_argument("LayerNormalization axis must be an int or a list of ints, got " +
                                  python_repr(config_.values().at("axis")));
    axes_.push_back(static_cast<int64_t>(a));
  }
  if (axes_.empty())
    throw std::invalid_argument("LayerNormalization axis must name at least one axis, got ()");
  if (scalar) config_.set("axis", axes_[0]);
  else config_.set("axis", axes_);
  const double epsilon = config_.number("epsilon", 1e-3);
  if (!(epsilon > 0.0 && std::isfinite(epsilon)))
    throw std::invalid_argument("LayerNormalization epsilon must be a positive number, got " +
                                python_repr(ConfigValue(epsilon)));
  epsilon_ = static_cast<float>(epsilon);
  center_ = config_.flag("center", true);
  scale_ = config_.flag("scale", true);
  rms_ = config_.flag("rms_scaling", false);
}

Shape LayerNormalization::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  const int64_t rank = static_cast<int64_t>(in.size()) + 1;  // Keras counts the batch axis
  std::vector<int64_t> axes;
  for (int64_t a : axes_) {
    if (a >= rank || a < -rank)
      throw std::invalid_argument("LayerNormalization: axis " + std::to_string(a) +
                                  " is out of bounds for input shape (None, " +
                                  shape_str(in).substr(1));
    if (a < 0) a += rank;
    if (a == 0)
      throw not_implemented("LayerNormalization over the batch axis (axis=0) is not supported; "
                            "normalise over feature axes (axis=-1, or [1, 2, 3] for images)");
    axes.push_back(a - 1);
  }
  std::sort(axes.begin(), axes.end());
  axes.erase(std::unique(axes.begin(), axes.end()), axes.end());
  for (size_t i = 1; i < axes.size(); ++i)
    if (axes[i] != axes[i - 1] + 1)
      throw not_implemented("LayerNormalization over axes that are not adjacent (" +
                            shape_str(axes_) + " on inputs of shape " + shape_str(in) +
                            ") is not supported; permute the input so they are");
  outer_ = red_ = inner_ = 1;
  Shape param_shape;
  for (int64_t d = 0; d < static_cast<int64_t>(in.size()); ++d) {
    if (d < axes.front()) outer_ *= in[d];
    else if (d > axes.back()) inner_ *= in[d];
    else {
      red_ *= in[d];
      param_shape.push_back(in[d]);
    }
  }
  // Keras: gamma when scale or rms_scaling; beta when center and not rms_scaling.
  if (scale_ || rms_) {
    gamma_ = std::make_unique<Param>("gamma", param_shape);
    std::fill(gamma_->value.begin(), gamma_->value.end(), 1.f);
  }
  if (center_ && !rms_) beta_ = std::make_unique<Param>("beta", param_shape);
  return in;
}

std::vector<Param*> LayerNormalization::params() {
  std::vector<Param*> ps;
  if (gamma_) ps.push_back(gamma_.get());
  if (beta_) ps.push_back(beta_.get());
  return ps;
}

void LayerNormalization::prepare(int64_t batch) {
  batch_ = batch;
  const int64_t g = checked_mul(batch, outer_ * inner_, "the statistics");
  if (static_cast<int64_t>(mean_.size()) < g) {
    mean_.resize(g);
    inv_.resize(g);
  }
}

void LayerNormalization::forward(const Sources& src, float* dst, const ForwardMode&) {
  const float* x = src[0];
  const float* gamma = gamma_ ? gamma_->value.data() : nullptr;
  const float* beta = beta_ ? beta_->value.data() : nullptr;
  const int64_t G = groups(), R = red_;
#pragma omp parallel for schedule(static) if (G * R > 16384)
  for (int64_t g = 0; g < G; ++g) {
    double sum = 0.0;
    for (int64_t r = 0; r < R; ++r) sum += x[at(g, r)];
    const float mean = static_cast<float>(sum / R);
    double sq = 0.0;
    for (int64_t r = 0; r < R; ++r) {
      const float d = x[at(g, r)] - mean;
      sq += double(d) * d;
    }
    const float var = static_cast<float>(sq / R);
    const float inv = 1.f / std::sqrt(var + epsilon_);
    mean_[g] = mean;
    inv_[g] = inv;
    for (int64_t r = 0; r < R; ++r) {
      const int64_t i = at(g, r);
      if (rms_) {
        const float y = x[i] * inv;
        dst[i] = gamma ? y * gamma[r] : y;
      } else {
        const float s = gamma ? inv * gamma[r] : inv;
        const float shift = beta ? -mean * s + beta[r] : -mean * s;
        dst[i] = x[i] * s + shift;
      }
    }
  }
}

void LayerNormalization::backward(const Sources& src, const float*, float* dy,
                                  const SourceGrads& diff_srcs) {
  const float* x = src[0];
  float* dx = diff_srcs[0];
  const float* gamma = gamma_ ? gamma_->value.data() : nullptr;
  const int64_t G = groups(), R = red_;
  if (dx) {
#pragma omp parallel for schedule(static) if (G * R > 16384)
    for (int64_t g = 0; g < G; ++g) {
      const float mean = mean_[g], inv = inv_[g];
      // dxh = dL/d(normalised x) = dy * gamma
      double s1 = 0.0, s2 = 0.0;
      for (int64_t r = 0; r < R; ++r) {
        const int64_t i = at(g, r);
        const double dxh = gamma ? double(dy[i]) * gamma[r] : double(dy[i]);
        s1 += dxh;
        s2 += dxh * (rms_ ? double(x[i]) : (double(x[i]) - mean) * inv);
      }
      for (int64_t r = 0; r < R; ++r) {
        const int64_t i = at(g, r);
        const double dxh = gamma ? double(dy[i]) * gamma[r] : double(dy[i]);
        const double centred = double(x[i]) - mean;
        double v;
        if (rms_) {
          // out = x * inv * gamma: the variance's share is -inv^3 (x - mean) / R * sum(dxh x)
          v = inv * dxh - double(inv) * inv * inv * centred / R * s2;
        } else {
          const double xhat = centred * inv;
          v = inv * (dxh - s1 / R - xhat * s2 / R);
        }
        dx[i] = static_cast<float>(v);
      }
    }
  }
  // Parameter gradients: one thread per parameter element, summing the
  // groups in order, so the result does not depend on the thread count.
  float* dgamma = gamma_ ? gamma_->grad.data() : nullptr;
  float* dbeta = beta_ ? beta_->grad.data() : nullptr;
  if (!dgamma && !dbeta) return;
#pragma omp parallel for schedule(static) if (G * R > 16384)
  for (int64_t r = 0; r < R; ++r) {
    double sg = 0.0, sb = 0.0;
    for (int64_t g = 0; g < G; ++g) {
      const int64_t i = at(g, r);
      const double normalised = rms_ ? double(x[i]) * inv_[g]
                                     : (double(x[i]) - mean_[g]) * inv_[g];
      sg += double(dy[i]) * normalised;
      sb += dy[i];
    }
    if (dgamma) dgamma[r] = static_cast<float>(sg);
    if (dbeta) dbeta[r] = static_cast<float>(sb);
  }
}

}  // namespace fmnistcpp
