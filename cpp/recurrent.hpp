// Keras's recurrent layers (SimpleRNN, LSTM, GRU) on oneDNN's RNN
// primitives, over inputs (timesteps, features) in Keras's batch-major
// order, which oneDNN reads as `ntc` without a transpose. The initial state
// is zero (Keras's default); the output is the last state, or with
// return_sequences the state at every step.
//
// Layouts. Keras's kernel (input_dim, gates * units) and recurrent_kernel
// (units, gates * units) hold the gates side by side along the last axis;
// read row-major that is oneDNN's `ldigo` ({1, 1, in, gates, units}), and
// Keras's gate orders are oneDNN's (LSTM i, f, c, o; GRU z (update), r,
// h). So the weights need a reorder only where a primitive asks for another
// layout (backward wants `ldgoi`: WeightsLayout makes it when the values
// changed), and gradients arrive in `ldigo`, straight into Param::grad.
// The bias (gates * units) is oneDNN's `ldgo`, except for GRU's
// reset_after bias, which the subclass converts (gru.cpp).
//
// go_backwards: oneDNN's right-to-left direction reads the inputs from the
// last step to the first, as Keras does, but stores the state after input t
// at position t; Keras's sequence output is in processing order, so with
// return_sequences the sequence is reversed on the way out (and its
// gradient on the way back).
#pragma once

#include "layer.hpp"
#include "weights_layout.hpp"

#include <memory>

namespace fmnistcpp {

class Recurrent : public Layer {
 public:
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;

 protected:
  // Reads the arguments every recurrent layer has: units, activation,
  // use_bias, return_sequences, return_state, go_backwards, stateful,
  // dropout, recurrent_dropout. `gates`: 1 (SimpleRNN), 4 (LSTM), 3 (GRU).
  Recurrent(Config config, int gates);

  // The descriptors a subclass's primitives are made from, for one batch.
  struct Descs {
    dnnl::rnn_direction direction;
    // dst_iter_c: LSTM's last cell state, which oneDNN computes whenever
    // dst_iter is asked for (nobody reads it: scratch)
    dnnl::memory::desc src_layer, weights_layer, weights_iter, bias, dst_layer, dst_iter,
        dst_iter_c;
    dnnl::memory::desc diff_weights_layer, diff_weights_iter, diff_bias;
  };
  // The forward (forward_training) and backward primitive descriptors.
  virtual void describe(const Descs& d, dnnl::rnn_primitive_desc_base& fwd,
                        dnnl::rnn_primitive_desc_base& bwd) = 0;
  // Keras's bias shape, and how many gate biases oneDNN's bias holds
  // (gates, or 4 for GRU's linear-before-reset cell).
  virtual Shape bias_shape() const { return {gates_ * units_}; }
  virtual int primitive_bias_gates() const { return gates_; }
  virtual bool has_cell_state() const { return false; }
  // Keras's bias -> oneDNN's, and oneDNN's bias gradient -> Keras's; the
  // default is the identity (the layouts agree).
  virtual void bias_to_primitive(const float* keras, float* primitive) const;
  virtual void bias_grad_to_keras(const float* primitive, float* keras) const;
  // LSTM and GRU: oneDNN's cells fix activation='tanh' and
  // recurrent_activation='sigmoid'; anything else is NotImplementedError.
  void require_gate_activations();
  // Keras's `activation` (checked by the subclass against what its cell computes).
  std::string activation_;
  int64_t units_;
  int gates_;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  bool bias_converted() const;
  const dnnl::memory& bias_memory();  // the bias in oneDNN's layout, converted when it changed
  void reverse_steps(const float* from, float* to) const;  // time order flipped

  bool use_bias_, return_sequences_, go_backwards_;
  int64_t steps_ = 0, features_ = 0;
  std::unique_ptr<Param> kernel_, recurrent_, bias_;

  dnnl::primitive fwd_, bwd_;
  WeightsLayout fwd_layer_w_, fwd_iter_w_, bwd_layer_w_, bwd_iter_w_;
  dnnl::memory src_m_, dst_layer_m_, dst_iter_m_, bias_m_, ws_m_;
  dnnl::memory diff_src_m_, diff_dst_layer_m_, diff_dst_iter_m_;
  dnnl::memory diff_wl_m_, diff_wi_m_, diff_bias_m_;
  dnnl::memory cell_m_, diff_cell_m_;  // LSTM's last cell state and its (zero) gradient
  AlignedBuffer sequence_;       // the states in oneDNN's order, when not the output itself
  AlignedBuffer diff_sequence_;  // their gradient (zeros when only the last state is output)
  AlignedBuffer diff_src_;       // the input's gradient when nobody asked for it
  AlignedBuffer bias_values_, bias_grad_;  // converted bias (GRU reset_after), or zeros
  AlignedBuffer cell_, diff_cell_;
  uint64_t bias_version_ = ~uint64_t(0);
};

}  // namespace fmnistcpp
