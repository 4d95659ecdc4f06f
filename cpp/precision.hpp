// bfloat16 compute for Keras's "mixed_bfloat16" policy. The layers whose
// oneDNN primitives have bf16 kernels (convolutions, inner products) read
// their source, weights and output gradient in bf16 and write float32
// (output, input gradient, weight gradient); everything else, the
// variables, the optimizer state, the loss and the activations stored
// between layers stay float32, as Keras keeps variables and the loss in
// float32.
//
// bf16 memory rather than fpmath_mode::bf16 on f32 tensors: oneDNN 3.2
// applies that mode only on AMX CPUs, while bf16 tensors run on AMX and on
// AVX512-BF16 alike (oneDNN picks the kernel at run time).
#pragma once

#include "aligned_buffer.hpp"
#include "dnnl_context.hpp"

#include <cstdint>
#include <cstring>
#include <string>

namespace fmnistcpp {

// Whether oneDNN may dispatch bf16 convolution / inner-product kernels here
// (AVX512-BF16 or AMX, as allowed by ONEDNN_MAX_CPU_ISA). On other CPUs
// oneDNN would emulate bf16 slower than float32, so the layers stay float32.
bool bf16_supported();
// Whether oneDNN may dispatch AVX-512 (avx512_core) kernels here, as allowed
// by ONEDNN_MAX_CPU_ISA: our own AVX-512 loops follow the same choice.
bool avx512_supported();
// The ISA oneDNN dispatches to ("avx512_core_amx", "avx512_core_bf16", ...).
std::string cpu_isa_name();

// float32 -> bfloat16 bits, rounding to nearest even as oneDNN's reorder
// does; NaN stays NaN (quieted).
inline uint16_t bf16_bits(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof u);
  const bool nan = (u & 0x7fffffffu) > 0x7f800000u;
  const uint32_t rounded = (u + 0x7fffu + ((u >> 16) & 1u)) >> 16;
  return static_cast<uint16_t>(nan ? (u >> 16) | 0x40u : rounded);
}

// md with another data type, dims and layout kept (format_tag::any stays any).
dnnl::memory::desc with_type(const dnnl::memory::desc& md, DataType type);

// A float32 activation's copy in the data type or layout a primitive reads
// (bf16 under mixed_bfloat16; a blocked layout for the AVX2 backward-weights
// kernels, conv2d.cpp), in a buffer of its own, by a reorder built once per
// shape (prepare) and run per batch (convert).
class ReorderedCopy {
 public:
  void prepare(const dnnl::memory::desc& f32_md, const dnnl::memory::desc& copy_md);
  const dnnl::memory& convert(const float* p);
  // The copy made by the last convert(p) when p is the same tensor (the
  // forward pass's input, read again by backward), else a new one.
  const dnnl::memory& of(const float* p) { return p == source_ ? copy_m_ : convert(p); }
  void forget() { source_ = nullptr; }
  // The bf16 copy of ReLU's input gradient (dy where y > 0, else 0), from
  // the ReLU's output y and output gradient dy, in one pass. For a plain
  // (dense) layout, which the activations between layers always have; only
  // for a bf16 copy in that layout.
  const dnnl::memory& relu_backward(const float* y, const float* dy);

 private:
  dnnl::memory f32_m_, copy_m_;
  dnnl::reorder reorder_;
  AlignedBuffer buffer_;
  const float* source_ = nullptr;
};

}  // namespace fmnistcpp
