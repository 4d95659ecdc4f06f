#include "column_sums.hpp"

#include "parallel.hpp"

#include <omp.h>

#include <vector>

namespace fmnistcpp {

// Vectorised along the row (cols is the channel count, 8 to a few hundred).
FMNISTCPP_ISA_CLONES
void add_column_sums(const float* x, int64_t rows, int64_t cols, int64_t stride, float* acc) {
  for (int64_t i = 0; i < rows; ++i) {
    const float* row = x + i * stride;
    for (int64_t j = 0; j < cols; ++j) acc[j] += row[j];
  }
}

void column_sums(const float* x, int64_t rows, int64_t cols, float* out) {
  for (int64_t j = 0; j < cols; ++j) out[j] = 0.f;
  const int team = omp_get_max_threads();
  // Below a few thousand elements waking a second thread costs more.
  if (team == 1 || omp_in_parallel() || rows * cols < 16384) {
    add_column_sums(x, rows, cols, cols, out);
    return;
  }
  std::vector<float> partial(static_cast<size_t>(team) * cols, 0.f);
  int used = 1;
#pragma omp parallel num_threads(team)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    if (t == 0) used = threads;
    const int64_t begin = rows * t / threads, end = rows * (t + 1) / threads;
    add_column_sums(x + begin * cols, end - begin, cols, cols, &partial[size_t(t) * cols]);
  }
  for (int t = 0; t < used; ++t)
    for (int64_t j = 0; j < cols; ++j) out[j] += partial[size_t(t) * cols + j];
}

}  // namespace fmnistcpp
