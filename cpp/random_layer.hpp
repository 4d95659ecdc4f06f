// What every layer that draws random numbers in training shares (the noise
// layers, the augmentation layers): Keras's `seed` argument mixed into the
// seed the network gives per batch and node, and the draws themselves,
// counter-based, so a batch is the same whatever the thread count and a
// seeded run is reproducible (see cpp/random.hpp, cpp/dropout.cpp).
#pragma once

#include "layer.hpp"
#include "random.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>

namespace fmnistcpp {

// A standard normal from two counter-based uniforms (Box-Muller). u1 has 53
// random bits and is never 0, so the tails reach about 8.5 sigma.
inline float standard_normal(uint64_t seed, uint64_t counter) {
  const uint64_t a = mix64(seed ^ mix64(2 * counter));
  const uint64_t b = mix64(seed ^ mix64(2 * counter + 1));
  const double u1 = (static_cast<double>(a >> 11) + 0.5) * (1.0 / 9007199254740992.0);
  const double u2 = static_cast<double>(b >> 11) * (1.0 / 9007199254740992.0);
  return static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2));
}

// A Keras factor argument: a number (one value) or a tuple (its values),
// left in the config as given. Throws `error` for anything else.
std::vector<double> number_or_tuple(Config& config, const std::string& key,
                                    const std::string& error);

// Keras's BaseImagePreprocessingLayer._set_factor with bounds [lo, hi]: a
// number f in [lo, hi] means (max(-|f|, lo), |f|); a pair must overlap
// [lo, hi] and is sorted. The config then holds the (lower, upper) pair.
std::pair<double, double> base_factor(Config& config, const std::string& key, double lo,
                                      double hi);

class RandomLayer : public Layer {
 public:
  // Reads Keras's `seed` (an integer or None).
  explicit RandomLayer(Config config) : Layer(std::move(config)) {
    if (auto seed = config_.optional_integer("seed"))
      user_seed_ = mix64(static_cast<uint64_t>(*seed));
  }
  void set_seed(uint64_t seed) override { seed_ = seed ^ user_seed_; }

 protected:
  // Uniform in [0, 1) for draw `counter` of this batch.
  float uniform(uint64_t counter) const { return uniform01(seed_, counter); }
  float normal(uint64_t counter) const { return standard_normal(seed_, counter); }

  uint64_t seed_ = 0;

 private:
  uint64_t user_seed_ = 0;
};

}  // namespace fmnistcpp
