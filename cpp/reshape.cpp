#include "reshape.hpp"

#include "layer_registry.hpp"

#include <algorithm>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<Reshape> registered_flatten("Flatten");
static RegisterLayer<Reshape> registered_reshape("Reshape");

Reshape::Reshape(Config config) : Layer(std::move(config)), flatten_(kind() == "Flatten") {
  if (flatten_) {
    if (config_.choice("data_format", {"channels_last", "channels_first"}, "channels_last") !=
        "channels_last")
      throw not_implemented("Flatten supports data_format='channels_last' only");
    return;
  }
  target_ = config_.shape("target_shape", /*allow_unknown=*/true);
}

Shape Reshape::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  const int64_t size = shape_size(in);
  if (flatten_) return {size};
  Shape out = target_;
  auto unknown = std::find(out.begin(), out.end(), int64_t(-1));
  if (unknown != out.end()) {
    *unknown = 1;
    const int64_t known = shape_size(out);
    if (size % known != 0)
      throw std::invalid_argument("Reshape: the input " + shape_str(in) +
                                  " cannot be reshaped to " + shape_str(target_));
    *unknown = size / known;
  }
  if (shape_size(out) != size)
    throw std::invalid_argument("Reshape: total size of the new shape " + shape_str(target_) +
                                " must equal that of the input " + shape_str(in));
  return out;
}

}  // namespace fmnistcpp
