// SimpleRNN, as Keras 3's (keras/src/layers/rnn/simple_rnn.py):
// h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel), which
// is oneDNN's vanilla_rnn cell; it computes tanh (the default), relu or
// sigmoid. Kernel (input_dim, units), recurrent_kernel (units, units), bias
// (units); recurrent.hpp has the layouts and the shared arguments.
#include "layer_registry.hpp"
#include "recurrent.hpp"

namespace fmnistcpp {

class SimpleRNN : public Recurrent {
 public:
  explicit SimpleRNN(Config config) : Recurrent(std::move(config), 1) {
    if (activation_ == "tanh") cell_ = dnnl::algorithm::eltwise_tanh;
    else if (activation_ == "relu") cell_ = dnnl::algorithm::eltwise_relu;
    else if (activation_ == "sigmoid") cell_ = dnnl::algorithm::eltwise_logistic;
    else
      throw not_implemented("SimpleRNN(activation='" + activation_ + "') is not supported: "
                            "oneDNN's RNN cell computes 'tanh' (the default), 'relu' or "
                            "'sigmoid'");
  }

 private:
  void describe(const Descs& d, dnnl::rnn_primitive_desc_base& fwd,
                dnnl::rnn_primitive_desc_base& bwd) override {
    const dnnl::memory::desc none;  // zero initial state
    auto f = dnnl::vanilla_rnn_forward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::forward_training, cell_, d.direction, d.src_layer, none,
        d.weights_layer, d.weights_iter, d.bias, d.dst_layer, d.dst_iter);
    bwd = dnnl::vanilla_rnn_backward::primitive_desc(
        cpu_engine(), dnnl::prop_kind::backward, cell_, d.direction, d.src_layer, none,
        d.weights_layer, d.weights_iter, d.bias, d.dst_layer, d.dst_iter, d.src_layer, none,
        d.diff_weights_layer, d.diff_weights_iter, d.diff_bias, d.dst_layer, d.dst_iter, f);
    fwd = f;
  }

  dnnl::algorithm cell_;
};

static RegisterLayer<SimpleRNN> registered("SimpleRNN");

}  // namespace fmnistcpp
