#include "dense.hpp"

#include "kernel_row_split.hpp"
#include "layer_registry.hpp"
#include "parallel.hpp"

#include <omp.h>

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

using dnnl::prop_kind;

static RegisterLayer<Dense> registered("Dense");

// The threads a pass run here gets: one inside a parallel region (a lane).
static int current_team() { return omp_in_parallel() ? 1 : omp_get_max_threads(); }

Dense::Dense(Config config) : WeightedLayer(std::move(config)), units_(config_.positive_int("units")) {}

Shape Dense::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 1)
    throw not_implemented("Dense on inputs of shape " + shape_str(in) +
                          " (applied to the last axis) is not supported; add a Flatten layer "
                          "before it");
  make_params({in[0], units_}, units_);
  return {units_};
}

// float32 only: the network's weight gradient of the batch is
// weight_gradient_share's (in, units) product, which a bf16 layer's
// gradient is not computed as.
bool Dense::defer_weight_gradient(float* dy) {
  if (dy && compute_type() != DataType::f32) return false;
  deferred_dy_ = dy;
  return true;
}

void Dense::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  if (compute_type() == DataType::bf16)
    prepare_matmul(batch);
  else
    prepare_inner_product(batch);
}

// float32: the inner product. Its GEMM kernels beat matmul's brgemm ones
// here (seed 000's 23232x100: 4.5 vs 5.0 ms for the three passes; seed
// 002's 784x128, batch 32: 72 vs 110 us; benchmarks/dense_primitives.cpp).
void Dense::prepare_inner_product(int64_t batch) {
  auto& eng = cpu_engine();
  const int64_t in = input()[0];
  Dims w_dims{units_, in};
  auto src_md = plain_md({batch, in}, Tag::nc);
  auto dst_md = plain_md({batch, units_}, Tag::nc);
  // Keras's (in, out) row-major layout, for all three primitives: oneDNN's
  // GEMM-based inner product runs on it as fast as on the blocked layout it
  // would pick, and the weights then need no reorder after every update
  // (for seed 000's 23232x100 kernel those reorders were 12% of an epoch).
  auto keras_w_md = plain_md(w_dims, Tag::io);
  auto b_md = use_bias_ ? plain_md({units_}, Tag::x) : dnnl::memory::desc();
  auto fwd = dnnl::inner_product_forward::primitive_desc(
      eng, prop_kind::forward_training, src_md, keras_w_md, b_md, dst_md, forward_attr());
  auto bwd_data =
      dnnl::inner_product_backward_data::primitive_desc(eng, src_md, keras_w_md, dst_md, fwd);
  auto bwd_weights = dnnl::inner_product_backward_weights::primitive_desc(
      eng, src_md, keras_w_md, b_md, dst_md, fwd);
  adopt(fwd, bwd_data, bwd_weights, keras_w_md, batch);
}

// bfloat16: oneDNN 3.2's inner product runs bf16 on its GEMM kernels
// (gemm:jit), its matmul on AMX / AVX512-BF16 brgemm kernels that take
// plain layouts, transposed ones included. Seed 000's 23232x100 Dense,
// batch 100, AMX: the three passes 1.4 ms against 2.3 ms for the inner
// product (benchmarks/dense_primitives.cpp). Keras's (in, units) kernel
// is matmul's weights as they are and the backward passes read the same
// bytes transposed, so nothing is reordered. matmul has no bias gradient:
// column_sums below (oneDNN's reduction runs its reference kernel here,
// 93 us for 100x100).
void Dense::prepare_matmul(int64_t batch) {
  auto& eng = cpu_engine();
  const int64_t in = input()[0];
  const DataType type = compute_type();
  auto keras_w_md = plain_md({in, units_}, Tag::ab);
  auto src_f32 = plain_md({batch, in}, Tag::ab);
  auto dst_md = plain_md({batch, units_}, Tag::ab);
  auto src = in_compute_type(src_f32), weights = in_compute_type(keras_w_md);
  auto diff_dst = in_compute_type(dst_md);
  auto bias_row = plain_md({1, units_}, Tag::ab);
  // y = x W + b
  auto fwd = use_bias_ ? dnnl::matmul::primitive_desc(eng, src, weights, bias_row, dst_md,
                                                      forward_attr())
                       : dnnl::matmul::primitive_desc(eng, src, weights, dst_md, forward_attr());
  // dx = dy W^T
  auto weights_t = with_type(plain_md({units_, in}, Tag::ba), type);
  auto bwd_data = dnnl::matmul::primitive_desc(eng, diff_dst, weights_t, src_f32);
  // dW = x^T dy
  auto src_t = with_type(plain_md({in, batch}, Tag::ba), type);
  auto bwd_weights = dnnl::matmul::primitive_desc(eng, src_t, diff_dst, keras_w_md);
  src_t_m_ = unbound_memory(src_t);
  weights_t_m_ = unbound_memory(weights_t);
  bias_row_m_ = unbound_memory(bias_row);
  adopt(Passes{dnnl::primitive(fwd), dnnl::primitive(bwd_data), dnnl::primitive(bwd_weights),
               src_f32, src, weights, weights_t, dst_md, diff_dst, keras_w_md,
               /*bwd_data_reads_forward_weights=*/true},
        keras_w_md, batch);
}

