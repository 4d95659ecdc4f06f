// Float buffer aligned to a cache line, grown on demand and never shrunk, so
// per-batch work reuses the same memory.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <new>

namespace fmnistcpp {

class AlignedBuffer {
 public:
  AlignedBuffer() = default;
  AlignedBuffer(const AlignedBuffer&) = delete;
  AlignedBuffer& operator=(const AlignedBuffer&) = delete;
  AlignedBuffer(AlignedBuffer&& o) noexcept : data_(o.data_), capacity_(o.capacity_) {
    o.data_ = nullptr;
    o.capacity_ = 0;
  }
  ~AlignedBuffer() { std::free(data_); }

  // Ensures room for n floats; contents are not preserved when it grows.
  float* reserve(std::size_t n) {
    if (n > capacity_) {
      std::free(data_);
      std::size_t bytes = ((n * sizeof(float) + 63) / 64) * 64;
      data_ = static_cast<float*>(std::aligned_alloc(64, bytes));
      if (!data_) throw std::bad_alloc();
      capacity_ = n;
    }
    return data_;
  }
  float* data() const { return data_; }
  std::size_t capacity() const { return capacity_; }

 private:
  float* data_ = nullptr;
  std::size_t capacity_ = 0;
};

}  // namespace fmnistcpp
