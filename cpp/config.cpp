#include "config.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>

namespace fmnistcpp {

static std::string float_repr(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof(buf), d);  // shortest round-trip, as Python
  std::string s(buf, res.ptr);
  if (s.find_first_of(".e") == std::string::npos) s += ".0";
  return s;
}

template <class T>
static std::string tuple_repr(const std::vector<T>& v) {
  std::string s = "(";
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) s += ", ";
    if constexpr (std::is_same_v<T, double>) {
      s += float_repr(v[i]);
    } else {
      s += std::to_string(v[i]);
    }
  }
  return s + (v.size() == 1 ? ",)" : ")");
}

std::string python_repr(const ConfigValue& v) {
  struct Repr {
    std::string operator()(std::monostate) const { return "None"; }
    std::string operator()(bool b) const { return b ? "True" : "False"; }
    std::string operator()(int64_t i) const { return std::to_string(i); }
    std::string operator()(double d) const { return float_repr(d); }
    std::string operator()(const std::string& s) const { return "'" + s + "'"; }
    std::string operator()(const std::vector<int64_t>& t) const { return tuple_repr(t); }
    std::string operator()(const std::vector<double>& t) const { return tuple_repr(t); }
    std::string operator()(const OpaqueValue& o) const { return o.repr; }
    std::string operator()(const IntTuples& t) const {
      std::string s = "(";
      for (size_t i = 0; i < t.size(); ++i) s += (i ? ", " : "") + tuple_repr(t[i]);
      return s + (t.size() == 1 ? ",)" : ")");
    }
  };
  return std::visit(Repr{}, v);
}

bool Config::has(const std::string& key) const {
  auto it = values_.find(key);
  return it != values_.end() && !std::holds_alternative<std::monostate>(it->second);
}

const ConfigValue* Config::find(const std::string& key) {
  read_.insert(key);
  auto it = values_.find(key);
  if (it == values_.end() || std::holds_alternative<std::monostate>(it->second)) return nullptr;
  return &it->second;
}

void Config::fail(const std::string& key, const std::string& expected) const {
  auto it = values_.find(key);
  const std::string got = it == values_.end() ? "nothing" : python_repr(it->second);
  throw std::invalid_argument(owner_ + " " + key + " must be " + expected + ", got " + got);
}

int64_t Config::integer(const std::string& key) {
  const ConfigValue* v = find(key);
  if (v && std::holds_alternative<int64_t>(*v)) return std::get<int64_t>(*v);
  fail(key, "an integer");
}

int64_t Config::integer(const std::string& key, int64_t fallback) {
  if (!find(key)) set(key, fallback);
  return integer(key);
}

int64_t Config::positive_int(const std::string& key) {
  const ConfigValue* v = find(key);
  if (v && std::holds_alternative<int64_t>(*v) && std::get<int64_t>(*v) > 0)
    return std::get<int64_t>(*v);
  fail(key, "a positive integer");
}

int64_t Config::positive_int(const std::string& key, int64_t fallback) {
  if (!find(key)) set(key, fallback);
  return positive_int(key);
}

double Config::number(const std::string& key) {
  const ConfigValue* v = find(key);
  if (v && std::holds_alternative<double>(*v)) return std::get<double>(*v);
  if (v && std::holds_alternative<int64_t>(*v)) {
    const double d = static_cast<double>(std::get<int64_t>(*v));
    set(key, d);
    return d;
  }
  fail(key, "a number");
}

double Config::number(const std::string& key, double fallback) {
  if (!find(key)) set(key, fallback);
  return number(key);
}

bool Config::flag(const std::string& key, bool fallback) {
  const ConfigValue* v = find(key);
  if (!v) {
    set(key, fallback);
    return fallback;
  }
  if (std::holds_alternative<bool>(*v)) return std::get<bool>(*v);
  fail(key, "True or False");
}

std::string Config::text(const std::string& key, const std::string& fallback) {
  const ConfigValue* v = find(key);
  if (!v) {
    set(key, fallback);
    return fallback;
  }
  if (std::holds_alternative<std::string>(*v)) return std::get<std::string>(*v);
  fail(key, "a string");
}

std::string Config::choice(const std::string& key, const std::vector<std::string>& choices,
                           const std::string& fallback) {
  const ConfigValue* v = find(key);
  std::string s = fallback;
  if (v) {
    if (!std::holds_alternative<std::string>(*v)) s.clear();
    else s = std::get<std::string>(*v);
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  }
  if (std::find(choices.begin(), choices.end(), s) != choices.end()) {
    set(key, s);
    return s;
  }
  std::string expected;
  for (size_t i = 0; i < choices.size(); ++i)
    expected += (i ? (i + 1 == choices.size() ? " or '" : ", '") : "'") + choices[i] + "'";
  fail(key, expected);
}

