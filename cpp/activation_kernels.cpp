#include "activation_kernels.hpp"

#include "parallel.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

namespace fmnistcpp {

// Elementwise loops are cheap per element: split across threads only when
// there is enough of them to pay for waking the others.
constexpr int64_t kMinParallel = 1 << 16;

// TensorFlow's SELU constants (tensorflow/core/kernels/relu_op_functor.h).
constexpr float kSeluScale = 1.0507009873554804934193349852946f;
constexpr float kSeluScaleAlpha = 1.7580993408473768599402175208123f;

bool has_kernel(Activation kind, const ActivationArgs& a) {
  switch (kind) {
    case Activation::selu:
    case Activation::softsign:
    case Activation::tanh_shrink:
    case Activation::hard_shrink:
    case Activation::soft_shrink:
    case Activation::sparse_plus:
    case Activation::sparse_sigmoid:
    case Activation::squareplus:
      return true;
    case Activation::celu:
      return a.alpha != 1.0;  // celu(alpha=1) is elu
    case Activation::relu:  // what oneDNN's relu / clip_v2 cannot do
      return a.threshold != 0.0 || (a.negative_slope != 0.0 && a.max_value) ||
             (a.max_value && *a.max_value < 0.0);
    default:
      return false;
  }
}

bool kernel_needs_input(Activation kind) { return kind != Activation::selu; }

template <class F>
static void map(int64_t n, const F& f) {
  parallel_ranges(n, kMinParallel, [&](int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i) f(i);
  });
}

void kernel_forward(Activation kind, const ActivationArgs& a, const float* x, float* y,
                    int64_t n) {
  const float th = static_cast<float>(a.threshold);
  switch (kind) {
    case Activation::selu:  // (x < 0) ? scale_alpha * (exp(x) - 1) : scale * x
      return map(n, [&](int64_t i) {
        const float v = x[i];
        y[i] = v < 0.f ? kSeluScaleAlpha * (std::exp(v) - 1.f) : kSeluScale * v;
      });
    case Activation::softsign:  // x / (|x| + 1)
      return map(n, [&](int64_t i) { y[i] = x[i] / (std::fabs(x[i]) + 1.f); });
    case Activation::tanh_shrink:  // x - tanh(x)
      return map(n, [&](int64_t i) { y[i] = x[i] - std::tanh(x[i]); });
    case Activation::hard_shrink:  // where(|x| > t, x, 0)
      return map(n, [&](int64_t i) { y[i] = std::fabs(x[i]) > th ? x[i] : 0.f; });
    case Activation::soft_shrink:  // x - t above t, x + t below -t, else 0
      return map(n, [&](int64_t i) {
        const float v = x[i];
        y[i] = v > th ? v - th : (v < -th ? v + th : 0.f);
      });
    case Activation::sparse_plus:  // 0 below -1, (x + 1)^2 / 4 below 1, else x
      return map(n, [&](int64_t i) {
        const float v = x[i], u = v + 1.f;
        y[i] = v <= -1.f ? 0.f : (v < 1.f ? 0.25f * (u * u) : v);
      });
    case Activation::sparse_sigmoid:  // 0 below -1, 1 above 1, else (x + 1) / 2
      return map(n, [&](int64_t i) {
        const float v = x[i];
        y[i] = v <= -1.f ? 0.f : (v >= 1.f ? 1.f : 0.5f * (v + 1.f));
      });
    case Activation::squareplus: {  // (x + sqrt(x^2 + b)) / 2
      const float b = static_cast<float>(a.b);
      return map(n, [&](int64_t i) {
        const float v = x[i];
        y[i] = (v + std::sqrt(v * v + b)) / 2.f;
      });
    }
    case Activation::celu: {  // max(x, 0) + alpha * expm1(min(x, 0) / alpha)
      const float alpha = static_cast<float>(a.alpha);
      return map(n, [&](int64_t i) {
        const float v = x[i];
        y[i] = std::max(v, 0.f) + alpha * std::expm1(std::min(v, 0.f) / alpha);
      });
    }
    case Activation::relu: {
      // keras.activations.relu's general case (ReLU.static_call): where(x >
      // t, x, 0) (relu(x) when t = 0), tf.clip_by_value to [0, max_value]
      // (minimum, then maximum), minus negative_slope * relu(t - x).
      const float slope = static_cast<float>(a.negative_slope);
      const bool clip = a.max_value.has_value();
      const float top = clip ? static_cast<float>(*a.max_value) : 0.f;
      return map(n, [&](int64_t i) {
        const float v = x[i];
        float pos = th != 0.f ? (v > th ? v : 0.f) : std::max(v, 0.f);
        if (clip) pos = std::max(std::min(pos, top), 0.f);
        y[i] = slope != 0.f ? pos - slope * std::max(th - v, 0.f) : pos;
      });
    }
    default:
      throw std::logic_error("no hand-written forward for this activation");
  }
}

