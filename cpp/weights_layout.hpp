// Moves a parameter between Keras's layout (what users, the optimizer and
// saved files see) and the layout a primitive asked for with format_tag::any.
// The reorder runs only when the layouts differ, and for values only when
// the parameter changed since the last call. Values in bfloat16 in Keras's
// own layout are kept in the Param (Param::bf16), where the optimizer may
// have written them already.
#pragma once

#include "dnnl_context.hpp"
#include "param.hpp"

namespace fmnistcpp {

class WeightsLayout {
 public:
  void prepare(const dnnl::memory::desc& keras_md, const dnnl::memory::desc& primitive_md) {
    keras_md_ = keras_md;
    same_ = keras_md == primitive_md;
    in_param_ = primitive_md.get_format_kind() == dnnl::memory::format_kind::blocked &&
                primitive_md == dnnl::memory::desc(keras_md.get_dims(),
                                                   dnnl::memory::data_type::bf16,
                                                   keras_md.get_strides());
    keras_m_ = unbound_memory(keras_md);
    if (same_) {
      primitive_m_ = unbound_memory(keras_md);
    } else if (in_param_) {
      primitive_m_ = unbound_memory(primitive_md);
      reorder_ = dnnl::reorder(keras_m_, primitive_m_);
    } else {
      primitive_m_ = dnnl::memory(primitive_md, cpu_engine());
      reorder_ = dnnl::reorder(keras_m_, primitive_m_);
    }
    seen_version_ = ~uint64_t(0);
  }

  // Values of p in the primitive's layout.
  const dnnl::memory& values(Param& p) {
    if (same_) {
      bind(primitive_m_, p.value.data());
    } else if (in_param_) {
      if (p.bf16.size() != p.value.size()) {
        p.bf16.assign(p.value.size(), 0);
        p.bf16_version = ~uint64_t(0);
      }
      primitive_m_.set_data_handle(p.bf16.data());
      if (p.bf16_version != p.version) {
        bind(keras_m_, p.value.data());
        reorder_.execute(cpu_stream(), keras_m_, primitive_m_);
        p.bf16_version = p.version;
      }
    } else if (seen_version_ != p.version) {
      bind(keras_m_, p.value.data());
      reorder_.execute(cpu_stream(), keras_m_, primitive_m_);
      seen_version_ = p.version;
    }
    return primitive_m_;
  }

 private:
  dnnl::memory::desc keras_md_;
  bool same_ = true;
  bool in_param_ = false;  // bf16 in Keras's layout, in Param::bf16
  dnnl::memory keras_m_, primitive_m_;
  dnnl::reorder reorder_;
  uint64_t seen_version_ = ~uint64_t(0);
};

// Where a primitive writes a parameter's gradient: straight into p.grad when
// the layouts agree, else into scratch that finish() reorders into p.grad.
class GradientLayout {
 public:
  void prepare(const dnnl::memory::desc& keras_md, const dnnl::memory::desc& primitive_md) {
    same_ = keras_md == primitive_md;
    keras_m_ = unbound_memory(keras_md);
    if (same_) {
      primitive_m_ = unbound_memory(keras_md);
    } else {
      primitive_m_ = dnnl::memory(primitive_md, cpu_engine());
      reorder_ = dnnl::reorder(primitive_m_, keras_m_);
    }
  }
  const dnnl::memory& target(Param& p) {
    if (same_) bind(primitive_m_, p.grad.data());
    return primitive_m_;
  }
  void finish(Param& p) {
    if (same_) return;
    bind(keras_m_, p.grad.data());
    reorder_.execute(cpu_stream(), primitive_m_, keras_m_);
  }

 private:
  bool same_ = true;
  dnnl::memory keras_m_, primitive_m_;
  dnnl::reorder reorder_;
};

}  // namespace fmnistcpp
