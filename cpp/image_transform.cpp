#include "image_transform.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace fmnistcpp {

FillMode fill_mode_from(const std::string& name) {
  if (name == "reflect") return FillMode::reflect;
  if (name == "wrap") return FillMode::wrap;
  if (name == "nearest") return FillMode::nearest;
  return FillMode::constant;
}

Interpolation interpolation_from(const std::string& name) {
  return name == "nearest" ? Interpolation::nearest : Interpolation::bilinear;
}

// TensorFlow's MapCoordinate, float arithmetic and integer truncations included.
static float map_coordinate(float c, int64_t len, FillMode mode) {
  const float top = static_cast<float>(len - 1);
  switch (mode) {
    case FillMode::constant:
      return c;
    case FillMode::nearest:
      return std::clamp(c, 0.f, top);
    case FillMode::reflect:  // [abcd] -> [dcba|abcd|dcba]
      if (c < 0) {
        if (len <= 1) {
          c = 0;
        } else {
          const int64_t sz2 = 2 * len;
          if (c < sz2) c = sz2 * static_cast<int64_t>(-c / sz2) + c;
          c = (c < -len) ? c + sz2 : -c - 1;
        }
      } else if (c > top) {
        if (len <= 1) {
          c = 0;
        } else {
          const int64_t sz2 = 2 * len;
          c -= sz2 * static_cast<int64_t>(c / sz2);
          if (c >= len) c = sz2 - c - 1;
        }
      }
      return std::clamp(c, 0.f, top);
    case FillMode::wrap:  // [abcd] -> [abcd|abcd|abcd]
      if (c < 0) {
        if (len <= 1) {
          c = 0;
        } else {
          const int64_t sz = len - 1;
          c += len * (static_cast<int64_t>(-c / sz) + 1);
        }
      } else if (c > top) {
        if (len <= 1) {
          c = 0;
        } else {
          const int64_t sz = len - 1;
          c -= len * static_cast<int64_t>(c / sz);
        }
      }
      return std::clamp(c, 0.f, top);
  }
  return c;
}

// The input pixels output pixel (ox, oy) reads and their weights: up to 4
// (index into the H x W grid, or -1 for fill_value). Returns false when the
// whole pixel is fill_value.
struct Taps {
  int64_t at[4];
  float w[4];
  int n = 0;
};

static bool taps(int64_t ox, int64_t oy, const float* m, const ImageGeometry& g, Taps& t) {
  const float fx = static_cast<float>(ox), fy = static_cast<float>(oy);
  const float in_x = m[0] * fx + m[1] * fy + m[2];
  const float in_y = m[3] * fx + m[4] * fy + m[5];
  const float x = map_coordinate(in_x, g.width, g.fill);
  const float y = map_coordinate(in_y, g.height, g.fill);
  // Coordinates outside the image (left there by the constant mode only)
  // read fill_value tap by tap, as TensorFlow 2.21's kernel does: an edge
  // pixel half outside blends the image with fill_value. (Some versions of
  // the kernel fill the whole pixel instead; tests/test_augmentation.py
  // pins the behaviour of the installed TensorFlow.)
  // Far outside (or NaN) every tap is fill_value; stop before the integer
  // casts below overflow.
  if (!(std::fabs(x) < 1e9f && std::fabs(y) < 1e9f)) return false;
  auto index = [&](int64_t yy, int64_t xx) -> int64_t {
    return (0 <= yy && yy < g.height && 0 <= xx && xx < g.width) ? yy * g.width + xx : -1;
  };
  if (g.interpolation == Interpolation::nearest) {
    t.at[0] = index(static_cast<int64_t>(std::round(y)), static_cast<int64_t>(std::round(x)));
    t.w[0] = 1.f;
    t.n = 1;
    return true;
  }
  const float y_floor = std::floor(y), x_floor = std::floor(x);
  const float y_ceil = y_floor + 1, x_ceil = x_floor + 1;
  const auto yf = static_cast<int64_t>(y_floor), xf = static_cast<int64_t>(x_floor);
  // TF: (y_ceil - y) * [(x_ceil - x) v00 + (x - x_floor) v01]
  //   + (y - y_floor) * [(x_ceil - x) v10 + (x - x_floor) v11]
  t.at[0] = index(yf, xf);
  t.at[1] = index(yf, xf + 1);
  t.at[2] = index(yf + 1, xf);
  t.at[3] = index(yf + 1, xf + 1);
  t.w[0] = x_ceil - x;
  t.w[1] = x - x_floor;
  t.w[2] = y_ceil - y;  // the row weights; see affine_forward for the order
  t.w[3] = y - y_floor;
  t.n = 4;
  return true;
}

void affine_forward(const float* in, float* out, const float* m, const ImageGeometry& g) {
  const int64_t C = g.channels;
  Taps t;
  for (int64_t oy = 0; oy < g.height; ++oy)
    for (int64_t ox = 0; ox < g.width; ++ox) {
      float* o = out + (oy * g.width + ox) * C;
      if (!taps(ox, oy, m, g, t)) {
        std::fill(o, o + C, g.fill_value);
        continue;
      }
      auto read = [&](int k, int64_t c) {
        return t.at[k] >= 0 ? in[t.at[k] * C + c] : g.fill_value;
      };
      for (int64_t c = 0; c < C; ++c) {
        if (t.n == 1) {
          o[c] = read(0, c);
        } else {
          const float top = t.w[0] * read(0, c) + t.w[1] * read(1, c);
          const float bottom = t.w[0] * read(2, c) + t.w[1] * read(3, c);
          o[c] = t.w[2] * top + t.w[3] * bottom;
        }
      }
    }
}

void affine_backward(const float* diff_out, float* diff_in, const float* m,
                     const ImageGeometry& g) {
  const int64_t C = g.channels;
  std::memset(diff_in, 0, g.height * g.width * C * sizeof(float));
  Taps t;
  for (int64_t oy = 0; oy < g.height; ++oy)
    for (int64_t ox = 0; ox < g.width; ++ox) {
      if (!taps(ox, oy, m, g, t)) continue;
      const float* d = diff_out + (oy * g.width + ox) * C;
      float w[4];
      if (t.n == 1) {
        w[0] = 1.f;
      } else {
        w[0] = t.w[2] * t.w[0];
        w[1] = t.w[2] * t.w[1];
        w[2] = t.w[3] * t.w[0];
        w[3] = t.w[3] * t.w[1];
      }
      for (int k = 0; k < t.n; ++k) {
        if (t.at[k] < 0) continue;  // fill_value: a constant
        float* di = diff_in + t.at[k] * C;
        for (int64_t c = 0; c < C; ++c) di[c] += w[k] * d[c];
      }
    }
}

}  // namespace fmnistcpp
