#include "activation_layer.hpp"

#include "layer_registry.hpp"

#include <cstring>

namespace fmnistcpp {

static RegisterLayer<ActivationLayer> registered_activation("Activation");
static RegisterLayer<ActivationLayer> registered_softmax("Softmax");
static RegisterLayer<ActivationLayer> registered_relu("ReLU");
static RegisterLayer<ActivationLayer> registered_leaky_relu("LeakyReLU");
static RegisterLayer<ActivationLayer> registered_elu("ELU");

static double non_negative(Config& config, const std::string& key, double fallback) {
  const double v = config.number(key, fallback);
  if (!(v >= 0.0))
    throw std::invalid_argument(key + " of a " + config.owner() +
                                " layer cannot be None or a negative value; got " +
                                python_repr(ConfigValue(v)));
  return v;
}

// keras/src/layers/activations/*.py: the arguments and the checks each
// layer's __init__ makes.
ActivationOp ActivationLayer::op_of(Config& config) {
  const std::string& kind = config.owner();
  if (kind == "Softmax") return ActivationOp(Activation::softmax);
  ActivationArgs a;
  if (kind == "ReLU") {
    a.max_value = config.optional_number("max_value");
    if (a.max_value && !(*a.max_value >= 0.0))
      throw std::invalid_argument("max_value of a ReLU layer cannot be a negative value; got " +
                                  python_repr(ConfigValue(*a.max_value)));
    a.negative_slope = non_negative(config, "negative_slope", 0.0);
    a.threshold = non_negative(config, "threshold", 0.0);
    return ActivationOp(Activation::relu, a);
  }
  if (kind == "LeakyReLU") {
    a.negative_slope = non_negative(config, "negative_slope", 0.3);
    return ActivationOp(Activation::leaky_relu, a);
  }
  if (kind == "ELU") {
    a.alpha = config.number("alpha", 1.0);
    return ActivationOp(Activation::elu, a);
  }
  return ActivationOp(parse_activation(config.text("activation", "linear")));
}

ActivationLayer::ActivationLayer(Config config) : Layer(std::move(config)), op_(op_of(config_)) {
  if (kind() != "Softmax") return;
  // Keras takes an int or a list of axes; one axis is a softmax. (The list
  // stays in the config as given, as Keras's get_config reports it.)
  auto it = config_.values().find("axis");
  if (it != config_.values().end() && std::holds_alternative<std::vector<int64_t>>(it->second)) {
    const auto axes = std::get<std::vector<int64_t>>(it->second);
    if (axes.size() != 1)
      throw not_implemented("Softmax over several axes at once is not supported; give one axis");
    config_.numbers("axis", {});  // read
    config_.set("axis", axes);
    axis_ = axes[0];
    return;
  }
  axis_ = config_.integer("axis", -1);
}

Shape ActivationLayer::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  const int64_t rank = static_cast<int64_t>(in.size()) + 1;  // with the batch axis
  if (axis_ < -rank || axis_ >= rank)
    throw std::invalid_argument("Softmax axis " + std::to_string(axis_) +
                                " is out of range for inputs of shape (None, " +
                                shape_str(in).substr(1));
  const int64_t axis = axis_ < 0 ? axis_ + rank : axis_;
  if (axis == 0)
    throw not_implemented("Softmax over the batch axis (axis=0) is not supported");
  axis_ = axis == rank - 1 ? -1 : axis;
  return in;
}

void ActivationLayer::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  // (batch, *shape) in row-major order: Keras's channels-last layout, so
  // Keras's axis numbers are oneDNN's.
  const Shape& in = input();
  Dims dims{batch};
  dims.insert(dims.end(), in.begin(), in.end());
  Dims strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
  const int axis = static_cast<int>(axis_ == -1 ? dims.size() - 1 : axis_);
  op_.prepare(dnnl::memory::desc(dims, DataType::f32, strides), axis);
}

void ActivationLayer::forward(const Sources& src, float* dst, const ForwardMode&) {
  if (emit_logits_) {
    std::memcpy(dst, src[0], batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  op_.forward(src[0], dst);
}

void ActivationLayer::backward(const Sources& src, const float* dst, float* diff_dst,
                               const SourceGrads& diff_src) {
  if (!diff_src[0]) return;
  if (emit_logits_) {
    if (diff_src[0] != diff_dst)
      std::memcpy(diff_src[0], diff_dst, batch_ * shape_size(input()) * sizeof(float));
    return;
  }
  op_.backward(src[0], dst, diff_dst, diff_src[0]);
}

}  // namespace fmnistcpp