void kernel_backward(Activation kind, const ActivationArgs& a, const float* x, const float* y,
                     const float* dy, float* dx, int64_t n) {
  const float th = static_cast<float>(a.threshold);
  switch (kind) {
    case Activation::selu:  // TF's SeluGrad, from the output
      return map(n, [&](int64_t i) {
        dx[i] = y[i] < 0.f ? dy[i] * (y[i] + kSeluScaleAlpha) : dy[i] * kSeluScale;
      });
    case Activation::softsign:  // TF's SoftsignGrad: dy / (|x| + 1)^2
      return map(n, [&](int64_t i) {
        const float d = std::fabs(x[i]) + 1.f;
        dx[i] = dy[i] / (d * d);
      });
    case Activation::tanh_shrink:  // dy - dy * (1 - tanh(x)^2)
      return map(n, [&](int64_t i) {
        const float t = std::tanh(x[i]);
        dx[i] = dy[i] - dy[i] * (1.f - t * t);
      });
    case Activation::hard_shrink:
      return map(n, [&](int64_t i) { dx[i] = std::fabs(x[i]) > th ? dy[i] : 0.f; });
    case Activation::soft_shrink:
      return map(n, [&](int64_t i) { dx[i] = (x[i] > th || x[i] < -th) ? dy[i] : 0.f; });
    case Activation::sparse_plus:  // 0.25 * (2 * (x + 1)) inside (-1, 1), 1 from 1 on
      return map(n, [&](int64_t i) {
        const float v = x[i];
        dx[i] = v <= -1.f ? 0.f : (v < 1.f ? (0.25f * dy[i]) * (2.f * (v + 1.f)) : dy[i]);
      });
    case Activation::sparse_sigmoid:
      return map(n, [&](int64_t i) {
        const float v = x[i];
        dx[i] = (v > -1.f && v < 1.f) ? 0.5f * dy[i] : 0.f;
      });
    case Activation::squareplus: {
      // y = (x + s) / 2 with s = sqrt(x^2 + b): g = dy / 2 reaches x directly
      // and through s (TF's SqrtGrad g * 0.5 / s, then Square's 2x).
      const float b = static_cast<float>(a.b);
      return map(n, [&](int64_t i) {
        const float v = x[i], s = std::sqrt(v * v + b), g = dy[i] / 2.f;
        dx[i] = g + (g * 0.5f / s) * (2.f * v);
      });
    }
    case Activation::celu: {  // [x >= 0] + exp(min(x, 0) / alpha) * [x <= 0]
      const float alpha = static_cast<float>(a.alpha);
      return map(n, [&](int64_t i) {
        const float v = x[i];
        float d = v >= 0.f ? dy[i] : 0.f;
        if (v <= 0.f) d += (alpha * dy[i] * std::exp(v / alpha)) / alpha;
        dx[i] = d;
      });
    }
    case Activation::relu: {
      // where / relu pass dy above t (above 0); tf.clip_by_value's minimum
      // passes it where the value <= max_value, its maximum where min(value,
      // max_value) >= 0; the negative part adds slope * dy below t.
      const float slope = static_cast<float>(a.negative_slope);
      const bool clip = a.max_value.has_value();
      const float top = clip ? static_cast<float>(*a.max_value) : 0.f;
      return map(n, [&](int64_t i) {
        const float v = x[i];
        bool pass = th != 0.f ? v > th : v > 0.f;
        if (clip) pass = pass && v <= top && std::min(v, top) >= 0.f;
        float d = pass ? dy[i] : 0.f;
        if (slope != 0.f && th - v > 0.f) d += slope * dy[i];
        dx[i] = d;
      });
    }
    default:
      throw std::logic_error("no hand-written backward for this activation");
  }
}

