// Dense: activation(inputs @ kernel + bias), Keras's arguments `units`,
// `activation`, `use_bias`. Kernel (in, units), bias (units).
#pragma once

#include "weighted_layer.hpp"

namespace fmnistcpp {

class Dense : public WeightedLayer {
 public:
  explicit Dense(Config config);
  void prepare(int64_t batch) override;
  int64_t work_per_sample() const override { return (input()[0] + 1) * units_; }
  bool defer_weight_gradient(float* dy) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  void prepare_inner_product(int64_t batch);
  void prepare_matmul(int64_t batch);
  void run_forward(const dnnl::memory& src, const dnnl::memory& weights, const dnnl::memory* bias,
                   const dnnl::memory& dst) override;
  void run_backward_weights(const dnnl::memory& src, const dnnl::memory& diff_dst,
                            const dnnl::memory& diff_weights,
                            const dnnl::memory* diff_bias) override;
  void run_backward_data(const dnnl::memory& diff_dst, const dnnl::memory& weights,
                         const dnnl::memory& diff_src) override;

  // The primitives are matmuls when they compute in bf16 (computes_bfloat16()),
  // inner products in float32.
  int64_t units_;
  // matmul's views of the network's buffers: the input read as its
  // transpose (in, batch), the kernel as (units, in), the bias as a row
  dnnl::memory src_t_m_, weights_t_m_, bias_row_m_;
  // scratch of float32's forward split by the kernel's rows (kernel_row_split.hpp)
  AlignedBuffer row_split_partials_;
};

}  // namespace fmnistcpp
