// out[j] = sum over rows i of x[i * cols + j]: a bias gradient over a
// row-major (rows, cols) gradient, such as a channels-last convolution's
// diff_dst seen as (batch x height x width, channels).
#pragma once

#include <cstdint>

namespace fmnistcpp {

// On the current OpenMP team: each thread sums a contiguous block of rows,
// and the blocks' sums are added in thread order, so the result depends on
// the team size but not on timing. Overwrites out.
void column_sums(const float* x, int64_t rows, int64_t cols, float* out);

// acc[j] += sum over rows i of x[i * stride + j] for j < cols, on the
// calling thread (a thread's share of columns: kernel_row_split.cpp).
void add_column_sums(const float* x, int64_t rows, int64_t cols, int64_t stride, float* acc);

}  // namespace fmnistcpp
