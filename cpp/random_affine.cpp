#include "random_affine.hpp"

#include "layer_registry.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<RandomRotation> registered_rotation("RandomRotation");
static RegisterLayer<RandomZoom> registered_zoom("RandomZoom");
static RegisterLayer<RandomTranslation> registered_translation("RandomTranslation");

// Draw k of image n: counters never collide between images.
static uint64_t counter(int64_t n, int k) { return uint64_t(n) * 4 + uint64_t(k); }

// TensorFlow's random uniform in float32: minval + (maxval - minval) * u.
static float between(float lo, float hi, float u) { return lo + (hi - lo) * u; }

RandomAffine::RandomAffine(Config config) : RandomLayer(std::move(config)) {
  // Keras raises NotImplementedError for unknown fill modes and interpolations.
  const auto& values = config_.values();
  auto text_of = [&](const std::string& key, const std::string& fallback) {
    auto it = values.find(key);
    return it != values.end() && std::holds_alternative<std::string>(it->second)
               ? std::get<std::string>(it->second) : fallback;
  };
  const std::string fill = text_of("fill_mode", "reflect");
  const std::string interpolation = text_of("interpolation", "bilinear");
  if (fill != "reflect" && fill != "wrap" && fill != "constant" && fill != "nearest")
    throw not_implemented("Unknown `fill_mode` " + fill +
                          ". Expected of one ('reflect', 'wrap', 'constant', 'nearest').");
  if (interpolation != "nearest" && interpolation != "bilinear")
    throw not_implemented("Unknown `interpolation` " + interpolation +
                          ". Expected of one ('nearest', 'bilinear').");
  geometry_.fill = fill_mode_from(config_.text("fill_mode", "reflect"));
  geometry_.interpolation = interpolation_from(config_.text("interpolation", "bilinear"));
  geometry_.fill_value = static_cast<float>(config_.number("fill_value", 0.0));
  if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
      "channels_last")
    throw not_implemented(kind() + " supports data_format='channels_last' only");
}

Shape RandomAffine::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 3)
    throw std::invalid_argument(kind() + " expects images (batch, height, width, channels), "
                                "got per-sample shape " + shape_str(in));
  geometry_.height = in[0];
  geometry_.width = in[1];
  geometry_.channels = in[2];
  return in;
}

void RandomAffine::prepare(int64_t batch) {
  batch_ = batch;
  maps_.resize(checked_mul(batch, 6, "the transforms"));
}

void RandomAffine::forward(const Sources& src, float* dst, const ForwardMode& mode) {
  const int64_t size = shape_size(input());
  transformed_ = mode.training;
  if (!transformed_) {
    if (src[0] != dst) std::memcpy(dst, src[0], batch_ * size * sizeof(float));
    return;
  }
  for (int64_t n = 0; n < batch_; ++n) draw(n, maps_.data() + 6 * n);
#pragma omp parallel for schedule(static) if (batch_ * size > 16384)
  for (int64_t n = 0; n < batch_; ++n)
    affine_forward(src[0] + n * size, dst + n * size, maps_.data() + 6 * n, geometry_);
}

void RandomAffine::backward(const Sources&, const float*, float* diff_dst,
                            const SourceGrads& diff_srcs) {
  float* dx = diff_srcs[0];
  if (!dx) return;
  const int64_t size = shape_size(input());
  if (!transformed_) {
    if (dx != diff_dst) std::memcpy(dx, diff_dst, batch_ * size * sizeof(float));
    return;
  }
  // One image per thread: each image's gradient is summed in one fixed order.
#pragma omp parallel for schedule(static) if (batch_ * size > 16384)
  for (int64_t n = 0; n < batch_; ++n)
    affine_backward(diff_dst + n * size, dx + n * size, maps_.data() + 6 * n, geometry_);
}

// --- RandomRotation ---------------------------------------------------------------
RandomRotation::RandomRotation(Config config) : RandomAffine(std::move(config)) {
  const auto [lower, upper] = base_factor(config_, "factor", -1.0, 1.0);
  // Keras: uniform(minval=lower * 360.0, maxval=upper * 360.0), cast to float32
  lower_deg_ = static_cast<float>(lower * 360.0);
  upper_deg_ = static_cast<float>(upper * 360.0);
}