// keras/src/backend/tensorflow/nn.py sparsemax, per row: sort descending,
// cumsum c, support s_j = sorted_j - (c_j - 1) / j > 0 (j from 1), k = |s|,
// tau = (sum of c_j over the support - 1) / k, y = max(x - tau, 0). (Note
// the sum of the cumsums over the support: TensorFlow's Keras computes
// that, so outputs need not sum to 1; this follows it.)
namespace {

struct RowSort {
  std::vector<int64_t> order;  // indices, largest value first
  std::vector<float> cumsum;   // of the sorted values
  std::vector<bool> support;
  float tau = 0.f;
  float k = 0.f;

  void compute(const float* x, int64_t cols) {
    order.resize(cols);
    std::iota(order.begin(), order.end(), int64_t(0));
    std::stable_sort(order.begin(), order.end(),
                     [x](int64_t a, int64_t b) { return x[a] > x[b]; });
    cumsum.resize(cols);
    support.assign(cols, false);
    float running = 0.f, safe_sum = 0.f;
    k = 0.f;
    for (int64_t j = 0; j < cols; ++j) {
      running += x[order[j]];
      cumsum[j] = running;
      if (x[order[j]] - (running - 1.f) / static_cast<float>(j + 1) > 0.f) {
        support[j] = true;
        k += 1.f;
        safe_sum += running;
      }
    }
    tau = (safe_sum - 1.f) / k;
  }
};

}  // namespace

void sparsemax_forward(const float* x, float* y, int64_t rows, int64_t cols) {
  RowSort s;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    s.compute(xr, cols);
    for (int64_t i = 0; i < cols; ++i) yr[i] = std::max(xr[i] - s.tau, 0.f);
  }
}

// TensorFlow's gradient of that: maximum passes dy where x - tau >= 0 (call
// the sum of those S); tau takes -S, and reaches sorted value l through
// every cumsum of the support at or after it: sorted_l gets -S * n_l / k
// with n_l = |{j in support, j >= l}|.
void sparsemax_backward(const float* x, const float* dy, float* dx, int64_t rows, int64_t cols) {
  RowSort s;
  std::vector<float> coefficient;
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * cols;
    const float* dyr = dy + r * cols;
    float* dxr = dx + r * cols;
    s.compute(xr, cols);
    float passed = 0.f;
    for (int64_t i = 0; i < cols; ++i)
      if (xr[i] - s.tau >= 0.f) passed += dyr[i];
    coefficient.assign(cols, 0.f);
    float later = 0.f;
    for (int64_t j = cols - 1; j >= 0; --j) {
      if (s.support[j]) later += 1.f;
      coefficient[j] = later;
    }
    for (int64_t j = 0; j < cols; ++j) {
      const int64_t i = s.order[j];
      const float direct = xr[i] - s.tau >= 0.f ? dyr[i] : 0.f;
      dxr[i] = direct - passed * coefficient[j] / s.k;
    }
  }
}

}  // namespace fmnistcpp
