// Seed 000's inner convolutions (and seed 001's second) timed in each
// activation layout: channels-last (nhwc, Keras's layout, what fmnistcpp
// uses), oneDNN's own choice (format_tag::any) and blocked nChw16c and
// nChw8c (AVX2's block), plus a Winograd attempt. Forward, backward-data and
// backward-weights, batch given on the command line (default 100), median of
// 10 executions. For channels-last also the backward-weights pass on copies
// of its source and diff_dst in nChw8c, the copies' reorders included (what
// fmnistcpp's convolutions do on AVX2 CPUs, cpp/conv2d.cpp).
// Results and the reasoning: docs/PERFORMANCE.md.
//
// Build and run against the oneDNN that fmnistcpp builds with
// (onednn-devel-cpu-gomp installs headers and library under sys.prefix):
//
//   P=$(python3 -c "import sys; print(sys.prefix)")
//   g++ -O2 -std=c++17 benchmarks/conv_layouts.cpp -I$P/include -L$P/lib -ldnnl
//       -Wl,-rpath,$P/lib -o /tmp/conv_layouts
//   OMP_NUM_THREADS=1 /tmp/conv_layouts 100
#include <dnnl.hpp>
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>
#include <algorithm>
using namespace dnnl;
using tag = memory::format_tag;
using dt = memory::data_type;
static engine eng(engine::kind::cpu, 0);
static stream s(eng);
// Median of `reps` executions; a reference (untuned) implementation that
// takes over half a second is timed once.
double timeit(primitive& p, std::unordered_map<int, memory>& args, int reps) {
  std::vector<double> ts;
  for (int r = 0; r < reps; ++r) {
    auto t0 = std::chrono::steady_clock::now();
    p.execute(s, args);
    s.wait();
    ts.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    if (ts.back() > 0.5) return ts.back();
  }
  std::sort(ts.begin(), ts.end());
  return ts[ts.size() / 2];
}
memory mk(const memory::desc& md) {
  memory m(md, eng);
  float* p = (float*)m.get_data_handle();
  for (size_t i = 0; i < md.get_size() / 4; ++i) p[i] = 0.01f * (i % 97);
  return m;
}
const char* layout_name(tag t) {
  return t == tag::nhwc      ? "nhwc"
         : t == tag::any     ? "any"
         : t == tag::nChw16c ? "nChw16c"
         : t == tag::nChw8c  ? "nChw8c"
                             : "?";
}
void run(int N, int IC, int OC, int H, tag t, algorithm alg, bool relu_fused) {
  int OH = H - 2;
  memory::dims src_d{N, IC, H, H}, w_d{OC, IC, 3, 3}, b_d{OC}, dst_d{N, OC, OH, OH};
  auto src_md = memory::desc(src_d, dt::f32, t), dst_md = memory::desc(dst_d, dt::f32, t);
  auto w_md = memory::desc(w_d, dt::f32, tag::any), b_md = memory::desc(b_d, dt::f32, tag::x);
  primitive_attr attr;
  if (relu_fused) { post_ops po; po.append_eltwise(algorithm::eltwise_relu, 0, 0); attr.set_post_ops(po); }
  try {
    auto fpd = convolution_forward::primitive_desc(eng, prop_kind::forward_training, alg, src_md, w_md, b_md, dst_md, {1,1}, {0,0}, {0,0}, attr);
    auto dpd = convolution_backward_data::primitive_desc(eng, alg, fpd.src_desc(), w_md, fpd.dst_desc(), {1,1}, {0,0}, {0,0}, fpd);
    auto wpd = convolution_backward_weights::primitive_desc(eng, alg, fpd.src_desc(), w_md, b_md, fpd.dst_desc(), {1,1}, {0,0}, {0,0}, fpd);
    auto src = mk(fpd.src_desc()), w = mk(fpd.weights_desc()), b = mk(b_md), dst = mk(fpd.dst_desc());
    auto wd = mk(dpd.weights_desc()), dsrc = mk(dpd.diff_src_desc()), ddst = mk(dpd.diff_dst_desc());
    auto ddstw = mk(wpd.diff_dst_desc()), srcw = mk(wpd.src_desc()), dw = mk(wpd.diff_weights_desc()), db = mk(b_md);
    convolution_forward f(fpd); convolution_backward_data d(dpd); convolution_backward_weights ww(wpd);
    std::unordered_map<int, memory> fa{{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, w}, {DNNL_ARG_BIAS, b}, {DNNL_ARG_DST, dst}};
    std::unordered_map<int, memory> da{{DNNL_ARG_DIFF_DST, ddst}, {DNNL_ARG_WEIGHTS, wd}, {DNNL_ARG_DIFF_SRC, dsrc}};
    std::unordered_map<int, memory> wa{{DNNL_ARG_SRC, srcw}, {DNNL_ARG_DIFF_DST, ddstw}, {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, db}};
    double fl = 2.0 * N * OC * OH * OH * IC * 9;
    int reps = 10;
    double tf = timeit(f, fa, reps), td = timeit(d, da, reps), tw = timeit(ww, wa, reps);
    printf("ic%d oc%d h%d %s %s: fwd %.2fms %.0fGF (%s)  bwd_d %.2fms %.0fGF (%s)  bwd_w %.2fms %.0fGF (%s)\n", IC, OC, H, layout_name(t),
      alg == algorithm::convolution_winograd ? "winograd" : "direct",
      tf*1e3, fl/tf/1e9, fpd.impl_info_str(), td*1e3, fl/td/1e9, dpd.impl_info_str(), tw*1e3, fl/tw/1e9, wpd.impl_info_str());
    if (t == tag::nhwc && alg == algorithm::convolution_direct) {
      auto bsrc_md = memory::desc(src_d, dt::f32, tag::nChw8c), bdst_md = memory::desc(dst_d, dt::f32, tag::nChw8c);
      auto bpd = convolution_backward_weights::primitive_desc(eng, alg, bsrc_md, w_md, b_md, bdst_md, {1,1}, {0,0}, {0,0}, fpd);
      auto bsrc = mk(bpd.src_desc()), bddst = mk(bpd.diff_dst_desc()), bdw = mk(bpd.diff_weights_desc());
      convolution_backward_weights bw(bpd);
      reorder rs(srcw, bsrc), rd(ddstw, bddst);
      std::unordered_map<int, memory> ba{{DNNL_ARG_SRC, bsrc}, {DNNL_ARG_DIFF_DST, bddst}, {DNNL_ARG_DIFF_WEIGHTS, bdw}, {DNNL_ARG_DIFF_BIAS, db}};
      std::unordered_map<int, memory> ra{{DNNL_ARG_FROM, srcw}, {DNNL_ARG_TO, bsrc}}, rda{{DNNL_ARG_FROM, ddstw}, {DNNL_ARG_TO, bddst}};
      double trs = timeit(rs, ra, reps), trd = timeit(rd, rda, reps), tb = timeit(bw, ba, reps);
      printf("ic%d oc%d h%d nhwc, bwd_w on nChw8c copies: reorders %.2f+%.2fms, bwd_w %.2fms (%s), total %.2fms %.0fGF\n",
             IC, OC, H, trs*1e3, trd*1e3, tb*1e3, bpd.impl_info_str(), (trs+trd+tb)*1e3, fl/(trs+trd+tb)/1e9);
    }
  } catch (dnnl::error& e) { printf("ic%d oc%d %s %s: unsupported (%s)\n", IC, OC, layout_name(t),
                                   alg == algorithm::convolution_winograd ? "winograd" : "direct", e.what()); }
}
int main(int argc, char** argv) {
  setvbuf(stdout, nullptr, _IONBF, 0);
  int N = argc > 1 ? atoi(argv[1]) : 100;
  for (int rep = 0; rep < 1; ++rep)
  for (auto t : {tag::nhwc, tag::any, tag::nChw16c, tag::nChw8c}) {
    run(N, 8, 24, 26, t, algorithm::convolution_direct, true);
    run(N, 24, 48, 24, t, algorithm::convolution_direct, true);
  }
  run(N, 24, 48, 24, tag::nhwc, algorithm::convolution_winograd, false);
  run(N, 32, 48, 24, tag::nChw16c, algorithm::convolution_winograd, false);
  run(N, 32, 64, 26, tag::nhwc, algorithm::convolution_direct, true);
  run(N, 64, 64, 12, tag::nhwc, algorithm::convolution_direct, true);
}
