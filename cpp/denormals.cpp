#include "denormals.hpp"

#include <omp.h>

#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
// MXCSR's flush-to-zero (results) and denormals-are-zero (inputs) bits, the
// two TensorFlow sets. Every CPU oneDNN runs on (SSE4.1 and up) has both.
constexpr uint32_t kFlushBits = 0x8000u | 0x0040u;
static uint32_t get_mode() { return _mm_getcsr(); }
static void set_mode(uint32_t mode) { _mm_setcsr(mode); }
#else
constexpr uint32_t kFlushBits = 0;
static uint32_t get_mode() { return 0; }
static void set_mode(uint32_t) {}
#endif

namespace fmnistcpp {

// The calling thread's mode outside the innermost FlushDenormals scope.
thread_local bool t_in_scope = false;
thread_local uint32_t t_caller_mode = 0;

FlushDenormals::FlushDenormals()
    : caller_mode_(get_mode()), outer_caller_mode_(t_caller_mode), outermost_(!t_in_scope) {
  t_caller_mode = caller_mode_;
  t_in_scope = true;
  set_mode(caller_mode_ | kFlushBits);
  const int threads = omp_get_max_threads();
  worker_modes_.assign(threads, 0);
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      const uint32_t mode = get_mode();
      worker_modes_[omp_get_thread_num()] = mode;
      set_mode(mode | kFlushBits);
    }
  }
}

FlushDenormals::~FlushDenormals() {
  const int threads = static_cast<int>(worker_modes_.size());
  if (threads > 1) {
#pragma omp parallel num_threads(threads)
    {
      const int t = omp_get_thread_num();
      if (t != 0) set_mode(worker_modes_[t]);  // the caller's own is restored below
    }
  }
  set_mode(caller_mode_);
  t_caller_mode = outer_caller_mode_;
  t_in_scope = !outermost_;
}

CallerFloatingPointMode::CallerFloatingPointMode() : engine_mode_(get_mode()) {
  if (t_in_scope) set_mode(t_caller_mode);
}

CallerFloatingPointMode::~CallerFloatingPointMode() { set_mode(engine_mode_); }

}  // namespace fmnistcpp
