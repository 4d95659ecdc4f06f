#include "random_layer.hpp"

#include <algorithm>
#include <stdexcept>

namespace fmnistcpp {

std::vector<double> number_or_tuple(Config& config, const std::string& key,
                                    const std::string& error) {
  auto it = config.values().find(key);
  if (it == config.values().end()) throw std::invalid_argument(error + "Received: nothing");
  const ConfigValue& v = it->second;
  const std::string got = python_repr(v);
  if (std::holds_alternative<double>(v) || std::holds_alternative<int64_t>(v))
    return {config.number(key)};
  if (std::holds_alternative<std::vector<double>>(v) ||
      std::holds_alternative<std::vector<int64_t>>(v))
    return config.numbers(key, {});
  throw std::invalid_argument(error + "Received: " + key + "=" + got);
}

std::pair<double, double> base_factor(Config& config, const std::string& key, double lo,
                                      double hi) {
  auto bound = [](double b) { return python_repr(ConfigValue(static_cast<int64_t>(b))); };
  const std::string error = "The `" + key + "` argument should be a number (or a list of two "
                            "numbers) in the range [" + bound(lo) + ", " + bound(hi) + "]. ";
  const std::string given = config.values().count(key) ? python_repr(config.values().at(key))
                                                       : "nothing";
  std::vector<double> f = number_or_tuple(config, key, error);
  double lower, upper;
  if (config.values().count(key) &&
      (std::holds_alternative<std::vector<double>>(config.values().at(key)))) {
    if (f.size() != 2 || f[0] > hi || f[1] < lo)
      throw std::invalid_argument(error + "Received: " + key + "=" + given);
    lower = std::min(f[0], f[1]);
    upper = std::max(f[0], f[1]);
  } else {
    if (f[0] < lo || f[0] > hi)
      throw std::invalid_argument(error + "Received: " + key + "=" + given);
    upper = std::fabs(f[0]);
    lower = std::max(-upper, lo);
  }
  config.set(key, std::vector<double>{lower, upper});
  return {lower, upper};
}

}  // namespace fmnistcpp