std::vector<int64_t> Config::positive_tuple(const std::string& key, size_t n,
                                            const std::vector<int64_t>& fallback) {
  const ConfigValue* v = find(key);
  std::vector<int64_t> out;
  if (!v) {
    out = fallback;
  } else if (std::holds_alternative<int64_t>(*v)) {
    out.assign(n, std::get<int64_t>(*v));
  } else if (std::holds_alternative<std::vector<int64_t>>(*v)) {
    out = std::get<std::vector<int64_t>>(*v);
  }
  const bool ok = out.size() == n &&
                  std::all_of(out.begin(), out.end(), [](int64_t d) { return d > 0; });
  if (!ok) {
    if (v && (std::holds_alternative<int64_t>(*v) ||
              std::holds_alternative<std::vector<int64_t>>(*v)) && out.size() == n)
      fail(key, "positive (an int or a tuple of " + std::to_string(n) + " positive ints)");
    fail(key, "an int or a tuple of " + std::to_string(n) + " ints");
  }
  set(key, out);
  return out;
}

std::optional<std::vector<int64_t>> Config::optional_tuple(const std::string& key, size_t n,
                                                           int64_t min) {
  const ConfigValue* v = find(key);
  if (!v) {
    set(key, std::monostate{});
    return std::nullopt;
  }
  std::vector<int64_t> out;
  if (std::holds_alternative<int64_t>(*v)) out.assign(n, std::get<int64_t>(*v));
  else if (std::holds_alternative<std::vector<int64_t>>(*v))
    out = std::get<std::vector<int64_t>>(*v);
  const bool ok = out.size() == n &&
                  std::all_of(out.begin(), out.end(), [&](int64_t d) { return d >= min; });
  if (!ok)
    fail(key, "None, an int or a tuple of " + std::to_string(n) + " ints, each >= " +
                  std::to_string(min));
  set(key, out);
  return out;
}

IntTuples Config::int_pairs(const std::string& key, size_t n, const IntTuples& fallback) {
  const ConfigValue* v = find(key);
  IntTuples out;
  if (!v) {
    out = fallback;
  } else if (std::holds_alternative<int64_t>(*v)) {
    out.assign(n, std::vector<int64_t>(2, std::get<int64_t>(*v)));
  } else if (std::holds_alternative<std::vector<int64_t>>(*v)) {
    for (int64_t d : std::get<std::vector<int64_t>>(*v)) out.push_back({d, d});
  } else if (std::holds_alternative<IntTuples>(*v)) {
    out = std::get<IntTuples>(*v);
  }
  const bool ok = out.size() == n && std::all_of(out.begin(), out.end(), [](const auto& p) {
                    return p.size() == 2 && p[0] >= 0 && p[1] >= 0;
                  });
  if (!ok) {
    const std::string axes = std::to_string(n);
    fail(key, "an int, a tuple of " + axes + " ints or a tuple of " + axes +
                  " tuples of 2 ints ((before, after) per axis), all >= 0");
  }
  set(key, out);
  return out;
}

std::vector<int64_t> Config::shape(const std::string& key, bool allow_unknown) {
  const ConfigValue* v = find(key);
  if (v && std::holds_alternative<std::vector<int64_t>>(*v)) {
    const auto& s = std::get<std::vector<int64_t>>(*v);
    const auto unknown = std::count(s.begin(), s.end(), int64_t(-1));
    const bool dims_ok = std::all_of(s.begin(), s.end(), [&](int64_t d) {
      return d > 0 || (allow_unknown && d == -1);
    });
    if (!s.empty() && dims_ok && unknown <= 1) return s;
  }
  fail(key, allow_unknown ? "a tuple of positive ints (one may be -1)" : "a tuple of positive ints");
}

std::vector<double> Config::numbers(const std::string& key, const std::vector<double>& fallback) {
  const ConfigValue* v = find(key);
  std::vector<double> out = fallback;
  if (v) {
    if (std::holds_alternative<std::vector<double>>(*v)) {
      out = std::get<std::vector<double>>(*v);
    } else if (std::holds_alternative<std::vector<int64_t>>(*v)) {
      const auto& ints = std::get<std::vector<int64_t>>(*v);
      out.assign(ints.begin(), ints.end());
    } else if (std::holds_alternative<double>(*v) || std::holds_alternative<int64_t>(*v)) {
      out = {number(key)};
    } else {
      fail(key, "a number or a tuple of numbers");
    }
  }
  set(key, out);
  return out;
}

std::optional<int64_t> Config::optional_integer(const std::string& key) {
  const ConfigValue* v = find(key);
  if (!v) {
    set(key, std::monostate{});
    return std::nullopt;
  }
  if (std::holds_alternative<int64_t>(*v)) return std::get<int64_t>(*v);
  fail(key, "an integer or None");
}

std::optional<double> Config::optional_number(const std::string& key) {
  if (!find(key)) {
    set(key, std::monostate{});
    return std::nullopt;
  }
  return number(key);
}

void Config::none_only(const std::string& key, const std::string& message) {
  if (find(key)) throw not_implemented(message);
  set(key, std::monostate{});
}

void Config::check_all_read() const {
  for (const auto& [key, value] : values_)
    if (!read_.count(key))
      throw std::invalid_argument(owner_ + " got an argument the engine does not use: " + key +
                                  "=" + python_repr(value));
}

}  // namespace fmnistcpp