// BaseImagePreprocessingLayer._compute_affine_matrix with no translation,
// shear or scaling, in float32 and in Keras's order of operations.
void RandomRotation::draw(int64_t n, float* m) const {
  const float angle = between(lower_deg_, upper_deg_, uniform(counter(n, 0)));
  const float rad = angle * static_cast<float>(M_PI / 180.0);
  const float cx = 0.5f * (width() - 1.f), cy = 0.5f * (height() - 1.f);
  const float c = std::cos(rad), s = std::sin(rad);
  m[0] = c;
  m[1] = -s;
  m[2] = cx - cx * m[0] - cy * m[1];
  m[3] = s;
  m[4] = c;
  m[5] = cy - cx * m[3] - cy * m[4];
}

// --- RandomZoom and RandomTranslation's factors -------------------------------------
// A number f means (-|f|, |f|); a pair is sorted; each value must be in
// `range` (Keras's messages).
static std::pair<double, double> signed_factor(Config& config, const std::string& key,
                                               const std::string& error, bool open_below) {
  const std::vector<double> f = number_or_tuple(config, key, error);
  const bool tuple = std::holds_alternative<std::vector<double>>(config.values().at(key));
  if (tuple && f.size() != 2)
    throw std::invalid_argument(error + "Received: " + key + "=" +
                                python_repr(config.values().at(key)));
  for (double v : f)
    if (v > 1.0 || (open_below ? v <= -1.0 : v < -1.0))
      throw std::invalid_argument(error + "Received: input_number=" +
                                  python_repr(ConfigValue(v)));
  if (!tuple) return {-std::fabs(f[0]), std::fabs(f[0])};
  return {std::min(f[0], f[1]), std::max(f[0], f[1])};
}

RandomZoom::RandomZoom(Config config) : RandomAffine(std::move(config)) {
  const std::string error = "The `height_factor` and `width_factor` arguments should be a "
                            "number (or a list of two numbers) in the range (-1.0, 1.0]. ";
  const auto [hl, hu] = signed_factor(config_, "height_factor", error, true);
  h_min_ = static_cast<float>(1.0 + hl);  // Keras: uniform(1.0 + lower, 1.0 + upper)
  h_max_ = static_cast<float>(1.0 + hu);
  same_zoom_ = !config_.has("width_factor");
  if (same_zoom_) {
    config_.none_only("width_factor", "");
    w_min_ = h_min_;
    w_max_ = h_max_;
  } else {
    const auto [wl, wu] = signed_factor(config_, "width_factor", error, true);
    w_min_ = static_cast<float>(1.0 + wl);
    w_max_ = static_cast<float>(1.0 + wu);
  }
}

// RandomZoom._get_zoom_matrix: [zx, 0, (W - 1) / 2 * (1 - zx), 0, zy, (H - 1) / 2 * (1 - zy)].
void RandomZoom::draw(int64_t n, float* m) const {
  const float zy = between(h_min_, h_max_, uniform(counter(n, 0)));
  const float zx = same_zoom_ ? zy : between(w_min_, w_max_, uniform(counter(n, 1)));
  m[0] = zx;
  m[1] = 0.f;
  m[2] = ((width() - 1.f) / 2.f) * (1.f - zx);
  m[3] = 0.f;
  m[4] = zy;
  m[5] = ((height() - 1.f) / 2.f) * (1.f - zy);
}

RandomTranslation::RandomTranslation(Config config) : RandomAffine(std::move(config)) {
  const std::string error = "The `factor` argument should be a number (or a list of two "
                            "numbers) in the range [-1.0, 1.0]. ";
  const auto [hl, hu] = signed_factor(config_, "height_factor", error, false);
  const auto [wl, wu] = signed_factor(config_, "width_factor", error, false);
  h_lower_ = static_cast<float>(hl);
  h_upper_ = static_cast<float>(hu);
  w_lower_ = static_cast<float>(wl);
  w_upper_ = static_cast<float>(wu);
}

// RandomTranslation._get_translation_matrix: [1, 0, -tx, 0, 1, -ty], the
// shifts being fractions of the size (height drawn first, as Keras).
void RandomTranslation::draw(int64_t n, float* m) const {
  const float ty = between(h_lower_, h_upper_, uniform(counter(n, 0))) * height();
  const float tx = between(w_lower_, w_upper_, uniform(counter(n, 1))) * width();
  m[0] = 1.f;
  m[1] = 0.f;
  m[2] = -tx;
  m[3] = 0.f;
  m[4] = 1.f;
  m[5] = -ty;
}

}  // namespace fmnistcpp
