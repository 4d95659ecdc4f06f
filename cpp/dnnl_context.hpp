// One oneDNN CPU engine and stream for the whole process.
#pragma once

#include <dnnl.hpp>

#include <cstdint>
#include <vector>

namespace fmnistcpp {

dnnl::engine& cpu_engine();
dnnl::stream& cpu_stream();

using Dims = dnnl::memory::dims;
using Tag = dnnl::memory::format_tag;
using DataType = dnnl::memory::data_type;

// Plain f32 memory descriptor with a given tag.
inline dnnl::memory::desc plain_md(const Dims& dims, Tag tag) {
  return dnnl::memory::desc(dims, DataType::f32, tag);
}

// Descriptor that lets the primitive choose its preferred (blocked) layout.
inline dnnl::memory::desc any_md(const Dims& dims) {
  return dnnl::memory::desc(dims, DataType::f32, Tag::any);
}

// Memory object without its own buffer: the handle is set right before use,
// so buffers owned by the network are used in place.
inline dnnl::memory unbound_memory(const dnnl::memory::desc& md) {
  return dnnl::memory(md, cpu_engine(), DNNL_MEMORY_NONE);
}

inline void bind(dnnl::memory& m, const float* p) {
  m.set_data_handle(const_cast<float*>(p));
}

}  // namespace fmnistcpp
