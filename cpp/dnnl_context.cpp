#include "dnnl_context.hpp"

#include "engine_lock.hpp"

namespace fmnistcpp {

dnnl::engine& cpu_engine() {
  static dnnl::engine engine(dnnl::engine::kind::cpu, 0);
  return engine;
}

std::mutex& engine_mutex() {
  static std::mutex mutex;
  return mutex;
}

dnnl::stream& cpu_stream() {
  static dnnl::stream stream(cpu_engine());
  return stream;
}

}  // namespace fmnistcpp
