// The activations oneDNN has no algorithm for, as loops repeating the
// formula Keras 3's TensorFlow backend evaluates (keras/src/backend/
// tensorflow/nn.py) and the gradient TensorFlow's autodiff takes of it.
#pragma once

#include "activation.hpp"

#include <cstdint>

namespace fmnistcpp {

// Whether the hand-written loops implement `kind`, with these arguments.
bool has_kernel(Activation kind, const ActivationArgs& a);
// Whether kernel_backward reads x (all but selu, whose gradient TensorFlow
// takes from the output).
bool kernel_needs_input(Activation kind);

// y = act(x) on n floats; x may equal y.
void kernel_forward(Activation kind, const ActivationArgs& a, const float* x, float* y,
                    int64_t n);
// dx = act'(x) * dy on n floats; dx may equal dy.
void kernel_backward(Activation kind, const ActivationArgs& a, const float* x, const float* y,
                     const float* dy, float* dx, int64_t n);

// Keras 3's sparsemax on TensorFlow, row by row (rows of `cols` contiguous
// floats); y may equal x, dx may equal dy.
void sparsemax_forward(const float* x, float* y, int64_t rows, int64_t cols);
void sparsemax_backward(const float* x, const float* dy, float* dx, int64_t rows, int64_t cols);

}  // namespace fmnistcpp
