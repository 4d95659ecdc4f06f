// Precision, Recall, AUC and FBetaScore as keras/src/metrics/
// confusion_metrics.py, f_score_metrics.py and metrics_utils.py
// (update_confusion_matrix_variables) compute them: counts of true/false
// positives/negatives per threshold, summed over the pass.
#include "metrics.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace fmnistcpp {

namespace {

constexpr float kNegInf = -1e10f;  // metrics_utils.NEG_INF

// One prediction as the counts see it: its score, whether its label is
// positive (label != 0), and its weight.
struct Element {
  float p;
  bool pos;
  float w;
};

// Keras's is_evenly_distributed_thresholds: np.allclose(t, arange(T) /
// (T - 1), atol=epsilon) with numpy's default rtol.
bool evenly_distributed(const std::vector<double>& t) {
  const size_t n = t.size();
  if (n < 3) return false;
  for (size_t i = 0; i < n; ++i) {
    const double even = static_cast<float>(i) / static_cast<float>(n - 1);
    if (std::fabs(t[i] - even) > 1e-7 + 1e-5 * std::fabs(even)) return false;
  }
  return true;
}

// Counts per threshold, accumulated as update_confusion_matrix_variables.
struct Counts {
  std::vector<double> tp, fp, tn, fn;
  void resize(size_t t) { tp.assign(t, 0.0), fp.assign(t, 0.0), tn.assign(t, 0.0), fn.assign(t, 0.0); }

  // Evenly spaced thresholds: Keras's bucket path (predictions clipped to
  // [0, 1], bucket ceil(p (T - 1)) - 1 in float32; with the epsilon
  // end-points the lowest bucket is 0, otherwise a bucket below 0 is
  // dropped, as tf.math.unsorted_segment_sum drops negative ids).
  // Otherwise: p > threshold for every threshold.
  void add(const std::vector<float>& thresholds, bool even, bool with_epsilon,
           const std::vector<Element>& els) {
    const size_t T = thresholds.size();
    if (even) {
      std::vector<double> tb(T, 0.0), fb(T, 0.0);
      double all_true = 0.0, all_false = 0.0;
      const float steps = static_cast<float>(T) - 1.f;
      for (const Element& e : els) {
        const float p = std::clamp(e.p, 0.f, 1.f);
        float b = std::ceil(p * steps) - 1.f;
        if (with_epsilon) b = std::max(b, 0.f);
        const double t = e.pos ? e.w : 0.0, f = e.pos ? 0.0 : e.w;
        all_true += t;
        all_false += f;
        if (b < 0.f) continue;
        tb[static_cast<size_t>(b)] += t;
        fb[static_cast<size_t>(b)] += f;
      }
      double ct = 0.0, cf = 0.0;
      for (size_t i = T; i-- > 0;) {
        ct += tb[i];
        cf += fb[i];
        tp[i] += ct;
        fp[i] += cf;
        fn[i] += all_true - ct;
        tn[i] += all_false - cf;
      }
      return;
    }
    for (size_t i = 0; i < T; ++i) {
      for (const Element& e : els) {
        const bool above = e.p > thresholds[i];
        (e.pos ? (above ? tp : fn) : (above ? fp : tn))[i] += e.w;
      }
    }
  }
};

double divide_no_nan(double a, double b) { return b == 0.0 ? 0.0 : a / b; }

// The predictions of one row with Keras's _filter_top_k: all but the k
// largest (tf.math.top_k: the lower index first among ties) become NEG_INF.
void filter_top_k(const float* p, int64_t d, int64_t k, std::vector<float>& out) {
  out.assign(d, 0.f);
  std::vector<int64_t> order(d);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return p[a] > p[b]; });
  for (int64_t j = 0; j < d; ++j) out[j] = kNegInf;
  for (int64_t j = 0; j < std::min(k, d); ++j) out[order[j]] = p[order[j]];
}

