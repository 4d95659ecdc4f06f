// Known defects of the oneDNN release fmnistcpp links (3.2, PyPI's
// onednn-cpu-gomp), each worked around where the layer describes its
// primitives, with the evidence and a check that the workaround still holds.
#pragma once

#include <algorithm>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

namespace fmnistcpp {

// A kernel of extent 1 on every spatial axis (conv2d.cpp keeps those off its
// blocked weight-gradient path for the reason below).
inline bool is_one_by_one(const std::vector<int64_t>& kernel) {
  return std::all_of(kernel.begin(), kernel.end(), [](int64_t k) { return k == 1; });
}

// oneDNN's jit_1x1 backward-weights kernels (AVX2, AVX-512, AVX-512 bf16)
// copy a strided source into a per-thread "reduce to unit stride" workspace;
// for a channels-last source with fewer channels than their block (8 on
// AVX2, 16 on AVX-512) they index it by the block and write past it: wrong
// gradients, a hang on two threads, a segfault on one (oneDNN issue #6035,
// open; here on a Zen 2, Conv2D(16, 1, strides=2) over 28x28x3 images hung on
// two threads and crashed on one). Those kernels take only blocked weights,
// so asking for the weight gradient in Keras's plain layout sends a strided
// 1x1 convolution to oneDNN's GEMM kernels, which write straight into the
// gradient (no reorder either). Channels-first sources take the blocked path,
// which is right. For a transposed convolution the source of oneDNN's inner
// convolution is the layer's output gradient: the same rule on its layout.
inline bool needs_plain_weight_gradient(const std::vector<int64_t>& kernel,
                                        const std::vector<int64_t>& strides, bool channels_first) {
  const bool strided =
      std::any_of(strides.begin(), strides.end(), [](int64_t s) { return s > 1; });
  return is_one_by_one(kernel) && strided && !channels_first;
}

// Refuses, with the reason, a backward-weights primitive that is the broken
// kernel after all (a oneDNN that starts taking plain weights there).
template <class PrimitiveDesc>
void check_not_broken_1x1(const PrimitiveDesc& pd, const std::string& layer) {
  if (std::string(pd.impl_info_str()).find("jit_1x1") != std::string::npos)
    throw std::runtime_error(layer + ": oneDNN picked its jit_1x1 backward-weights kernel for a "
                             "strided 1x1 convolution over channels-last data, which computes "
                             "wrong gradients or crashes (oneDNN issue #6035)");
}

}  // namespace fmnistcpp
