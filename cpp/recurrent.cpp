#include "recurrent.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

using dnnl::memory;

Recurrent::Recurrent(Config config, int gates)
    : Layer(std::move(config)), units_(config_.positive_int("units")), gates_(gates) {
  activation_ = config_.text("activation", "tanh");
  parse_activation(activation_);  // a ValueError for a name Keras does not know either
  use_bias_ = config_.flag("use_bias", true);
  return_sequences_ = config_.flag("return_sequences", false);
  go_backwards_ = config_.flag("go_backwards", false);
  if (config_.flag("return_state", false))
    throw not_implemented(kind() + "(return_state=True) is not supported: a layer has one "
                          "output in fmnistcpp; use return_sequences=True and read the last step");
  if (config_.flag("stateful", false))
    throw not_implemented(kind() + "(stateful=True) is not supported: every batch starts from "
                          "a zero state (stateful=False)");
  for (const char* key : {"dropout", "recurrent_dropout"}) {
    // Keras clips both rates into [0, 1] (keras/src/layers/rnn/lstm.py)
    const double rate = std::min(1.0, std::max(0.0, config_.number(key, 0.0)));
    config_.set(key, rate);
    if (rate > 0.0)
      throw not_implemented(kind() + "(" + key + "=" + python_repr(ConfigValue(rate)) +
                            ") is not supported: oneDNN's recurrent cells have no dropout; put a "
                            "Dropout layer before or after the " + kind() + " instead");
  }
}

void Recurrent::require_gate_activations() {
  const std::string recurrent = config_.text("recurrent_activation", "sigmoid");
  parse_activation(recurrent);
  if (activation_ != "tanh")
    throw not_implemented(kind() + "(activation='" + activation_ + "') is not supported: "
                          "oneDNN's " + kind() + " cell computes tanh; use activation='tanh' "
                          "(the default)");
  if (recurrent != "sigmoid")
    throw not_implemented(kind() + "(recurrent_activation='" + recurrent + "') is not "
                          "supported: oneDNN's " + kind() + " cell computes sigmoid gates; use "
                          "recurrent_activation='sigmoid' (the default)");
}

Shape Recurrent::infer(const std::vector<Shape>& inputs) {
  const Shape& in = inputs[0];
  if (in.size() != 2)
    throw std::invalid_argument(
        "Input 0 of layer " + kind() + " is incompatible with the layer: expected ndim=3 "
        "(batch, timesteps, features), found ndim=" + std::to_string(in.size() + 1) +
        ". Full shape received: (None, " + shape_str(in).substr(1) +
        (in.size() == 3 ? "; for images, add Reshape((28, 28)) to read rows as steps" : ""));
  steps_ = in[0];
  features_ = in[1];
  const int64_t g_units = checked_mul(gates_, units_, "the gates");
  kernel_ = std::make_unique<Param>("kernel", std::vector<int64_t>{features_, g_units});
  recurrent_ = std::make_unique<Param>("recurrent_kernel", std::vector<int64_t>{units_, g_units});
  bias_.reset();
  if (use_bias_) bias_ = std::make_unique<Param>("bias", bias_shape());
  batch_ = -1;
  return return_sequences_ ? Shape{steps_, units_} : Shape{units_};
}

std::vector<Param*> Recurrent::params() {
  std::vector<Param*> p{kernel_.get(), recurrent_.get()};
  if (bias_) p.push_back(bias_.get());
  return p;
}

bool Recurrent::bias_converted() const {
  return use_bias_ && primitive_bias_gates() * units_ != shape_size(bias_shape());
}

void Recurrent::bias_to_primitive(const float* keras, float* primitive) const {
  std::memcpy(primitive, keras, sizeof(float) * gates_ * units_);
}

void Recurrent::bias_grad_to_keras(const float* primitive, float* keras) const {
  std::memcpy(keras, primitive, sizeof(float) * gates_ * units_);
}

