// Keras's merge layers: Add, Subtract, Multiply, Average, Maximum, Minimum
// (elementwise over inputs of one shape) and Concatenate(axis).
#pragma once

#include "layer.hpp"

namespace fmnistcpp {

class ElementwiseMerge : public Layer {
 public:
  enum class Op { add, subtract, multiply, average, maximum, minimum };
  explicit ElementwiseMerge(Config config);
  int arity() const override { return op_ == Op::subtract ? 2 : kAnyArity; }
  void prepare(int64_t batch) override { batch_ = batch; }
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  Op op_;
};

class Concatenate : public Layer {
 public:
  // Keras's `axis` (-1: the last), counted with the batch axis when >= 0.
  explicit Concatenate(Config config);
  int arity() const override { return kAnyArity; }
  void prepare(int64_t batch) override { batch_ = batch; }
  void forward(const Sources& src, float* dst, const ForwardMode& mode) override;
  void backward(const Sources& src, const float* dst, float* diff_dst,
                const SourceGrads& diff_src) override;

 private:
  Shape infer(const std::vector<Shape>& inputs) override;
  int64_t axis_arg_;
  // Each input is `outer` blocks of widths_[i] contiguous floats; the
  // output interleaves them block by block.
  int64_t outer_ = 0;
  std::vector<int64_t> widths_;
};

}  // namespace fmnistcpp
