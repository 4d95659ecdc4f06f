// Denormal (subnormal) floats are flushed to zero while the engine computes,
// as TensorFlow does: its executor runs every CPU op under
// port::ScopedFlushDenormal (tensorflow/core/platform/denormal.h), so
// Keras's numbers are FTZ/DAZ numbers. In fmnistcpp it matters most for
// Adam: a moment that a rarely-seen input pixel stops feeding decays by
// beta_1 every step through the subnormal range, and subnormal arithmetic
// is many times slower than normal arithmetic.
//
// The mode is per thread (x86's MXCSR), so FlushDenormals sets it on the
// calling thread and on every OpenMP worker, and restores both on exit;
// CallerFloatingPointMode hands the caller's own mode back for the span of
// a callback into Python, where NumPy must see ordinary IEEE arithmetic.
#pragma once

#include <cstdint>
#include <vector>

namespace fmnistcpp {

class FlushDenormals {
 public:
  FlushDenormals();
  ~FlushDenormals();
  FlushDenormals(const FlushDenormals&) = delete;
  FlushDenormals& operator=(const FlushDenormals&) = delete;

 private:
  uint32_t caller_mode_;                  // this thread's mode before
  uint32_t outer_caller_mode_;            // the enclosing scope's, when nested
  bool outermost_;
  std::vector<uint32_t> worker_modes_;    // each OpenMP thread's mode before
};

class CallerFloatingPointMode {
 public:
  CallerFloatingPointMode();
  ~CallerFloatingPointMode();
  CallerFloatingPointMode(const CallerFloatingPointMode&) = delete;
  CallerFloatingPointMode& operator=(const CallerFloatingPointMode&) = delete;

 private:
  uint32_t engine_mode_;
};

}  // namespace fmnistcpp
