// BatchNormalization over the last (channel) axis, as Keras 3's: in
// training, normalise with the batch's mean and biased variance over every
// other axis and move the moving statistics toward them
// (moving = moving * momentum + batch * (1 - momentum)); otherwise normalise
// with the moving statistics. Weights in Keras's order: gamma (if scale),
// beta (if center), moving_mean, moving_variance; the last two are not
// trainable (the optimizer never sees them). oneDNN's batch_normalization
// runs on the NHWC buffer seen as (N, spatial, C) (`nwc`), or `nc`.
#pragma once

#include "aligned_buffer.hpp"
#include "dnnl_context.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class BatchNormalization : public Layer {
 public:
  // Keras's `axis` (the last only), `momentum`, `epsilon`, `center`, `scale`.
  explicit BatchNormalization(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override;
  bool frozen_means_inference() const override { return true; }

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  void bind_statistics(bool batch_stats);

  int64_t axis_;
  float momentum_, epsilon_;
  double one_minus_momentum_;
  bool center_, scale_;
  int64_t channels_ = 0;
  std::unique_ptr<Param> gamma_, beta_, moving_mean_, moving_variance_;
  std::vector<float> batch_mean_, batch_var_;
  std::vector<float> ones_, zeros_;  // diff_scale / diff_shift sinks when unused
  bool last_used_batch_stats_ = false;
  AlignedBuffer scratch_diff_src_;  // when the network needs no diff_src
  dnnl::batch_normalization_forward fwd_batch_, fwd_global_;
  dnnl::batch_normalization_backward bwd_batch_, bwd_global_;
  dnnl::memory src_m_, dst_m_, diff_dst_m_, diff_src_m_;
  dnnl::memory mean_m_, var_m_, scale_m_, shift_m_, diff_scale_m_, diff_shift_m_;
};

}  // namespace fmnistcpp
