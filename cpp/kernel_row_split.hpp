// A float32 Dense layer's forward and backward-weights products with the
// kernel's rows split across the team.
//
// In training the optimizer has just written a Dense kernel in contiguous
// slices of rows, one per thread (parallel_ranges), and each slice sits in
// the cache of the core that wrote it. oneDNN's inner product does not
// split a short forward product (a small batch: x (32, 784) by W (784,
// 128)) along those rows: it ran at twice its hot-cache time in training,
// which fits each thread reading half of its kernel from the other core's
// cache (an inference from the timings, not from oneDNN's source). Here
// thread t takes rows [k_t, k_t+1) of W, the ones it updated, and the
// matching columns of x, and the partial products are summed after one
// barrier; the weight gradient dW = x^T dy is written by the same rows, the
// ones the same thread's optimizer slice reads next. Measured on the Xeon of
// docs/PERFORMANCE.md in a step-like loop (gather, forward, backward-weights,
// Adam-like update): seed 002's 784 -> 128 at batch 32, forward 48 -> 30 us,
// backward-weights 33 -> 28 us; seed 000's 23232 -> 100 at batch 100,
// forward 2.50 -> 2.12 ms, backward-weights unchanged.
#pragma once

#include "aligned_buffer.hpp"

#include <cstdint>

namespace fmnistcpp {

// Whether the split pays on `threads` threads: the forward pass's partial
// products are threads x (m, n) floats against the kernel's k x n, so the
// kernel must be tall against the batch (k >= 4 * threads * m keeps the
// partial sums a quarter of the kernel's bytes or less); one thread is
// better off in oneDNN's GEMM.
bool kernel_row_split_pays(int64_t m, int64_t k, int threads);

// y (m, n) = x (m, k) W (k, n) + bias (n, may be null), all row-major, on
// the current OpenMP team. partials: scratch, grown as needed.
void forward_by_kernel_rows(const float* x, const float* w, const float* bias, float* y,
                            int64_t m, int64_t k, int64_t n, AlignedBuffer& partials);

// dw (k, n) = x (m, k)^T dy (m, n) and db (n, may be null) = dy's column
// sums, overwriting both, on the current OpenMP team.
void weight_gradient_by_kernel_rows(const float* x, const float* dy, float* dw, float* db,
                                    int64_t m, int64_t k, int64_t n);

// Both throw std::runtime_error if oneDNN's sgemm fails.

// Thread t's share of weight_gradient_by_kernel_rows, for a caller already
// in a parallel region of `threads` threads (lanes.cpp): dw's rows and db's
// columns [size * t / threads, size * (t + 1) / threads). False if oneDNN's
// sgemm failed.
bool weight_gradient_share(const float* x, const float* dy, float* dw, float* db, int64_t m,
                           int64_t k, int64_t n, int t, int threads);

// For tests: how many products took this path in this process.
int64_t kernel_row_split_calls();

}  // namespace fmnistcpp
