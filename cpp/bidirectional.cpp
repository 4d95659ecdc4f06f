// Bidirectional, as Keras 3's (keras/src/layers/rnn/bidirectional.py): the
// wrapped recurrent layer once forwards and once with go_backwards=True; the
// backward layer's sequence is flipped back into input order and the two
// are merged ('concat' on the last axis, 'sum', 'mul' or 'ave'). Weights:
// the forward layer's, then the backward layer's (Keras's order).
//
// Arguments: `layer` (the wrapped class: LSTM, GRU, SimpleRNN), `merge_mode`,
// and the wrapped layer's own arguments, which make both inner layers (so
// they are checked by those layers). The two directions run as two oneDNN
// primitives rather than one bidirectional one, so each keeps Keras's
// separate weights without copies; the merge is a pass over the outputs.
#include "layer_registry.hpp"
#include "recurrent.hpp"

#include <stdexcept>

namespace fmnistcpp {

namespace {

enum class Merge { concat, sum, mul, ave };

class Bidirectional : public Layer {
 public:
  explicit Bidirectional(Config config) : Layer(std::move(config)) {
    const std::string kind = config_.text("layer", "");
    const auto given = config_.values().find("merge_mode");
    const bool no_merge = given != config_.values().end() &&
                          std::holds_alternative<std::monostate>(given->second);
    const std::string mode = no_merge ? "" : config_.text("merge_mode", "concat");
    if (mode == "concat") merge_ = Merge::concat;
    else if (mode == "sum") merge_ = Merge::sum;
    else if (mode == "mul") merge_ = Merge::mul;
    else if (mode == "ave") merge_ = Merge::ave;
    else if (no_merge)
      throw not_implemented("Bidirectional(merge_mode=None) returns two outputs, which a layer "
                            "cannot in fmnistcpp; use 'concat', 'sum', 'mul' or 'ave'");
    else
      throw std::invalid_argument("Invalid merge mode. Received: " + mode + ". Merge mode "
                                  "should be one of {\"sum\", \"mul\", \"ave\", \"concat\", None}");
    if (kind != "LSTM" && kind != "GRU" && kind != "SimpleRNN")
      throw not_implemented("Bidirectional wraps LSTM, GRU or SimpleRNN in fmnistcpp, got '" +
                            kind + "'");
    Config::Values inner = config_.values();
    inner.erase("layer");
    inner.erase("merge_mode");
    if (config_.flag("go_backwards", false))  // Keras's backward copy has go_backwards=True too
      throw std::invalid_argument(
          "Forward layer and backward layer should have different `go_backwards` value. "
          "Received: forward_layer.go_backwards True, backward_layer.go_backwards=True");
    inner["go_backwards"] = false;
    forward_ = make_layer(kind, inner);
    inner["go_backwards"] = true;
    backward_ = make_layer(kind, inner);
    // The wrapped layer's normalised arguments are this layer's config too
    // (they rebuild it); reading each marks it used.
    for (const auto& [key, value] : forward_->config().values()) {
      if (key == "go_backwards") continue;
      config_.set(key, value);
      std::visit([&, k = key](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, bool>) config_.flag(k, v);
        else if constexpr (std::is_same_v<T, int64_t>) config_.integer(k, v);
        else if constexpr (std::is_same_v<T, double>) config_.number(k, v);
        else if constexpr (std::is_same_v<T, std::string>) config_.text(k, v);
        else throw std::logic_error("Bidirectional: unexpected argument type for " + k);
      }, value);
    }
    sequences_ = config_.flag("return_sequences", false);
  }

  std::vector<Param*> params() override {
    auto p = forward_->params();
    for (Param* q : backward_->params()) p.push_back(q);
    return p;
  }

