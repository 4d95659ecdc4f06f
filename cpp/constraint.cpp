#include "constraint.hpp"

#include "param.hpp"

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

namespace fmnistcpp {

void set_constraint(Param& p, const std::string& kind, double min_value, double max_value,
                    double rate, const std::vector<int64_t>& axes) {
  Constraint c;
  if (kind.empty()) {
    p.constraint = c;
    return;
  }
  if (kind == "MaxNorm") c.kind = Constraint::max_norm;
  else if (kind == "UnitNorm") c.kind = Constraint::unit_norm;
  else if (kind == "MinMaxNorm") c.kind = Constraint::min_max_norm;
  else if (kind == "NonNeg") c.kind = Constraint::non_neg;
  else throw std::invalid_argument("the engine has no constraint '" + kind + "'");
  for (double v : {min_value, max_value, rate})
    if (!std::isfinite(v)) throw std::invalid_argument(kind + " arguments must be finite");
  if (c.kind == Constraint::max_norm && !(max_value >= 0))
    throw std::invalid_argument("MaxNorm max_value must be >= 0, got " + std::to_string(max_value));
  if (c.kind == Constraint::min_max_norm && !(min_value <= max_value))
    throw std::invalid_argument("MinMaxNorm min_value must be <= max_value, got " +
                                std::to_string(min_value) + " > " + std::to_string(max_value));
  c.min_value = static_cast<float>(min_value);
  c.max_value = static_cast<float>(max_value);
  c.rate = static_cast<float>(rate);
  c.one_minus_rate = static_cast<float>(1.0 - rate);  // Keras: (1 - self.rate), in Python
  if (c.kind != Constraint::non_neg) {
    const int64_t rank = static_cast<int64_t>(p.shape.size());
    std::set<int64_t> reduce;
    for (int64_t a : axes) {
      if (a < -rank || a >= rank)
        throw std::invalid_argument(kind + " axis " + std::to_string(a) +
                                    " is out of range for the weight '" + p.name +
                                    "' of rank " + std::to_string(rank));
      reduce.insert(a < 0 ? a + rank : a);
    }
    // Each element's norm: its coordinates on the axes not reduced, in C order.
    c.group.assign(p.size(), 0);
    c.groups = 1;
    for (int64_t d = 0; d < rank; ++d)
      if (!reduce.count(d)) c.groups *= p.shape[d];
    for (int64_t e = 0; e < p.size(); ++e) {
      int64_t rest = e, index = 0, stride = 1;
      for (int64_t d = rank - 1; d >= 0; --d) {
        const int64_t coord = rest % p.shape[d];
        rest /= p.shape[d];
        if (!reduce.count(d)) {
          index += coord * stride;
          stride *= p.shape[d];
        }
      }
      c.group[e] = index;
    }
  }
  p.constraint = std::move(c);
}

void apply_constraint(Param& p) {
  const Constraint& c = p.constraint;
  if (c.kind == Constraint::none) return;
  float* w = p.value.data();
  const int64_t n = p.size();
  if (c.kind == Constraint::non_neg) {
    for (int64_t i = 0; i < n; ++i) w[i] = std::max(w[i], 0.f);
    ++p.version;
    return;
  }
  std::vector<double> sq(c.groups, 0.0);
  for (int64_t i = 0; i < n; ++i) sq[c.group[i]] += double(w[i]) * w[i];
  // Per norm: the denominator and what multiplies it away (Keras's order:
  // w * (desired / (eps + norm)), and w / (eps + norm) for UnitNorm).
  std::vector<float> denom(c.groups), factor(c.groups);
  for (int64_t g = 0; g < c.groups; ++g) {
    const float norm = static_cast<float>(std::sqrt(sq[g]));
    denom[g] = 1e-7f + norm;  // backend.epsilon() + norms
    if (c.kind == Constraint::max_norm)
      factor[g] = std::clamp(norm, 0.f, c.max_value) / denom[g];
    else if (c.kind == Constraint::min_max_norm)
      factor[g] = (c.rate * std::clamp(norm, c.min_value, c.max_value) +
                   c.one_minus_rate * norm) / denom[g];
  }
  if (c.kind == Constraint::unit_norm) {
    for (int64_t i = 0; i < n; ++i) w[i] = w[i] / denom[c.group[i]];
  } else {
    for (int64_t i = 0; i < n; ++i) w[i] *= factor[c.group[i]];
  }
  ++p.version;
}

}  // namespace fmnistcpp
