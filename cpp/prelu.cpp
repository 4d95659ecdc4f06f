#include "prelu.hpp"

#include "layer_registry.hpp"

#include <algorithm>

namespace fmnistcpp {

using dnnl::prop_kind;

static RegisterLayer<PReLU> registered("PReLU");

PReLU::PReLU(Config config) : Layer(std::move(config)) {
  // None, an int or a list of ints, as Keras's __init__ accepts.
  auto it = config_.values().find("shared_axes");
  if (it == config_.values().end() || std::holds_alternative<std::monostate>(it->second)) {
    config_.optional_integer("shared_axes");  // None (read, so not "unused")
    return;
  }
  if (std::holds_alternative<int64_t>(it->second))
    config_.set("shared_axes", std::vector<int64_t>{std::get<int64_t>(it->second)});
  shared_axes_ = config_.shape("shared_axes");
}

Shape PReLU::infer(const std::vector<Shape>& inputs) {
  Shape alpha = inputs[0];
  for (int64_t axis : shared_axes_) {
    if (axis > static_cast<int64_t>(alpha.size()))
      throw std::invalid_argument("PReLU shared_axes " + std::to_string(axis) +
                                  " is out of range for inputs of shape (None, " +
                                  shape_str(inputs[0]).substr(1));
    alpha[axis - 1] = 1;
  }
  alpha_ = std::make_unique<Param>("alpha", alpha);
  batch_ = -1;
  return inputs[0];
}

// Row-major descriptor of (lead, *shape): Keras's layout.
static dnnl::memory::desc row_major(int64_t lead, const Shape& shape) {
  Dims dims{lead};
  dims.insert(dims.end(), shape.begin(), shape.end());
  Dims strides(dims.size(), 1);
  for (size_t i = dims.size() - 1; i > 0; --i) strides[i - 1] = strides[i] * dims[i];
  return dnnl::memory::desc(dims, DataType::f32, strides);
}

void PReLU::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  auto& eng = cpu_engine();
  auto data_md = row_major(batch, input());
  auto w_md = row_major(1, alpha_->shape);
  auto fwd = dnnl::prelu_forward::primitive_desc(eng, prop_kind::forward_training, data_md,
                                                 w_md, data_md);
  auto bwd = dnnl::prelu_backward::primitive_desc(eng, data_md, w_md, data_md, w_md, data_md,
                                                  fwd);
  fwd_ = dnnl::prelu_forward(fwd);
  bwd_ = dnnl::prelu_backward(bwd);
  src_m_ = unbound_memory(data_md);
  dst_m_ = unbound_memory(data_md);
  diff_dst_m_ = unbound_memory(data_md);
  diff_src_m_ = unbound_memory(data_md);
  weights_m_ = unbound_memory(w_md);
  diff_weights_m_ = unbound_memory(w_md);
}

void PReLU::forward(const Sources& src, float* dst, const ForwardMode&) {
  bind(src_m_, src[0]);
  bind(weights_m_, alpha_->value.data());
  bind(dst_m_, dst);
  fwd_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_},
                              {DNNL_ARG_WEIGHTS, weights_m_},
                              {DNNL_ARG_DST, dst_m_}});
}

// d alpha = sum over the shared axes and the batch of dy * min(x, 0);
// dx = dy where x > 0, alpha * dy elsewhere.
void PReLU::backward(const Sources& src, const float*, float* diff_dst,
                     const SourceGrads& diff_src) {
  float* dx = diff_src[0];
  if (!dx) dx = scratch_.reserve(batch_ * shape_size(input()));
  bind(src_m_, src[0]);
  bind(weights_m_, alpha_->value.data());
  bind(diff_dst_m_, diff_dst);
  bind(diff_src_m_, dx);
  bind(diff_weights_m_, alpha_->grad.data());
  bwd_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_},
                              {DNNL_ARG_WEIGHTS, weights_m_},
                              {DNNL_ARG_DIFF_DST, diff_dst_m_},
                              {DNNL_ARG_DIFF_SRC, diff_src_m_},
                              {DNNL_ARG_DIFF_WEIGHTS, diff_weights_m_}});
}

}  // namespace fmnistcpp
