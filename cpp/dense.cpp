#include "dense.hpp"

#include "layer_registry.hpp"

#include <stdexcept>

namespace fmnistcpp {

using dnnl::prop_kind;

static RegisterLayer<Dense> registered("Dense");

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

void Dense::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
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

  // bf16 weights in Keras's layout too: converting (in, out) f32 to (in,
  // out) bf16 after each update streams through memory, while oneDNN's
  // blocked bf16 layouts need a transposing reorder per primitive that cost
  // more than the faster brgemm kernels saved (seed 000's 23232x100 kernel,
  // AMX: 1.72 s vs 2.24 s of oneDNN time over 2 epochs of 6000 images).
  auto w_md = in_compute_type(keras_w_md);
  auto src_c = in_compute_type(src_md), diff_dst_c = in_compute_type(dst_md);
  auto fwd = dnnl::inner_product_forward::primitive_desc(
      eng, prop_kind::forward_training, src_c, w_md, b_md, dst_md, forward_attr());
  auto bwd_data =
      dnnl::inner_product_backward_data::primitive_desc(eng, src_md, w_md, diff_dst_c, fwd);
  auto bwd_weights = dnnl::inner_product_backward_weights::primitive_desc(
      eng, src_c, keras_w_md, b_md, diff_dst_c, fwd);
  adopt(fwd, bwd_data, bwd_weights, keras_w_md, batch);
}

}  // namespace fmnistcpp