void Recurrent::prepare(int64_t batch) {
  if (batch == batch_) return;
  batch_ = batch;
  const int64_t N = batch, T = steps_, C = features_, U = units_, G = gates_;
  const int64_t bias_gates = primitive_bias_gates();
  Descs d;
  d.direction = go_backwards_ ? dnnl::rnn_direction::unidirectional_right2left
                              : dnnl::rnn_direction::unidirectional_left2right;
  d.src_layer = plain_md({T, N, C}, Tag::ntc);  // Keras's (batch, steps, features)
  d.dst_layer = plain_md({T, N, U}, Tag::ntc);
  // The last state straight into the output, when that is all the layer returns.
  d.dst_iter = return_sequences_ ? memory::desc() : plain_md({1, 1, N, U}, Tag::ldnc);
  if (!return_sequences_ && has_cell_state()) d.dst_iter_c = d.dst_iter;
  d.weights_layer = any_md({1, 1, C, G, U});
  d.weights_iter = any_md({1, 1, U, G, U});
  d.bias = plain_md({1, 1, bias_gates, U}, Tag::ldgo);
  const auto keras_layer_md = plain_md({1, 1, C, G, U}, Tag::ldigo);
  const auto keras_iter_md = plain_md({1, 1, U, G, U}, Tag::ldigo);
  d.diff_weights_layer = keras_layer_md;  // gradients in Keras's layout, no reorder
  d.diff_weights_iter = keras_iter_md;
  d.diff_bias = d.bias;

  dnnl::rnn_primitive_desc_base fwd, bwd;
  describe(d, fwd, bwd);
  fwd_ = dnnl::primitive(fwd);
  bwd_ = dnnl::primitive(bwd);
  fwd_layer_w_.prepare(keras_layer_md, fwd.weights_layer_desc());
  fwd_iter_w_.prepare(keras_iter_md, fwd.weights_iter_desc());
  bwd_layer_w_.prepare(keras_layer_md, bwd.weights_layer_desc());
  bwd_iter_w_.prepare(keras_iter_md, bwd.weights_iter_desc());
  ws_m_ = memory(fwd.workspace_desc(), cpu_engine());

  src_m_ = unbound_memory(d.src_layer);
  dst_layer_m_ = unbound_memory(d.dst_layer);
  diff_src_m_ = unbound_memory(d.src_layer);
  diff_dst_layer_m_ = unbound_memory(d.dst_layer);
  if (!return_sequences_) {
    dst_iter_m_ = unbound_memory(d.dst_iter);
    diff_dst_iter_m_ = unbound_memory(d.dst_iter);
    if (has_cell_state()) {
      cell_m_ = memory(d.dst_iter_c, cpu_engine(), cell_.reserve(N * U));
      diff_cell_m_ = memory(d.dst_iter_c, cpu_engine(), diff_cell_.reserve(N * U));
      std::fill_n(diff_cell_.data(), N * U, 0.f);
    }
  }
  diff_wl_m_ = unbound_memory(keras_layer_md);
  diff_wi_m_ = unbound_memory(keras_iter_md);
  bias_m_ = unbound_memory(d.bias);
  diff_bias_m_ = unbound_memory(d.bias);
  const int64_t states = checked_mul(checked_mul(N, T, "the states"), U, "the states");
  if (!return_sequences_ || go_backwards_) sequence_.reserve(states);
  if (!return_sequences_ || go_backwards_) diff_sequence_.reserve(states);
  // Only the last state is output: the other states get no gradient from outside.
  if (!return_sequences_) std::fill_n(diff_sequence_.data(), states, 0.f);
  diff_src_.reserve(checked_mul(checked_mul(N, T, "the inputs"), C, "the inputs"));
  if (!use_bias_ || bias_converted()) {
    bias_values_.reserve(bias_gates * U);
    bias_grad_.reserve(bias_gates * U);
    bias_version_ = ~uint64_t(0);
    // oneDNN's cells always add a bias: without one it is zeros (and its gradient is dropped)
    if (!use_bias_) std::fill_n(bias_values_.data(), bias_gates * U, 0.f);
  }
}

void Recurrent::reverse_steps(const float* from, float* to) const {
  const int64_t T = steps_, U = units_;
#pragma omp parallel for schedule(static) if (batch_ * T * U > 65536)
  for (int64_t n = 0; n < batch_; ++n)
    for (int64_t t = 0; t < T; ++t)
      std::memcpy(to + (n * T + (T - 1 - t)) * U, from + (n * T + t) * U, sizeof(float) * U);
}

