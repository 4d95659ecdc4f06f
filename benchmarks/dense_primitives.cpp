// A Dense layer's three passes on oneDNN's inner-product primitives against
// the same passes on matmul primitives (forward y = xW + b, backward-data
// dx = dy W^T, backward-weights dW = x^T dy with db by a reduction), in
// float32 and bfloat16, Keras's (in, units) kernel layout for both. Used to
// choose Dense's primitives per precision (cpp/dense.cpp); results in
// docs/PERFORMANCE.md. Best of 5 runs of 20 executions each; with `cold`,
// the median of 25 single executions, each after writing 256 MB, as a
// training step leaves the caches (seed 000's step touches more than they hold).
//
// Build and run against the oneDNN that fmnistcpp builds with
// (onednn-devel-cpu-gomp installs headers and library under sys.prefix):
//
//   P=$(python3 -c "import sys; print(sys.prefix)")
//   g++ -O2 -std=c++17 benchmarks/dense_primitives.cpp -I$P/include -L$P/lib -ldnnl
//       -Wl,-rpath,$P/lib -o /tmp/dense_primitives
//   OMP_NUM_THREADS=2 /tmp/dense_primitives 100 23232 100     # batch, in, units
#include <dnnl.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;

static bool cold = false;

// Writes small values into m: untouched memory is the kernel's shared zero
// page, which every read would find in L1 and make the passes look faster.
static void fill(memory& m) {
  const memory::desc md = m.get_desc();
  const size_t n = md.get_size() / (md.get_data_type() == dt::f32 ? 4 : 2);
  for (size_t i = 0; i < n; ++i) {
    const float v = 0.01f * float(i % 97);
    if (md.get_data_type() == dt::f32) {
      static_cast<float*>(m.get_data_handle())[i] = v;
    } else {  // bf16: the float's upper half
      uint32_t bits;
      std::memcpy(&bits, &v, 4);
      static_cast<uint16_t*>(m.get_data_handle())[i] = uint16_t(bits >> 16);
    }
  }
}

static void evict_caches() {
  static std::vector<float> junk(size_t(64) << 20);  // 256 MB
  for (size_t i = 0; i < junk.size(); i += 16) junk[i] += 1.f;
}

template <class F>
static double best_time(F f) {
  if (cold) {
    std::vector<double> t;
    for (int r = 0; r < 25; ++r) {
      evict_caches();
      auto t0 = std::chrono::steady_clock::now();
      f();
      t.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
  }
  for (int i = 0; i < 3; ++i) f();
  double best = 1e9;
  for (int r = 0; r < 5; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) f();
    best = std::min(best,
                    std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() / 20);
  }
  return best;
}

static void report(const char* what, const char* impl, double t, double flops) {
  std::printf("  %-16s %-28s %8.0f us %7.0f GFLOP/s\n", what, impl, t * 1e6, flops / t / 1e9);
}

