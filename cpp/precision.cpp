#include "precision.hpp"

#include "parallel.hpp"

namespace fmnistcpp {

static bool has_isa(dnnl::cpu_isa effective, dnnl::cpu_isa wanted) {
  // oneDNN's ISA values are bit masks: each level includes the bits of the
  // levels it extends (AMX and AVX512-FP16 include AVX512-BF16's).
  const auto w = static_cast<unsigned>(wanted);
  return (static_cast<unsigned>(effective) & w) == w;
}

bool bf16_supported() {
  static const bool supported =
      has_isa(dnnl::get_effective_cpu_isa(), dnnl::cpu_isa::avx512_core_bf16);
  return supported;
}

bool avx512_supported() {
  static const bool supported =
      has_isa(dnnl::get_effective_cpu_isa(), dnnl::cpu_isa::avx512_core);
  return supported;
}

std::string cpu_isa_name() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  struct Named { dnnl::cpu_isa isa; const char* name; };
  // most capable first
  static const Named names[] = {
      {dnnl::cpu_isa::avx512_core_amx_fp16, "avx512_core_amx_fp16"},
      {dnnl::cpu_isa::avx512_core_amx, "avx512_core_amx"},
      {dnnl::cpu_isa::avx512_core_fp16, "avx512_core_fp16"},
      {dnnl::cpu_isa::avx512_core_bf16, "avx512_core_bf16"},
      {dnnl::cpu_isa::avx512_core_vnni, "avx512_core_vnni"},
      {dnnl::cpu_isa::avx512_core, "avx512_core"},
      {dnnl::cpu_isa::avx2_vnni_2, "avx2_vnni_2"},
      {dnnl::cpu_isa::avx2_vnni, "avx2_vnni"},
      {dnnl::cpu_isa::avx2, "avx2"},
      {dnnl::cpu_isa::avx, "avx"},
      {dnnl::cpu_isa::sse41, "sse41"},
  };
  for (const Named& n : names)
    if (has_isa(isa, n.isa)) return n.name;
  return "default";
}

dnnl::memory::desc with_type(const dnnl::memory::desc& md, DataType type) {
  if (md.get_format_kind() == dnnl::memory::format_kind::any)
    return dnnl::memory::desc(md.get_dims(), type, Tag::any);
  return dnnl::memory::desc(md.get_dims(), type, md.get_strides());
}

void ReorderedCopy::prepare(const dnnl::memory::desc& f32_md, const dnnl::memory::desc& copy_md) {
  f32_m_ = unbound_memory(f32_md);
  copy_m_ = unbound_memory(copy_md);
  bind(copy_m_, buffer_.reserve((copy_md.get_size() + sizeof(float) - 1) / sizeof(float)));
  reorder_ = dnnl::reorder(f32_m_, copy_m_);
  source_ = nullptr;
}

const dnnl::memory& ReorderedCopy::convert(const float* p) {
  bind(f32_m_, p);
  reorder_.execute(cpu_stream(), f32_m_, copy_m_);
  source_ = p;
  return copy_m_;
}

FMNISTCPP_ISA_CLONES
static void relu_backward_bf16(const float* y, const float* dy, uint16_t* out, int64_t begin,
                               int64_t end) {
  for (int64_t i = begin; i < end; ++i) out[i] = bf16_bits(y[i] > 0.f ? dy[i] : 0.f);
}

const dnnl::memory& ReorderedCopy::relu_backward(const float* y, const float* dy) {
  const int64_t n = static_cast<int64_t>(copy_m_.get_desc().get_size() / sizeof(uint16_t));
  auto* out = static_cast<uint16_t*>(copy_m_.get_data_handle());
  parallel_ranges(n, 1 << 14, [&](int64_t b, int64_t e) { relu_backward_bf16(y, dy, out, b, e); });
  source_ = nullptr;
  return copy_m_;
}

}  // namespace fmnistcpp