const memory& Recurrent::bias_memory() {
  if (!use_bias_) {
    bind(bias_m_, bias_values_.data());
  } else if (!bias_converted()) {
    bind(bias_m_, bias_->value.data());
  } else {
    if (bias_version_ != bias_->version) {
      bias_to_primitive(bias_->value.data(), bias_values_.data());
      bias_version_ = bias_->version;
    }
    bind(bias_m_, bias_values_.data());
  }
  return bias_m_;
}

void Recurrent::forward(const Sources& src, float* dst, const ForwardMode&) {
  const bool in_place = return_sequences_ && !go_backwards_;
  bind(src_m_, src[0]);
  bind(dst_layer_m_, in_place ? dst : sequence_.data());
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, src_m_},
      {DNNL_ARG_WEIGHTS_LAYER, fwd_layer_w_.values(*kernel_)},
      {DNNL_ARG_WEIGHTS_ITER, fwd_iter_w_.values(*recurrent_)},
      {DNNL_ARG_DST_LAYER, dst_layer_m_},
      {DNNL_ARG_WORKSPACE, ws_m_}};
  if (!return_sequences_) {
    bind(dst_iter_m_, dst);
    args[DNNL_ARG_DST_ITER] = dst_iter_m_;
    if (has_cell_state()) args[DNNL_ARG_DST_ITER_C] = cell_m_;
  }
  args[DNNL_ARG_BIAS] = bias_memory();
  fwd_.execute(cpu_stream(), args);
  if (return_sequences_ && go_backwards_) reverse_steps(sequence_.data(), dst);
}

void Recurrent::backward(const Sources& src, const float* dst, float* diff_dst,
                         const SourceGrads& diff_src) {
  const bool in_place = return_sequences_ && !go_backwards_;
  bind(src_m_, src[0]);
  bind(dst_layer_m_, in_place ? dst : sequence_.data());
  if (in_place) {
    bind(diff_dst_layer_m_, diff_dst);
  } else {
    if (return_sequences_) reverse_steps(diff_dst, diff_sequence_.data());
    bind(diff_dst_layer_m_, diff_sequence_.data());
  }
  bind(diff_src_m_, diff_src[0] ? diff_src[0] : diff_src_.data());
  // oneDNN adds the weight gradients to what the buffers hold
  std::fill(kernel_->grad.begin(), kernel_->grad.end(), 0.f);
  std::fill(recurrent_->grad.begin(), recurrent_->grad.end(), 0.f);
  bind(diff_wl_m_, kernel_->grad.data());
  bind(diff_wi_m_, recurrent_->grad.data());
  std::unordered_map<int, memory> args{
      {DNNL_ARG_SRC_LAYER, src_m_},
      {DNNL_ARG_WEIGHTS_LAYER, bwd_layer_w_.values(*kernel_)},
      {DNNL_ARG_WEIGHTS_ITER, bwd_iter_w_.values(*recurrent_)},
      {DNNL_ARG_DST_LAYER, dst_layer_m_},
      {DNNL_ARG_DIFF_DST_LAYER, diff_dst_layer_m_},
      {DNNL_ARG_DIFF_SRC_LAYER, diff_src_m_},
      {DNNL_ARG_DIFF_WEIGHTS_LAYER, diff_wl_m_},
      {DNNL_ARG_DIFF_WEIGHTS_ITER, diff_wi_m_},
      {DNNL_ARG_WORKSPACE, ws_m_}};
  if (!return_sequences_) {
    bind(dst_iter_m_, dst);
    bind(diff_dst_iter_m_, diff_dst);
    args[DNNL_ARG_DST_ITER] = dst_iter_m_;
    args[DNNL_ARG_DIFF_DST_ITER] = diff_dst_iter_m_;
    if (has_cell_state()) {
      args[DNNL_ARG_DST_ITER_C] = cell_m_;
      args[DNNL_ARG_DIFF_DST_ITER_C] = diff_cell_m_;
    }
  }
  args[DNNL_ARG_BIAS] = bias_memory();
  const bool direct = use_bias_ && !bias_converted();
  float* bias_grad = direct ? bias_->grad.data() : bias_grad_.data();
  std::fill_n(bias_grad, primitive_bias_gates() * units_, 0.f);
  bind(diff_bias_m_, bias_grad);
  args[DNNL_ARG_DIFF_BIAS] = diff_bias_m_;
  bwd_.execute(cpu_stream(), args);
  if (use_bias_ && !direct) bias_grad_to_keras(bias_grad, bias_->grad.data());
}

}  // namespace fmnistcpp
