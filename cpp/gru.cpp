// GRU, as Keras 3's (keras/src/layers/rnn/gru.py): gates z (update), r
// (reset), h; h_t = z * h_{t-1} + (1 - z) * hh. With reset_after=True (the
// default) hh = tanh(x W_h + b_in_h + r * (h_{t-1} U_h + b_rec_h)), which is
// oneDNN's linear-before-reset GRU; with reset_after=False hh = tanh(x W_h
// + b_h + (r * h_{t-1}) U_h), oneDNN's vanilla_gru. Kernel (input_dim,
// 3 * units), recurrent_kernel (units, 3 * units); bias (2, 3 * units)
// (input row, recurrent row) with reset_after, else (3 * units).
//
// oneDNN's linear-before-reset bias has four gate biases (u, r, o, u'):
// the input and recurrent biases of z and r only ever appear summed, so
// b_u = b_in_z + b_rec_z, b_r = b_in_r + b_rec_r, b_o = b_in_h, b_u' =
// b_rec_h; each Keras half of z and r gets the full gradient of the sum.
#include "layer_registry.hpp"
#include "recurrent.hpp"

#include <cstring>

namespace fmnistcpp {

class GRU : public Recurrent {
 public:
  explicit GRU(Config config)
      : Recurrent(std::move(config), 3), reset_after_(config_.flag("reset_after", true)) {
    require_gate_activations();
  }

 private:
  Shape bias_shape() const override {
    return reset_after_ ? Shape{2, 3 * units_} : Shape{3 * units_};
  }
  int primitive_bias_gates() const override { return reset_after_ ? 4 : 3; }

  void bias_to_primitive(const float* keras, float* out) const override {
    if (!reset_after_) return Recurrent::bias_to_primitive(keras, out);
    const int64_t U = units_;
    const float* in = keras;
    const float* rec = keras + 3 * U;
    for (int64_t i = 0; i < 2 * U; ++i) out[i] = in[i] + rec[i];
    std::memcpy(out + 2 * U, in + 2 * U, sizeof(float) * U);
    std::memcpy(out + 3 * U, rec + 2 * U, sizeof(float) * U);
  }

  void bias_grad_to_keras(const float* grad, float* keras) const override {
    if (!reset_after_) return Recurrent::bias_grad_to_keras(grad, keras);
    const int64_t U = units_;
    std::memcpy(keras, grad, sizeof(float) * 3 * U);              // input row: u, r, o
    std::memcpy(keras + 3 * U, grad, sizeof(float) * 2 * U);      // recurrent row: u, r
    std::memcpy(keras + 5 * U, grad + 3 * U, sizeof(float) * U);  // and u'
  }

  void describe(const Descs& d, dnnl::rnn_primitive_desc_base& fwd,
                dnnl::rnn_primitive_desc_base& bwd) override {
    if (reset_after_)
      describe_as<dnnl::lbr_gru_forward, dnnl::lbr_gru_backward>(d, fwd, bwd);
    else
      describe_as<dnnl::gru_forward, dnnl::gru_backward>(d, fwd, bwd);
  }

  // lbr_gru and gru take the same descriptors
  template <class Forward, class Backward>
  static void describe_as(const Descs& d, dnnl::rnn_primitive_desc_base& fwd,
                          dnnl::rnn_primitive_desc_base& bwd) {
    const dnnl::memory::desc none;  // zero initial state
    auto f = typename Forward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::forward_training, d.direction, d.src_layer, none,
        d.weights_layer, d.weights_iter, d.bias, d.dst_layer, d.dst_iter);
    bwd = typename Backward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::backward, d.direction, d.src_layer, none, d.weights_layer,
        d.weights_iter, d.bias, d.dst_layer, d.dst_iter, d.src_layer, none, d.diff_weights_layer,
        d.diff_weights_iter, d.diff_bias, d.dst_layer, d.dst_iter, f);
    fwd = f;
  }

  bool reset_after_;
};

static RegisterLayer<GRU> registered("GRU");

}  // namespace fmnistcpp
