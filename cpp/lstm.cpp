// LSTM, as Keras 3's (keras/src/layers/rnn/lstm.py): gates i, f, c, o;
// c_t = f * c_{t-1} + i * tanh(z_c), h_t = o * tanh(c_t), with sigmoid i, f,
// o, which is oneDNN's vanilla_lstm cell. Kernel (input_dim, 4 * units),
// recurrent_kernel (units, 4 * units), bias (4 * units); recurrent.hpp has
// the layouts and the shared arguments. unit_forget_bias is an initializer
// (Python's).
#include "layer_registry.hpp"
#include "recurrent.hpp"

namespace fmnistcpp {

class LSTM : public Recurrent {
 public:
  explicit LSTM(Config config) : Recurrent(std::move(config), 4) { require_gate_activations(); }

 private:
  bool has_cell_state() const override { return true; }
  void describe(const Descs& d, dnnl::rnn_primitive_desc_base& fwd,
                dnnl::rnn_primitive_desc_base& bwd) override {
    const dnnl::memory::desc none;  // zero initial states
    auto f = dnnl::lstm_forward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::forward_training, d.direction, d.src_layer, none, none,
        d.weights_layer, d.weights_iter, d.bias, d.dst_layer, d.dst_iter, d.dst_iter_c);
    bwd = dnnl::lstm_backward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::backward, d.direction, d.src_layer, none, none,
        d.weights_layer, d.weights_iter, d.bias, d.dst_layer, d.dst_iter, d.dst_iter_c,
        d.src_layer, none, none, d.diff_weights_layer, d.diff_weights_iter, d.diff_bias,
        d.dst_layer, d.dst_iter, d.dst_iter_c, f);
    fwd = f;
  }
};

static RegisterLayer<LSTM> registered("LSTM");

}  // namespace fmnistcpp