int main(int argc, char** argv) {
  cold = argc == 5 && std::string(argv[4]) == "cold";
  if (argc != 4 && !cold) {
    std::fprintf(stderr, "usage: %s batch in units [cold]\n", argv[0]);
    return 2;
  }
  engine eng(engine::kind::cpu, 0);
  stream s(eng);
  const memory::dim M = std::atol(argv[1]), K = std::atol(argv[2]), N = std::atol(argv[3]);
  const double flops = 2.0 * M * N * K;
  for (dt type : {dt::f32, dt::bf16}) {
    const char* name = type == dt::f32 ? "float32" : "bfloat16";
    // inner product: weights (units, in) in the io tag are Keras's (in, units) row-major
    memory::desc x({M, K}, type, tag::ab), w({N, K}, type, tag::io), y({M, N}, dt::f32, tag::ab),
        b({N}, dt::f32, tag::a), dy({M, N}, type, tag::ab), dx({M, K}, dt::f32, tag::ab),
        dw({N, K}, dt::f32, tag::io);
    auto fwd_pd = inner_product_forward::primitive_desc(eng, prop_kind::forward_training, x, w, b, y);
    auto bwd_d_pd = inner_product_backward_data::primitive_desc(eng, dx, w, dy, fwd_pd);
    auto bwd_w_pd = inner_product_backward_weights::primitive_desc(eng, x, dw, b, dy, fwd_pd);
    memory mx(x, eng), mw(w, eng), my(y, eng), mb(b, eng), mdy(dy, eng), mdx(dx, eng), mdw(dw, eng),
        mdb(b, eng);
    for (memory* m : {&mx, &mw, &mb, &mdy}) fill(*m);
    inner_product_forward fwd(fwd_pd);
    inner_product_backward_data bwd_d(bwd_d_pd);
    inner_product_backward_weights bwd_w(bwd_w_pd);
    std::printf("%s, batch %ld, %ld -> %ld\n inner product:\n", name, (long)M, (long)K, (long)N);
    double total = 0, t;
    t = best_time([&] { fwd.execute(s, {{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_BIAS, mb}, {DNNL_ARG_DST, my}}); });
    report("forward", fwd_pd.impl_info_str(), t, flops), total += t;
    t = best_time([&] { bwd_d.execute(s, {{DNNL_ARG_DIFF_DST, mdy}, {DNNL_ARG_WEIGHTS, mw}, {DNNL_ARG_DIFF_SRC, mdx}}); });
    report("backward-data", bwd_d_pd.impl_info_str(), t, flops), total += t;
    t = best_time([&] { bwd_w.execute(s, {{DNNL_ARG_SRC, mx}, {DNNL_ARG_DIFF_DST, mdy}, {DNNL_ARG_DIFF_WEIGHTS, mdw}, {DNNL_ARG_DIFF_BIAS, mdb}}); });
    report("backward-weights", bwd_w_pd.impl_info_str(), t, flops), total += t;
    std::printf("  %-45s %8.0f us\n matmul:\n", "all three", total * 1e6);

    // matmul over the same bytes: W as (in, units) ab, W^T as (units, in) ba, x^T as (in, batch) ba
    memory::desc wk({K, N}, type, tag::ab), b_row({1, N}, dt::f32, tag::ab), wt({N, K}, type, tag::ba),
        xt({K, M}, type, tag::ba), dwk({K, N}, dt::f32, tag::ab);
    auto mm_fwd_pd = matmul::primitive_desc(eng, x, wk, b_row, y);
    auto mm_bwd_d_pd = matmul::primitive_desc(eng, dy, wt, dx);
    auto mm_bwd_w_pd = matmul::primitive_desc(eng, xt, dy, dwk);
    auto db_pd = reduction::primitive_desc(eng, algorithm::reduction_sum, dy, b_row, 0.f, 0.f);
    memory mwk(wk, eng, mw.get_data_handle()), mbr(b_row, eng, mb.get_data_handle()),
        mwt(wt, eng, mw.get_data_handle()), mxt(xt, eng, mx.get_data_handle()),
        mdwk(dwk, eng, mdw.get_data_handle()), mdbr(b_row, eng, mdb.get_data_handle());
    matmul mm_fwd(mm_fwd_pd), mm_bwd_d(mm_bwd_d_pd), mm_bwd_w(mm_bwd_w_pd);
    reduction db(db_pd);
    total = 0;
    t = best_time([&] { mm_fwd.execute(s, {{DNNL_ARG_SRC, mx}, {DNNL_ARG_WEIGHTS, mwk}, {DNNL_ARG_BIAS, mbr}, {DNNL_ARG_DST, my}}); });
    report("forward", mm_fwd_pd.impl_info_str(), t, flops), total += t;
    t = best_time([&] { mm_bwd_d.execute(s, {{DNNL_ARG_SRC, mdy}, {DNNL_ARG_WEIGHTS, mwt}, {DNNL_ARG_DST, mdx}}); });
    report("backward-data", mm_bwd_d_pd.impl_info_str(), t, flops), total += t;
    t = best_time([&] {
      mm_bwd_w.execute(s, {{DNNL_ARG_SRC, mxt}, {DNNL_ARG_WEIGHTS, mdy}, {DNNL_ARG_DST, mdwk}});
      db.execute(s, {{DNNL_ARG_SRC, mdy}, {DNNL_ARG_DST, mdbr}});
    });
    report("backward-weights", mm_bwd_w_pd.impl_info_str(), t, flops), total += t;
    t = best_time([&] { db.execute(s, {{DNNL_ARG_SRC, mdy}, {DNNL_ARG_DST, mdbr}}); });
    std::printf("  %-16s %-28s %8.0f us (in the line above)\n", "  of which db", db_pd.impl_info_str(), t * 1e6);
    std::printf("  %-45s %8.0f us\n", "all three (db by reduction)", total * 1e6);
  }
  return 0;
}
