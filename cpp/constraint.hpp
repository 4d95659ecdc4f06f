// Keras's weight constraints (keras/src/constraints/constraints.py), which
// the optimizer applies to a variable after each step
// (BaseOptimizer.apply: `variable.assign(variable.constraint(variable))`):
//   MaxNorm:    w * clip(norm, 0, max) / (eps + norm)
//   UnitNorm:   w / (eps + norm)
//   MinMaxNorm: w * (rate * clip(norm, min, max) + (1 - rate) * norm) / (eps + norm)
//   NonNeg:     max(w, 0)
// with norm the L2 norm over `axes` (kept as size-1 axes) and eps = 1e-7.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace fmnistcpp {

struct Param;

struct Constraint {
  enum Kind { none, max_norm, unit_norm, min_max_norm, non_neg } kind = none;
  float min_value = 0.f, max_value = 0.f, rate = 1.f, one_minus_rate = 0.f;
  std::vector<int64_t> group;  // per element: its norm's index (the non-reduced coordinates)
  int64_t groups = 0;
};

// Sets p's constraint from Keras's class name and arguments; axes may be
// negative. Throws std::invalid_argument for a bad name, axis or value.
void set_constraint(Param& p, const std::string& kind, double min_value, double max_value,
                    double rate, const std::vector<int64_t>& axes);
// Applies p's constraint to its value (bumping its version), if it has one.
void apply_constraint(Param& p);

}  // namespace fmnistcpp
