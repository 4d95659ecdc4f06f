// UpSampling2D: the image enlarged by integer factors `size` (rows,
// columns), as Keras. interpolation='nearest' repeats each pixel (Keras's
// ops.repeat); 'bilinear' is TensorFlow's resize with half-pixel centres
// (source coordinate (o + 0.5) / factor - 0.5, clamped at the edges), which
// is oneDNN's linear resampling. Both run as oneDNN resampling, forward and
// backward. Keras's other interpolations are not implemented.
#include "conv2d.hpp"  // image_md
#include "layer_registry.hpp"

#include <stdexcept>

namespace fmnistcpp {

using dnnl::algorithm;
using dnnl::prop_kind;

class UpSampling2D : public Layer {
 public:
  explicit UpSampling2D(Config config)
      : Layer(std::move(config)), size_(config_.positive_tuple("size", 2, {2, 2})),
        channels_first_(config_.choice("data_format", {"channels_last", "channels_first"},
                                       "channels_last") == "channels_first") {
    const std::string how = config_.choice(
        "interpolation", {"nearest", "bilinear", "bicubic", "lanczos3", "lanczos5", "area"},
        "nearest");
    if (how != "nearest" && how != "bilinear")
      throw not_implemented("UpSampling2D interpolation='" + how +
                            "' is not supported; use 'nearest' or 'bilinear'");
    linear_ = how == "bilinear";
  }

  void prepare(int64_t batch) override {
    if (batch == batch_) return;
    batch_ = batch;
    auto& eng = cpu_engine();
    auto src_md = image_md(batch, c_, h_, w_, channels_first_);
    auto dst_md = image_md(batch, c_, h_ * size_[0], w_ * size_[1], channels_first_);
    auto alg = linear_ ? algorithm::resampling_linear : algorithm::resampling_nearest;
    auto fwd_pd = dnnl::resampling_forward::primitive_desc(eng, prop_kind::forward_training, alg,
                                                           src_md, dst_md);
    auto bwd_pd = dnnl::resampling_backward::primitive_desc(eng, alg, src_md, dst_md, fwd_pd);
    fwd_ = dnnl::resampling_forward(fwd_pd);
    bwd_ = dnnl::resampling_backward(bwd_pd);
    src_m_ = unbound_memory(src_md);
    dst_m_ = unbound_memory(dst_md);
    diff_dst_m_ = unbound_memory(dst_md);
    diff_src_m_ = unbound_memory(src_md);
  }
  // [N, H, W, C] -> [N, H * size[0], W * size[1], C]
  void forward(const Sources& src, float* dst, const ForwardMode&) override {
    bind(src_m_, src[0]);
    bind(dst_m_, dst);
    fwd_.execute(cpu_stream(), {{DNNL_ARG_SRC, src_m_}, {DNNL_ARG_DST, dst_m_}});
  }
  // each input pixel gathers the gradients of the outputs it contributed to
  void backward(const Sources&, const float*, float* diff_dst,
                const SourceGrads& diff_src) override {
    if (!diff_src[0]) return;
    bind(diff_dst_m_, diff_dst);
    bind(diff_src_m_, diff_src[0]);
    bwd_.execute(cpu_stream(),
                 {{DNNL_ARG_DIFF_DST, diff_dst_m_}, {DNNL_ARG_DIFF_SRC, diff_src_m_}});
  }

 private:
  Shape infer(const std::vector<Shape>& inputs) override {
    const Shape& in = inputs[0];
    if (in.size() != 3)
      throw std::invalid_argument("UpSampling2D expects input of shape " +
                                  std::string(channels_first_ ? "(channels, height, width)"
                                                              : "(height, width, channels)") +
                                  ", got " + shape_str(in));
    c_ = channels_first_ ? in[0] : in[2];
    h_ = channels_first_ ? in[1] : in[0];
    w_ = channels_first_ ? in[2] : in[1];
    const int64_t oh = checked_size({h_, size_[0]}, "UpSampling2D's output");
    const int64_t ow = checked_size({w_, size_[1]}, "UpSampling2D's output");
    return channels_first_ ? Shape{c_, oh, ow} : Shape{oh, ow, c_};
  }
  std::vector<int64_t> size_;
  bool channels_first_, linear_ = false;
  int64_t c_ = 0, h_ = 0, w_ = 0;
  dnnl::resampling_forward fwd_;
  dnnl::resampling_backward bwd_;
  dnnl::memory src_m_, dst_m_, diff_dst_m_, diff_src_m_;
};

static RegisterLayer<UpSampling2D> registered("UpSampling2D");

}  // namespace fmnistcpp
