#include "layer.hpp"

#include <unistd.h>

#include <limits>
#include <sstream>
#include <stdexcept>

namespace fmnistcpp {

std::string shape_str(const Shape& s) {
  std::ostringstream o;
  o << "(";
  for (size_t i = 0; i < s.size(); ++i) o << (i ? ", " : "") << s[i];
  if (s.size() == 1) o << ",";
  o << ")";
  return o.str();
}

// A parameter (value and gradient) larger than the machine's memory is
// refused before anything is allocated: a hostile or mistaken config
// (Dense(10**9) in a model file) must fail with a message, not end in the
// kernel's out-of-memory killer once the zeros are written.
static void check_fits_in_memory(const std::string& name, const std::vector<int64_t>& shape,
                                 int64_t size) {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page <= 0) return;
  const double need = 2.0 * 4.0 * static_cast<double>(size);
  const double have = static_cast<double>(pages) * static_cast<double>(page);
  if (need > have)
    throw std::invalid_argument("the variable " + name + " of shape " + shape_str(shape) +
                                " needs " + std::to_string(static_cast<int64_t>(need / 1e9)) +
                                " GB, more than this machine's " +
                                std::to_string(static_cast<int64_t>(have / 1e9)) + " GB of memory");
}

Param::Param(std::string n, std::vector<int64_t> s, bool is_trainable)
    : name(std::move(n)), shape(std::move(s)), trainable(is_trainable) {
  const int64_t size = shape_size(shape);
  check_fits_in_memory(name, shape, size);
  value.assign(size, 0.f);
  grad.assign(size, 0.f);
}

Shape Layer::build(const std::vector<Shape>& inputs) {
  const int want = arity();
  const int got = static_cast<int>(inputs.size());
  if (want == kAnyArity ? got < 2 : got != want) {
    const std::string expected =
        want == kAnyArity ? "a list of at least 2 inputs" : std::to_string(want) + " input";
    throw std::invalid_argument("A " + kind() + " layer should be called on " + expected +
                                ", got " + std::to_string(got));
  }
  for (const Shape& s : inputs)
    for (auto d : s)
      if (d <= 0)
        throw std::invalid_argument(kind() + " input shape must be positive, got " +
                                    shape_str(s));
  if (built_) {
    if (inputs != inputs_) {
      std::string want_s, got_s;
      for (size_t i = 0; i < inputs_.size(); ++i) want_s += (i ? ", " : "") + shape_str(inputs_[i]);
      for (size_t i = 0; i < inputs.size(); ++i) got_s += (i ? ", " : "") + shape_str(inputs[i]);
      throw std::invalid_argument("Layer " + kind() + " was built for inputs of shape " + want_s +
                                  " and cannot be called on inputs of shape " + got_s);
    }
    return output_;
  }
  Shape out = infer(inputs);
  shape_size(out);  // refuses sizes that overflow before anything is allocated
  inputs_ = inputs;
  output_ = out;
  built_ = true;
  batch_ = -1;
  return output_;
}

}  // namespace fmnistcpp