// Precision and Recall: tp / (tp + fp) and tp / (tp + fn) per threshold.
class PrecisionRecall : public Metric {
 public:
  explicit PrecisionRecall(Config config)
      : Metric(std::move(config)), precision_(kind() == "precision") {
    if (auto k = config_.optional_integer("top_k")) {
      if (*k < 1) throw std::invalid_argument(kind() + " top_k must be a positive integer");
      top_k_ = *k;
    }
    if (auto c = config_.optional_integer("class_id")) {
      if (*c < 0) throw std::invalid_argument(kind() + " class_id must be >= 0");
      class_id_ = *c;
    }
    const double fallback = top_k_ ? kNegInf : 0.5;
    const bool given = config_.has("thresholds");
    for (double t : config_.numbers("thresholds", {fallback})) {
      if (given && !(t >= 0.0 && t <= 1.0))
        throw std::invalid_argument("Threshold values must be in [0, 1]. Received: " +
                                    std::to_string(t));
      thresholds_.push_back(static_cast<float>(t));
      spec_.push_back(t);
    }
    if (thresholds_.empty()) throw std::invalid_argument(kind() + " thresholds is empty");
    even_ = evenly_distributed(spec_);
    reset();
  }
  void reset() override { counts_.resize(thresholds_.size()); }
  size_t result_size() const override { return thresholds_.size(); }
  void results(double* out) const override {
    for (size_t i = 0; i < thresholds_.size(); ++i)
      out[i] = divide_no_nan(counts_.tp[i],
                             counts_.tp[i] + (precision_ ? counts_.fp[i] : counts_.fn[i]));
  }
  void update(const float* pred, const Labels& y, const float* sw, int64_t n,
              int64_t k) override {
    require_labels(y, false);
    const int64_t d = axis_size(k), rows = n * k / d;
    if (class_id_ >= d)
      throw std::invalid_argument(kind() + " class_id=" + std::to_string(class_id_) +
                                  " is outside the output's " + std::to_string(d) + " classes");
    std::vector<Element> els;
    els.reserve(class_id_ >= 0 ? rows : n * k);
    std::vector<float> row;
    for (int64_t r = 0; r < rows; ++r) {
      const float* p = pred + r * d;
      if (top_k_) {
        filter_top_k(p, d, top_k_, row);
        p = row.data();
      }
      const float w = sw ? sw[r / (rows / n)] : 1.f;
      for (int64_t j = 0; j < d; ++j) {
        if (class_id_ >= 0 && j != class_id_) continue;
        els.push_back({p[j], y.dense[r * d + j] != 0.f, w});
      }
    }
    counts_.add(thresholds_, even_, false, els);
  }

 private:
  bool precision_;
  int64_t top_k_ = 0, class_id_ = -1;
  std::vector<float> thresholds_;
  std::vector<double> spec_;
  bool even_ = false;
  Counts counts_;
};

RegisterMetric<PrecisionRecall> precision("precision");
RegisterMetric<PrecisionRecall> recall("recall");

// AUC: the area under the ROC, PR or PR-gain curve from the counts at
// num_thresholds thresholds (Keras's 200 by default), summed by
// interpolation (for PR, Davis & Goadrich's, as Keras), minoring or majoring.
class AUC : public Metric {
 public:
  explicit AUC(Config config) : Metric(std::move(config)) {
    std::vector<double> inner;
    if (config_.has("thresholds")) {
      inner = config_.numbers("thresholds", {});
      for (double t : inner)
        if (!(t >= 0.0 && t <= 1.0))
          throw std::invalid_argument("Threshold values must be in [0, 1]. Received: " +
                                      std::to_string(t));
      std::sort(inner.begin(), inner.end());
      std::vector<double> spec = {0.0};
      spec.insert(spec.end(), inner.begin(), inner.end());
      spec.push_back(1.0);
      even_ = evenly_distributed(spec);
      config_.integer("num_thresholds", 200);  // superseded by the thresholds, as Keras
    } else {
      const int64_t t = config_.integer("num_thresholds", 200);
      if (t <= 1)
        throw std::invalid_argument("Argument `num_thresholds` must be an integer > 1. "
                                    "Received: num_thresholds=" + std::to_string(t));
      for (int64_t i = 0; i < t - 2; ++i) inner.push_back((i + 1) * 1.0 / (t - 1));
      even_ = true;
    }
    thresholds_.push_back(0.f - kKerasEpsilon);
    for (double t : inner) thresholds_.push_back(static_cast<float>(t));
    thresholds_.push_back(1.f + kKerasEpsilon);
    const std::string curve = config_.text("curve", "ROC");
    curve_ = (curve == "ROC" || curve == "roc")         ? Curve::roc
             : (curve == "PR" || curve == "pr")         ? Curve::pr
             : (curve == "PRGAIN" || curve == "prgain") ? Curve::prgain
                                                        : throw std::invalid_argument(
                                                              "Invalid AUC curve value: \"" + curve +
                                                              "\". Expected values are [\"PR\", \"ROC\", \"PRGAIN\"]");
    const std::string sum = config_.text("summation_method", "interpolation");
    sum_ = (sum == "interpolation" || sum == "Interpolation") ? Sum::interpolation
           : (sum == "majoring" || sum == "Majoring")         ? Sum::majoring
           : (sum == "minoring" || sum == "Minoring")
               ? Sum::minoring
               : throw std::invalid_argument("Invalid AUC summation method value: \"" + sum +
                                             "\". Expected values are [\"interpolation\", "
                                             "\"majoring\", \"minoring\"]");
    multi_label_ = config_.flag("multi_label", false);
    auto labels = config_.optional_integer("num_labels");
    if (labels && !multi_label_)
      throw std::invalid_argument("`num_labels` is needed only when `multi_label` is True.");
    if (labels) num_labels_ = *labels;
    if (config_.has("label_weights")) label_weights_ = config_.numbers("label_weights", {});
    else config_.none_only("label_weights", "");
    from_logits_ = config_.flag("from_logits", false);
  }
  void reset() override { counts_.clear(); }
  void update(const float* pred, const Labels& y, const float* sw, int64_t n,
              int64_t k) override {
    require_labels(y, false);
    const int64_t d = axis_size(k);
    if (multi_label_ && d != k)
      throw std::invalid_argument("AUC multi_label=True needs outputs of shape (batch, labels)");
    if (num_labels_ && num_labels_ != k)
      throw std::invalid_argument("AUC num_labels=" + std::to_string(num_labels_) +
                                  " but the output has " + std::to_string(k) + " labels");
    if (!label_weights_.empty() && static_cast<int64_t>(label_weights_.size()) != d)
      throw std::invalid_argument("AUC label_weights has " + std::to_string(label_weights_.size()) +
                                  " entries for " + std::to_string(d) + " labels");
    const size_t columns = multi_label_ ? k : 1;
    if (counts_.empty()) {
      counts_.resize(columns);
      for (Counts& c : counts_) c.resize(thresholds_.size());
    }
    std::vector<std::vector<Element>> els(columns);
    for (int64_t i = 0; i < n * k; ++i) {
      const float z = pred[i];
      const float p = from_logits_ ? 1.f / (1.f + std::exp(-z)) : z;
      float w = sw ? sw[i / k] : 1.f;
      if (!multi_label_ && !label_weights_.empty()) w *= static_cast<float>(label_weights_[i % d]);
      els[multi_label_ ? i % k : 0].push_back({p, y.dense[i] != 0.f, w});
    }
    for (size_t c = 0; c < columns; ++c) counts_[c].add(thresholds_, even_, true, els[c]);
  }
  void results(double* out) const override {
    if (counts_.empty()) {
      out[0] = 0.0;
      return;
    }
    std::vector<double> by_label;
    for (const Counts& c : counts_) by_label.push_back(area(c));
    if (!multi_label_) {
      out[0] = by_label[0];
    } else if (label_weights_.empty()) {
      out[0] = std::accumulate(by_label.begin(), by_label.end(), 0.0) / by_label.size();
    } else {
      double num = 0.0, den = 0.0;
      for (size_t j = 0; j < by_label.size(); ++j) {
        num += by_label[j] * label_weights_[j];
        den += label_weights_[j];
      }
      out[0] = divide_no_nan(num, den);
    }
  }

