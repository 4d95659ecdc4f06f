// Moving a smaller image into or out of a larger one at an offset: the
// forward and backward passes of ZeroPadding2D and Cropping2D (each one's
// forward is the other's backward).
#pragma once

#include <cstdint>
#include <cstring>

namespace fmnistcpp {

// The two images' geometry. Channels last, each row holds width * channels
// contiguous floats (planes = batch); channels first, each (sample, channel)
// is a plane of rows of `width` floats (planes = batch * channels, depth 1).
struct WindowGeometry {
  int64_t planes, depth;           // depth: floats per pixel (channels last) or 1
  int64_t small_h, small_w, big_h, big_w;
  int64_t top, left;               // where the small image sits in the big one
};

// into_big: big[top + i, left + j] = small[i, j] and the rest of big = 0;
// else small[i, j] = big[top + i, left + j].
inline void copy_window(const WindowGeometry& g, const float* from, float* to, bool into_big) {
  const int64_t small_plane = g.small_h * g.small_w * g.depth;
  const int64_t big_plane = g.big_h * g.big_w * g.depth;
  const int64_t row = g.small_w * g.depth;
#pragma omp parallel for schedule(static)
  for (int64_t p = 0; p < g.planes; ++p) {
    if (into_big) std::memset(to + p * big_plane, 0, sizeof(float) * big_plane);
    for (int64_t i = 0; i < g.small_h; ++i) {
      const int64_t s = p * small_plane + i * row;
      const int64_t b = p * big_plane + ((g.top + i) * g.big_w + g.left) * g.depth;
      if (into_big) std::memcpy(to + b, from + s, sizeof(float) * row);
      else std::memcpy(to + s, from + b, sizeof(float) * row);
    }
  }
}

}  // namespace fmnistcpp