void Dense::run_forward(const dnnl::memory& src, const dnnl::memory& weights,
                        const dnnl::memory* bias, const dnnl::memory& dst) {
  if (!computes_bfloat16()) {
    // float32 reads Keras's (in, units) kernel as it is (prepare_inner_product);
    // the split and its rule: kernel_row_split.hpp
    const int64_t in = input()[0];
    if (!kernel_row_split_pays(batch_, in, current_team()))
      return WeightedLayer::run_forward(src, weights, bias, dst);
    float* y = static_cast<float*>(dst.get_data_handle());
    forward_by_kernel_rows(static_cast<const float*>(src.get_data_handle()),
                           static_cast<const float*>(weights.get_data_handle()),
                           bias ? static_cast<const float*>(bias->get_data_handle()) : nullptr,
                           y, batch_, in, units_, row_split_partials_);
    // what the primitive's post-op would have applied (forward_attr)
    if (!emit_logits_ && act_.fusable()) act_.forward(y, y);
    return;
  }
  std::unordered_map<int, dnnl::memory> args{
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, weights}, {DNNL_ARG_DST, dst}};
  if (bias) {
    bias_row_m_.set_data_handle(bias->get_data_handle());
    args[DNNL_ARG_BIAS] = bias_row_m_;
  }
  fwd_primitive().execute(cpu_stream(), args);
}

// db[j] = sum over rows i of dy[i][j], dy (rows, cols) row-major in bf16.
FMNISTCPP_ISA_CLONES
static void column_sums_bf16(const uint16_t* dy, int64_t rows, int64_t cols, float* db) {
  for (int64_t j = 0; j < cols; ++j) db[j] = 0.f;
  for (int64_t i = 0; i < rows; ++i) {
    const uint16_t* row = dy + i * cols;
    for (int64_t j = 0; j < cols; ++j) {
      const uint32_t bits = static_cast<uint32_t>(row[j]) << 16;
      float v;
      std::memcpy(&v, &bits, sizeof v);
      db[j] += v;
    }
  }
}

void Dense::run_backward_weights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                                 const dnnl::memory& diff_weights, const dnnl::memory* diff_bias) {
  if (!computes_bfloat16()) {
    // float32 writes Keras's (in, units) layout (prepare_inner_product)
    const int64_t in = input()[0];
    if (!kernel_row_split_pays(batch_, in, current_team()))
      return WeightedLayer::run_backward_weights(src, diff_dst, diff_weights, diff_bias);
    weight_gradient_by_kernel_rows(
        static_cast<const float*>(src.get_data_handle()),
        static_cast<const float*>(diff_dst.get_data_handle()),
        static_cast<float*>(diff_weights.get_data_handle()),
        diff_bias ? static_cast<float*>(diff_bias->get_data_handle()) : nullptr, batch_, in,
        units_);
    return;
  }
  src_t_m_.set_data_handle(src.get_data_handle());
  bwd_weights_primitive().execute(
      cpu_stream(),
      {{DNNL_ARG_SRC, src_t_m_}, {DNNL_ARG_WEIGHTS, diff_dst}, {DNNL_ARG_DST, diff_weights}});
  if (diff_bias) {
    const Dims dims = diff_dst.get_desc().get_dims();
    column_sums_bf16(static_cast<const uint16_t*>(diff_dst.get_data_handle()), dims[0], dims[1],
                     static_cast<float*>(diff_bias->get_data_handle()));
  }
}

void Dense::run_backward_data(const dnnl::memory& diff_dst, const dnnl::memory& weights,
                              const dnnl::memory& diff_src) {
  if (!computes_bfloat16()) return WeightedLayer::run_backward_data(diff_dst, weights, diff_src);
  weights_t_m_.set_data_handle(weights.get_data_handle());
  bwd_data_primitive().execute(
      cpu_stream(),
      {{DNNL_ARG_SRC, diff_dst}, {DNNL_ARG_WEIGHTS, weights_t_m_}, {DNNL_ARG_DST, diff_src}});
}

}  // namespace fmnistcpp