 private:
  enum class Curve { roc, pr, prgain };
  enum class Sum { interpolation, majoring, minoring };

  double area(const Counts& c) const {
    const size_t T = thresholds_.size();
    double total = 0.0;
    if (curve_ == Curve::pr && sum_ == Sum::interpolation) {  // Keras's interpolate_pr_auc
      for (size_t i = 0; i + 1 < T; ++i) {
        const double dtp = c.tp[i] - c.tp[i + 1];
        const double p0 = c.tp[i] + c.fp[i], p1 = c.tp[i + 1] + c.fp[i + 1];
        const double dp = p0 - p1;
        const double slope = divide_no_nan(dtp, std::max(dp, 0.0));
        const double intercept = c.tp[i + 1] - slope * p1;
        const double ratio = (p0 > 0 && p1 > 0) ? divide_no_nan(p0, std::max(p1, 0.0)) : 1.0;
        total += divide_no_nan(slope * (dtp + intercept * std::log(ratio)),
                               std::max(c.tp[i + 1] + c.fn[i + 1], 0.0));
      }
      return total;
    }
    std::vector<double> x(T), y(T);
    for (size_t i = 0; i < T; ++i) {
      const double recall = divide_no_nan(c.tp[i], c.tp[i] + c.fn[i]);
      if (curve_ == Curve::roc) {
        x[i] = divide_no_nan(c.fp[i], c.fp[i] + c.tn[i]);
        y[i] = recall;
      } else if (curve_ == Curve::pr) {
        x[i] = recall;
        y[i] = divide_no_nan(c.tp[i], c.tp[i] + c.fp[i]);
      } else {
        const double scale = divide_no_nan(c.tp[i] + c.fn[i], c.tn[i] + c.fp[i]);
        double rg = 1.0 - scale * divide_no_nan(c.fn[i], c.tp[i]);
        double pg = 1.0 - scale * divide_no_nan(c.fp[i], c.tp[i]);
        if (c.tp[i] == 0.0) rg = 0.0, pg = 1.0;
        x[i] = std::max(rg, 0.0);
        y[i] = pg;
      }
    }
    for (size_t i = 0; i + 1 < T; ++i) {
      const double h = sum_ == Sum::interpolation ? (y[i] + y[i + 1]) / 2.0
                       : sum_ == Sum::minoring    ? std::min(y[i], y[i + 1])
                                                  : std::max(y[i], y[i + 1]);
      total += (x[i] - x[i + 1]) * h;
    }
    return total;
  }

