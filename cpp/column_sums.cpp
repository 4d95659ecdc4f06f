#include "column_sums.hpp"

#include "parallel.hpp"

#include <omp.h>

#include <vector>

namespace fmnistcpp {

namespace {

// acc[j] += rows [begin, end) of x, column by column; vectorised along the
// row (cols is the channel count, 8 to a few hundred).
FMNISTCPP_ISA_CLONES
void add_rows(const float* x, int64_t begin, int64_t end, int64_t cols, float* acc) {
  for (int64_t i = begin; i < end; ++i) {
    const float* row = x + i * cols;
    for (int64_t j = 0; j < cols; ++j) acc[j] += row[j];
  }
}

}  // namespace

void column_sums(const float* x, int64_t rows, int64_t cols, float* out) {
  for (int64_t j = 0; j < cols; ++j) out[j] = 0.f;
  const int team = omp_get_max_threads();
  // Below a few thousand elements waking a second thread costs more.
  if (team == 1 || omp_in_parallel() || rows * cols < 16384) {
    add_rows(x, 0, rows, cols, out);
    return;
  }
  std::vector<float> partial(static_cast<size_t>(team) * cols, 0.f);
  int used = 1;
#pragma omp parallel num_threads(team)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    if (t == 0) used = threads;
    add_rows(x, rows * t / threads, rows * (t + 1) / threads, cols, &partial[size_t(t) * cols]);
  }
  for (int t = 0; t < used; ++t)
    for (int64_t j = 0; j < cols; ++j) out[j] += partial[size_t(t) * cols + j];
}

}  // namespace fmnistcpp