  void prepare(int64_t batch) override {
    forward_->prepare(batch);
    backward_->prepare(batch);
    if (batch == batch_) return;
    batch_ = batch;
    const int64_t n = checked_mul(batch, steps_ * units_, "the outputs");
    for (AlignedBuffer* b : {&yf_, &yb_, &dyf_, &dyb_, &dx_}) b->reserve(n);
    dx_.reserve(checked_mul(batch, shape_size(input()), "the inputs"));
  }

  void forward(const Sources& src, float* dst, const ForwardMode& mode) override {
    forward_->forward(src, yf_.data(), mode);
    backward_->forward(src, yb_.data(), mode);
    const int64_t S = steps_, U = units_;
    const float* f = yf_.data();
    const float* b = yb_.data();
#pragma omp parallel for schedule(static) if (batch_ * S * U > 65536)
    for (int64_t n = 0; n < batch_; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const float* fs = f + (n * S + s) * U;
        const float* bs = b + (n * S + (S - 1 - s)) * U;  // flipped back into input order
        if (merge_ == Merge::concat) {
          float* o = dst + (n * S + s) * 2 * U;
          for (int64_t u = 0; u < U; ++u) o[u] = fs[u], o[U + u] = bs[u];
          continue;
        }
        float* o = dst + (n * S + s) * U;
        for (int64_t u = 0; u < U; ++u) {
          if (merge_ == Merge::sum) o[u] = fs[u] + bs[u];
          else if (merge_ == Merge::mul) o[u] = fs[u] * bs[u];
          else o[u] = (fs[u] + bs[u]) / 2.f;  // Keras: (y + y_rev) / 2
        }
      }
  }

  void backward(const Sources& src, const float*, float* diff_dst,
                const SourceGrads& diff_src) override {
    const int64_t S = steps_, U = units_;
    const float* f = yf_.data();
    const float* b = yb_.data();
    float* df = dyf_.data();
    float* db = dyb_.data();
#pragma omp parallel for schedule(static) if (batch_ * S * U > 65536)
    for (int64_t n = 0; n < batch_; ++n)
      for (int64_t s = 0; s < S; ++s) {
        const int64_t fi = (n * S + s) * U, bi = (n * S + (S - 1 - s)) * U;
        const float* d = diff_dst + (n * S + s) * (merge_ == Merge::concat ? 2 : 1) * U;
        for (int64_t u = 0; u < U; ++u) {
          switch (merge_) {
            case Merge::concat: df[fi + u] = d[u], db[bi + u] = d[U + u]; break;
            case Merge::sum: df[fi + u] = d[u], db[bi + u] = d[u]; break;
            case Merge::mul: df[fi + u] = d[u] * b[bi + u], db[bi + u] = d[u] * f[fi + u]; break;
            case Merge::ave: df[fi + u] = d[u] / 2.f, db[bi + u] = d[u] / 2.f; break;
          }
        }
      }
    float* dx = diff_src[0];
    forward_->backward(src, yf_.data(), df, {dx});
    backward_->backward(src, yb_.data(), db, {dx ? dx_.data() : nullptr});
    if (dx) {
      const int64_t n = batch_ * shape_size(input());
      const float* other = dx_.data();
#pragma omp parallel for schedule(static) if (n > 65536)
      for (int64_t i = 0; i < n; ++i) dx[i] += other[i];
    }
  }

 private:
  Shape infer(const std::vector<Shape>& inputs) override {
    Shape out = forward_->build(inputs);
    backward_->build(inputs);
    units_ = out.back();
    steps_ = sequences_ ? out[0] : 1;
    if (merge_ == Merge::concat) out.back() *= 2;
    return out;
  }

  Merge merge_ = Merge::concat;
  bool sequences_ = false;
  int64_t steps_ = 1, units_ = 0;  // per sample: output steps (1: the last state only), units
  LayerPtr forward_, backward_;
  AlignedBuffer yf_, yb_, dyf_, dyb_, dx_;  // each direction's output and gradient; dx_: the backward's input gradient
};

static RegisterLayer<Bidirectional> registered("Bidirectional");

}  // namespace

}  // namespace fmnistcpp
