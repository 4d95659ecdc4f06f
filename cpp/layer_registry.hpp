// Layers by Keras class name, so Python asks for "Conv2D" with Keras's
// arguments and each C++ layer registers itself in its own file.
#pragma once

#include "layer.hpp"

#include <string>
#include <vector>

namespace fmnistcpp {

using LayerFactory = LayerPtr (*)(Config&&);

void register_layer(const std::string& kind, LayerFactory factory);
// Constructs the layer from Keras's arguments; throws std::invalid_argument
// for an unknown kind, a bad argument or an argument the layer does not read.
LayerPtr make_layer(const std::string& kind, Config::Values args);
std::vector<std::string> layer_kinds();

// `static RegisterLayer<Dense> registered("Dense");` in the layer's .cpp.
template <class L>
struct RegisterLayer {
  explicit RegisterLayer(const char* kind) {
    register_layer(kind, [](Config&& c) -> LayerPtr { return std::make_shared<L>(std::move(c)); });
  }
};

}  // namespace fmnistcpp
