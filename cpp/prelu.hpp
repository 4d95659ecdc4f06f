// PReLU, as Keras 3: relu(x) - alpha * relu(-x) with a learned alpha of
// the input's shape, of size 1 along Keras's `shared_axes` (1-based, the
// batch being axis 0). oneDNN's prelu primitive, which broadcasts alpha
// and reduces its gradient over the shared axes.
#pragma once

#include "aligned_buffer.hpp"
#include "layer.hpp"

namespace fmnistcpp {

class PReLU : public Layer {
 public:
  explicit PReLU(Config config);
  void prepare(int64_t batch) override;
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;
  std::vector<Param*> params() override { return {alpha_.get()}; }

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  std::vector<int64_t> shared_axes_;
  std::unique_ptr<Param> alpha_;
  dnnl::primitive fwd_, bwd_;
  dnnl::memory src_m_, weights_m_, dst_m_, diff_dst_m_, diff_src_m_, diff_weights_m_;
  AlignedBuffer scratch_;  // diff_src when the layer's input needs no gradient
};

}  // namespace fmnistcpp
