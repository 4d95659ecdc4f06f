// Elementwise loops over parameters and activations (optimizer updates,
// dropout): split across the OpenMP threads oneDNN also uses, and compiled
// for several x86-64 levels so the widest vectors the CPU has are used
// without building with -march=native (the wheel must run anywhere).
#pragma once

#include <omp.h>

#include <algorithm>
#include <cstdint>

// GCC emits one copy per listed ISA plus an ifunc resolver that picks the
// best at load time. Sanitizer builds keep one plain copy, so what they
// check is the code every CPU can run. CMakeLists.txt turns off FMA
// contraction: every copy then rounds exactly like the others (and like
// Keras's separate multiply and add), whatever the CPU.
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && \
    !defined(__SANITIZE_ADDRESS__)
#define FMNISTCPP_ISA_CLONES \
  __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define FMNISTCPP_ISA_CLONES
#endif

namespace fmnistcpp {

// Calls body(begin, end) on contiguous slices of [0, n), one per thread, or
// once on the calling thread when n is too small to pay for waking threads.
// Slices start on 64-byte boundaries so no two threads write one cache line.
template <class Body>
void parallel_ranges(int64_t n, int64_t min_parallel, const Body& body) {
  if (n <= min_parallel || omp_get_max_threads() == 1) {
    if (n > 0) body(int64_t(0), n);
    return;
  }
#pragma omp parallel
  {
    const int64_t threads = omp_get_num_threads();
    const int64_t per = ((n + threads - 1) / threads + 15) / 16 * 16;
    const int64_t begin = std::min(n, per * omp_get_thread_num());
    const int64_t end = std::min(n, begin + per);
    if (begin < end) body(begin, end);
  }
}

}  // namespace fmnistcpp