  std::vector<float> thresholds_;
  bool even_ = false;
  Curve curve_ = Curve::roc;
  Sum sum_ = Sum::interpolation;
  bool multi_label_ = false, from_logits_ = false;
  int64_t num_labels_ = 0;
  std::vector<double> label_weights_;
  std::vector<Counts> counts_;  // one per label with multi_label, else one
};

RegisterMetric<AUC> auc("auc");

// FBetaScore / F1Score: (1 + b^2) P R / (b^2 P + R) from counts per class
// (average None, 'macro', 'weighted') or over all entries ('micro').
class FBetaScore : public Metric {
 public:
  explicit FBetaScore(Config config) : Metric(std::move(config)) {
    average_ = config_.choice("average", {"none", "micro", "macro", "weighted"}, "none");
    beta_ = config_.number("beta", 1.0);
    if (!(beta_ > 0.0))
      throw std::invalid_argument("Invalid `beta` argument value. It should be > 0. Received: "
                                  "beta=" + std::to_string(beta_));
    if (config_.has("threshold")) {
      threshold_ = config_.number("threshold");
      if (!(*threshold_ > 0.0 && *threshold_ <= 1.0))
        throw std::invalid_argument("Invalid `threshold` argument value. It should verify 0 < "
                                    "threshold <= 1. Received: threshold=" +
                                    std::to_string(*threshold_));
    } else {
      config_.none_only("threshold", "");
    }
    classes_ = d_;  // known up front, so the pass's logs have room for every class
  }
  void reset() override { tp_.clear(), fp_.clear(), fn_.clear(), support_.clear(); }
  size_t result_size() const override { return average_ == "none" ? classes_ : 1; }
  void update(const float* pred, const Labels& y, const float* sw, int64_t n,
              int64_t k) override {
    require_labels(y, false);
    if (axis_size(k) != k)
      throw std::invalid_argument("FBetaScore expects 2D inputs with shape (batch_size, "
                                  "output_dim)");
    if (classes_ == 0) classes_ = k;
    if (k != classes_) throw std::invalid_argument("FBetaScore: the number of classes changed");
    const size_t slots = average_ == "micro" ? 1 : k;
    if (tp_.empty()) tp_.assign(slots, 0.0), fp_ = fn_ = support_ = tp_;
    const float thr = threshold_ ? static_cast<float>(*threshold_) : 0.f;
    for (int64_t i = 0; i < n; ++i) {
      const float* p = pred + i * k;
      const float* t = y.dense + i * k;
      const float top = *std::max_element(p, p + k);
      const float w = sw ? sw[i] : 1.f;
      for (int64_t j = 0; j < k; ++j) {
        // Keras: the row's maximum (and not a zero) without a threshold.
        const float yp = threshold_ ? (p[j] > thr) : (p[j] >= top && std::fabs(p[j]) > 1e-9f);
        const size_t s = slots == 1 ? 0 : j;
        tp_[s] += yp * t[j] * w;
        fp_[s] += yp * (1.f - t[j]) * w;
        fn_[s] += (1.f - yp) * t[j] * w;
        support_[s] += t[j] * w;
      }
    }
  }
  void results(double* out) const override {
    const size_t slots = tp_.size();
    if (slots == 0) {
      for (size_t i = 0; i < result_size(); ++i) out[i] = 0.0;
      return;
    }
    const double eps = kKerasEpsilon, b2 = beta_ * beta_;
    std::vector<double> f(slots);
    for (size_t s = 0; s < slots; ++s) {
      const double p = tp_[s] / (tp_[s] + fp_[s] + eps), r = tp_[s] / (tp_[s] + fn_[s] + eps);
      f[s] = p * r / (b2 * p + r + eps) * (1.0 + b2);
    }
    if (average_ == "none") {
      std::copy(f.begin(), f.end(), out);
    } else if (average_ == "weighted") {
      const double total = std::accumulate(support_.begin(), support_.end(), 0.0) + eps;
      double sum = 0.0;
      for (size_t s = 0; s < slots; ++s) sum += f[s] * (support_[s] / total);
      out[0] = sum;
    } else {
      out[0] = std::accumulate(f.begin(), f.end(), 0.0) / slots;
    }
  }

 private:
  std::string average_;
  double beta_ = 1.0;
  std::optional<double> threshold_;
  int64_t classes_ = 0;
  std::vector<double> tp_, fp_, fn_, support_;
};

RegisterMetric<FBetaScore> fbeta("fbeta_score");

}  // namespace

}  // namespace fmnistcpp
