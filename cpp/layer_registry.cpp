#include "layer_registry.hpp"

#include <map>
#include <stdexcept>

namespace fmnistcpp {

// A function-local static: registrations run from other files' static
// initialisers, in an order the language does not fix.
static std::map<std::string, LayerFactory>& registry() {
  static std::map<std::string, LayerFactory> factories;
  return factories;
}

void register_layer(const std::string& kind, LayerFactory factory) {
  if (!registry().emplace(kind, factory).second)
    throw std::logic_error("layer " + kind + " registered twice");
}

LayerPtr make_layer(const std::string& kind, Config::Values args) {
  auto it = registry().find(kind);
  if (it == registry().end()) {
    std::string known;
    for (const auto& k : layer_kinds()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument("the engine has no layer '" + kind + "'; it has: " + known);
  }
  LayerPtr layer = it->second(Config(kind, std::move(args)));
  layer->config().check_all_read();
  return layer;
}

std::vector<std::string> layer_kinds() {
  std::vector<std::string> kinds;
  for (const auto& [k, f] : registry()) kinds.push_back(k);
  return kinds;
}

}  // namespace fmnistcpp
