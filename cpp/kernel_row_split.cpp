#include "kernel_row_split.hpp"

#include "column_sums.hpp"

#include <dnnl.h>
#include <omp.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>

namespace fmnistcpp {

namespace {

std::atomic<int64_t> g_calls{0};

// Thread t's share [begin, end) of n items, contiguous, in thread order.
// For the kernel's rows this is where the optimizer's slices of it fall
// (whole rows here; parallel_ranges rounds to 16 floats, which for kernels
// of 100 or 128 columns splits at the same rows or next to them).
struct Share {
  int64_t begin, end;
  Share(int64_t n, int t, int threads) : begin(n * t / threads), end(n * (t + 1) / threads) {}
};

}  // namespace

bool kernel_row_split_pays(int64_t m, int64_t k, int threads) {
  return threads > 1 && m > 0 && k >= 4 * int64_t(threads) * m;
}

int64_t kernel_row_split_calls() { return g_calls.load(); }

void forward_by_kernel_rows(const float* x, const float* w, const float* bias, float* y,
                            int64_t m, int64_t k, int64_t n, AlignedBuffer& partials) {
  const int team = omp_get_max_threads();
  // thread 0 writes y itself; the others a partial product each
  float* part = partials.reserve(std::size_t(std::max(team - 1, 1)) * m * n);
  std::atomic<int> status{dnnl_success};
#pragma omp parallel num_threads(team)
  {
    const int t = omp_get_thread_num(), threads = omp_get_num_threads();
    const Share rows(k, t, threads);
    float* out = t == 0 ? y : part + (t - 1) * m * n;
    // Inside a parallel region oneDNN's sgemm runs on the calling thread.
    const dnnl_status_t s = dnnl_sgemm('N', 'N', m, n, rows.end - rows.begin, 1.f, x + rows.begin,
                                       k, w + rows.begin * n, n, 0.f, out, n);
    if (s != dnnl_success) status.store(s);
#pragma omp barrier
    const Share batch(m, t, threads);
    for (int64_t r = batch.begin; r < batch.end; ++r) {
      float* yr = y + r * n;
      for (int u = 1; u < threads; ++u) {
        const float* pr = part + (u - 1) * m * n + r * n;
        for (int64_t j = 0; j < n; ++j) yr[j] += pr[j];
      }
      if (bias)
        for (int64_t j = 0; j < n; ++j) yr[j] += bias[j];
    }
  }
  if (status.load() != dnnl_success)
    throw std::runtime_error("oneDNN's sgemm failed in a Dense forward pass, status " +
                             std::to_string(status.load()));
  g_calls.fetch_add(1, std::memory_order_relaxed);
}

bool weight_gradient_share(const float* x, const float* dy, float* dw, float* db, int64_t m,
                           int64_t k, int64_t n, int t, int threads) {
  const Share rows(k, t, threads);
  // dw[rows] = x[:, rows]^T dy
  const dnnl_status_t s = dnnl_sgemm('T', 'N', rows.end - rows.begin, n, m, 1.f, x + rows.begin,
                                     k, dy, n, 0.f, dw + rows.begin * n, n);
  if (db) {
    const Share cols(n, t, threads);
    for (int64_t j = cols.begin; j < cols.end; ++j) db[j] = 0.f;
    add_column_sums(dy + cols.begin, m, cols.end - cols.begin, n, db + cols.begin);
  }
  if (t == 0) g_calls.fetch_add(1, std::memory_order_relaxed);
  return s == dnnl_success;
}

void weight_gradient_by_kernel_rows(const float* x, const float* dy, float* dw, float* db,
                                    int64_t m, int64_t k, int64_t n) {
  std::atomic<bool> ok{true};
#pragma omp parallel num_threads(omp_get_max_threads())
  if (!weight_gradient_share(x, dy, dw, db, m, k, n, omp_get_thread_num(), omp_get_num_threads()))
    ok.store(false);
  if (!ok.load()) throw std::runtime_error("oneDNN's sgemm failed in a Dense weight gradient");
}

}  // namespace fmnistcpp
