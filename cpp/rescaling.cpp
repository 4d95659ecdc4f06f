#include "rescaling.hpp"

#include "layer_registry.hpp"

#include <cmath>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<Rescaling> registered("Rescaling");

// A number or a non-empty tuple of numbers, kept as given in the config.
static std::vector<float> number_or_tuple(Config& config, const std::string& key,
                                          double fallback) {
  auto it = config.values().find(key);
  const bool tuple = it != config.values().end() &&
                     (std::holds_alternative<std::vector<double>>(it->second) ||
                      std::holds_alternative<std::vector<int64_t>>(it->second));
  std::vector<double> values = tuple ? config.numbers(key, {}) : std::vector<double>{
                                                                     config.number(key, fallback)};
  if (values.empty())
    throw std::invalid_argument("Rescaling " + key + " must be a number or a tuple of numbers, "
                                "got ()");
  std::vector<float> out;
  for (double v : values) {
    if (!std::isfinite(v))
      throw std::invalid_argument("Rescaling " + key + " must be finite, got " +
                                  python_repr(ConfigValue(v)));
    out.push_back(static_cast<float>(v));  // Keras casts to the compute dtype first
  }
  return out;
}

Rescaling::Rescaling(Config config) : Layer(std::move(config)) {
  scale_ = number_or_tuple(config_, "scale", 1.0);
  offset_ = number_or_tuple(config_, "offset", 0.0);
}

Shape Rescaling::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  channels_ = in.empty() ? 1 : in.back();
  for (const auto* v : {&scale_, &offset_}) {
    if (v->size() != 1 && static_cast<int64_t>(v->size()) != channels_)
      throw not_implemented("Rescaling with " + std::to_string(v->size()) +
                            " scale or offset values on inputs of shape " + shape_str(in) +
                            ": only a number or one value per channel (the last axis, " +
                            std::to_string(channels_) + ") is supported");
  }
  return in;
}

void Rescaling::forward(const Sources& src, float* dst, const ForwardMode&) {
  const float* x = src[0];
  const int64_t n = batch_ * shape_size(input());
  const int64_t C = channels_;
  const bool per_s = scale_.size() > 1, per_o = offset_.size() > 1;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) {
    const int64_t c = i % C;
    dst[i] = x[i] * scale_[per_s ? c : 0] + offset_[per_o ? c : 0];
  }
}

void Rescaling::backward(const Sources&, const float*, float* diff_dst,
                         const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  const int64_t n = batch_ * shape_size(input());
  const int64_t C = channels_;
  const bool per_s = scale_.size() > 1;
#pragma omp parallel for schedule(static) if (n > 65536)
  for (int64_t i = 0; i < n; ++i) dx[i] = diff_dst[i] * scale_[per_s ? i % C : 0];
}

}  // namespace fmnistcpp
