// The arguments a layer, loss or optimizer is made from, under Keras's
// names, as Python passes them. C++ owns their checks: each getter checks
// the type and range, throws std::invalid_argument in Keras's words naming
// the owner ("Conv2D filters must be a positive integer, got 0"), and
// stores the normalised value back (kernel_size=3 becomes [3, 3]), so the
// config a layer reports is exactly what the engine uses.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace fmnistcpp {

// A Python value the engine has no type for (a dict, an object): only its
// repr travels, for the error message.
struct OpaqueValue {
  std::string repr;
};

// A tuple of int tuples (ZeroPadding2D's ((top, bottom), (left, right))).
using IntTuples = std::vector<std::vector<int64_t>>;

using ConfigValue = std::variant<std::monostate, bool, int64_t, double, std::string,
                                 std::vector<int64_t>, std::vector<double>, OpaqueValue,
                                 IntTuples>;

// Python's repr of a value, for messages: 'same', 2.5, True, None, (3, 3).
std::string python_repr(const ConfigValue& v);

// Raised for Keras features the engine does not implement; Python sees
// NotImplementedError.
class not_implemented : public std::logic_error {
 public:
  using std::logic_error::logic_error;
};

class Config {
 public:
  using Values = std::map<std::string, ConfigValue>;

  Config() = default;
  Config(std::string owner, Values values) : owner_(std::move(owner)), values_(std::move(values)) {}

  const std::string& owner() const { return owner_; }
  const Values& values() const { return values_; }
  bool has(const std::string& key) const;

  // Required and defaulted getters; the default is stored when the key is
  // missing, so config() lists every argument the engine read.
  int64_t integer(const std::string& key);
  int64_t integer(const std::string& key, int64_t fallback);
  int64_t positive_int(const std::string& key);
  int64_t positive_int(const std::string& key, int64_t fallback);
  double number(const std::string& key);
  double number(const std::string& key, double fallback);
  bool flag(const std::string& key, bool fallback);
  std::string text(const std::string& key, const std::string& fallback);
  // One of `choices` (compared lower-case; the lower-case form is stored).
  std::string choice(const std::string& key, const std::vector<std::string>& choices,
                     const std::string& fallback);
  // An int or a tuple of n positive ints ("kernel_size", "strides").
  std::vector<int64_t> positive_tuple(const std::string& key, size_t n,
                                      const std::vector<int64_t>& fallback);
  // An int or a tuple of n ints, each >= min ("output_padding": min 0);
  // None (or a missing key) gives nullopt, stored as None.
  std::optional<std::vector<int64_t>> optional_tuple(const std::string& key, size_t n,
                                                     int64_t min);
  // Keras's 2-D padding / cropping forms: an int (every side), a tuple of n
  // ints (symmetric per axis) or n tuples of 2 ints ((before, after) per
  // axis), all >= 0. Stored as the n (before, after) pairs.
  IntTuples int_pairs(const std::string& key, size_t n, const IntTuples& fallback);
  // A tuple of positive ints of any length ("target_shape"); with
  // allow_unknown, one entry may be -1 (inferred, as Keras's Reshape).
  std::vector<int64_t> shape(const std::string& key, bool allow_unknown = false);
  std::vector<double> numbers(const std::string& key, const std::vector<double>& fallback);

  // An integer or None ("seed").
  std::optional<int64_t> optional_integer(const std::string& key);
  // A number or None ("max_value").
  std::optional<double> optional_number(const std::string& key);
  // An argument only None is supported for: throws not_implemented(message)
  // when it is set.
  void none_only(const std::string& key, const std::string& message);

  void set(const std::string& key, ConfigValue v) { values_[key] = std::move(v); }
  // Throws for keys no getter read: Python passed an argument the engine
  // would silently ignore.
  void check_all_read() const;

 private:
  [[noreturn]] void fail(const std::string& key, const std::string& expected) const;
  const ConfigValue* find(const std::string& key);

  std::string owner_;
  Values values_;
  std::set<std::string> read_;
};

}  // namespace fmnistcpp
