#include "merge.hpp"

#include "layer_registry.hpp"

#include <cstring>
#include <stdexcept>

namespace fmnistcpp {

static RegisterLayer<ElementwiseMerge> registered_add("Add");
static RegisterLayer<ElementwiseMerge> registered_subtract("Subtract");
static RegisterLayer<ElementwiseMerge> registered_multiply("Multiply");
static RegisterLayer<ElementwiseMerge> registered_average("Average");
static RegisterLayer<ElementwiseMerge> registered_maximum("Maximum");
static RegisterLayer<ElementwiseMerge> registered_minimum("Minimum");
static RegisterLayer<Concatenate> registered_concatenate("Concatenate");

// Below this many elements a loop runs on one thread.
constexpr int64_t kMinParallel = 32768;

static ElementwiseMerge::Op op_of(const std::string& kind) {
  using Op = ElementwiseMerge::Op;
  if (kind == "Add") return Op::add;
  if (kind == "Subtract") return Op::subtract;
  if (kind == "Multiply") return Op::multiply;
  if (kind == "Average") return Op::average;
  if (kind == "Maximum") return Op::maximum;
  return Op::minimum;
}

ElementwiseMerge::ElementwiseMerge(Config config)
    : Layer(std::move(config)), op_(op_of(kind())) {}

Shape ElementwiseMerge::infer(const std::vector<Shape>& inputs) {
  for (const Shape& s : inputs)
    if (s != inputs[0])
      throw std::invalid_argument(kind() + " needs inputs of one shape, got " +
                                  shape_str(inputs[0]) + " and " + shape_str(s));
  return inputs[0];
}

// Keras chains the op over the inputs left to right: out = op(op(x0, x1), x2);
// the same order here, so results round as Keras's do.
void ElementwiseMerge::forward(const Sources& src, float* dst, const ForwardMode&) {
  const int64_t n = batch_ * shape_size(output_);
  const size_t k = src.size();
  const Op op = op_;
#pragma omp parallel for schedule(static) if (n > kMinParallel)
  for (int64_t i = 0; i < n; ++i) {
    float v = src[0][i];
    for (size_t j = 1; j < k; ++j) {
      const float x = src[j][i];
      switch (op) {
        case Op::add: case Op::average: v = v + x; break;
        case Op::subtract: v = v - x; break;
        case Op::multiply: v = v * x; break;
        case Op::maximum: v = v >= x ? v : x; break;
        case Op::minimum: v = v <= x ? v : x; break;
      }
    }
    dst[i] = op == Op::average ? v / static_cast<float>(k) : v;
  }
}

// Gradients as TensorFlow's for the chained ops: maximum/minimum send the
// gradient to the first input that holds the extreme (ties go left, as
// tf.maximum's x >= y mask); multiply's gradient for x_j is the product of
// the others.
void ElementwiseMerge::backward(const Sources& src, const float*, float* diff_dst,
                                const SourceGrads& diff_src) {
  const int64_t n = batch_ * shape_size(output_);
  const size_t k = src.size();
  const Op op = op_;
  const float inv_k = 1.f / static_cast<float>(k);
#pragma omp parallel for schedule(static) if (n > kMinParallel)
  for (int64_t i = 0; i < n; ++i) {
    const float g = diff_dst[i];
    size_t winner = 0;
    if (op == Op::maximum || op == Op::minimum) {
      float v = src[0][i];
      for (size_t j = 1; j < k; ++j) {
        const float x = src[j][i];
        if (op == Op::maximum ? !(v >= x) : !(v <= x)) {
          v = x;
          winner = j;
        }
      }
    }
    for (size_t j = 0; j < k; ++j) {
      if (!diff_src[j]) continue;
      float d = g;
      switch (op) {
        case Op::add: break;
        case Op::subtract: d = j == 0 ? g : -g; break;
        case Op::average: d = g * inv_k; break;
        case Op::multiply:
          for (size_t m = 0; m < k; ++m)
            if (m != j) d = d * src[m][i];
          break;
        case Op::maximum: case Op::minimum: d = j == winner ? g : 0.f; break;
      }
      diff_src[j][i] = d;
    }
  }
}

Concatenate::Concatenate(Config config)
    : Layer(std::move(config)), axis_arg_(config_.integer("axis", -1)) {}

Shape Concatenate::infer(const std::vector<Shape>& inputs) {
  const int64_t rank = static_cast<int64_t>(inputs[0].size());
  // Keras counts axes with the batch axis first; -1 is the last.
  const int64_t axis = axis_arg_ < 0 ? rank + axis_arg_ : axis_arg_ - 1;
  if (axis < 0 || axis >= rank)
    throw std::invalid_argument("Concatenate axis=" + std::to_string(axis_arg_) +
                                " is out of range for inputs of shape " + shape_str(inputs[0]));
  Shape out = inputs[0];
  out[axis] = 0;
  widths_.clear();
  for (const Shape& s : inputs) {
    bool fits = s.size() == inputs[0].size();
    for (int64_t d = 0; fits && d < rank; ++d) fits = d == axis || s[d] == inputs[0][d];
    if (!fits)
      throw std::invalid_argument(
          "A Concatenate layer requires inputs with matching shapes except for the "
          "concatenation axis " + std::to_string(axis_arg_) + ", got " + shape_str(inputs[0]) +
          " and " + shape_str(s));
    out[axis] += s[axis];
    int64_t inner = 1;
    for (int64_t d = axis; d < rank; ++d) inner *= s[d];
    widths_.push_back(inner);
  }
  outer_ = 1;
  for (int64_t d = 0; d < axis; ++d) outer_ *= out[d];
  return out;
}

void Concatenate::forward(const Sources& src, float* dst, const ForwardMode&) {
  int64_t total = 0;
  for (auto w : widths_) total += w;
  const int64_t blocks = batch_ * outer_;
#pragma omp parallel for schedule(static) if (blocks * total > kMinParallel)
  for (int64_t b = 0; b < blocks; ++b) {
    float* out = dst + b * total;
    for (size_t j = 0; j < src.size(); ++j) {
      std::memcpy(out, src[j] + b * widths_[j], widths_[j] * sizeof(float));
      out += widths_[j];
    }
  }
}

void Concatenate::backward(const Sources&, const float*, float* diff_dst,
                           const SourceGrads& diff_src) {
  int64_t total = 0;
  for (auto w : widths_) total += w;
  const int64_t blocks = batch_ * outer_;
#pragma omp parallel for schedule(static) if (blocks * total > kMinParallel)
  for (int64_t b = 0; b < blocks; ++b) {
    const float* g = diff_dst + b * total;
    for (size_t j = 0; j < diff_src.size(); ++j) {
      if (diff_src[j]) std::memcpy(diff_src[j] + b * widths_[j], g, widths_[j] * sizeof(float));
      g += widths_[j];
    }
  }
}

}  // namespace fmnistcpp
