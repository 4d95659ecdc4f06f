// The one file that speaks pybind11: converts arrays and Keras arguments,
// releases the GIL around engine work (taking the engine lock without the
// GIL held), and calls back into Python only for throttled progress, for
// batch hooks a callback asked for, and to let Ctrl-C through at batch
// boundaries. C++ exceptions become ValueError / NotImplementedError /
// RuntimeError with their message.
#include "denormals.hpp"
#include "dnnl_context.hpp"
#include "engine_lock.hpp"
#include "fork_guard.hpp"
#include "kernel_row_split.hpp"
#include "layer_registry.hpp"
#include "network.hpp"
#include "precision.hpp"
#include "signal_guard.hpp"
#include "thread_team.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <omp.h>

#include <chrono>
#include <cfloat>
#include <type_traits>
#include <cmath>

namespace py = pybind11;
using namespace fmnistcpp;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;

// Runs f with the GIL released and the engine lock held; f must not touch
// Python objects.
template <class F>
auto locked(F&& f) {
  py::gil_scoped_release release;
  EngineLock lock(engine_mutex());
  return f();
}

// --- Keras arguments <-> Config ------------------------------------------------------
ConfigValue to_value(const py::handle& v) {
  if (v.is_none()) return std::monostate{};
  if (py::isinstance<py::bool_>(v)) return v.cast<bool>();
  if (py::isinstance<py::int_>(v)) {
    try {
      return v.cast<int64_t>();
    } catch (const py::cast_error&) {  // beyond int64: keep the repr for the message
      return OpaqueValue{py::repr(v).cast<std::string>()};
    }
  }
  if (py::isinstance<py::float_>(v)) return v.cast<double>();
  if (py::isinstance<py::str>(v)) return v.cast<std::string>();
  if ((py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v))) {
    std::vector<int64_t> ints;
    std::vector<double> numbers;
    bool all_ints = true, all_numbers = true;
    for (const py::handle& e : v) {
      ConfigValue c = to_value(e);
      if (std::holds_alternative<int64_t>(c)) {
        ints.push_back(std::get<int64_t>(c));
        numbers.push_back(static_cast<double>(std::get<int64_t>(c)));
      } else if (std::holds_alternative<double>(c)) {
        all_ints = false;
        numbers.push_back(std::get<double>(c));
      } else {
        all_ints = all_numbers = false;
      }
    }
    if (all_ints) return ints;
    if (all_numbers) return numbers;
    IntTuples nested;  // ((1, 2), (3, 4)): each element a tuple of ints
    for (const py::handle& e : v) {
      ConfigValue c = to_value(e);
      if (!std::holds_alternative<std::vector<int64_t>>(c))
        return OpaqueValue{py::repr(v).cast<std::string>()};
      nested.push_back(std::get<std::vector<int64_t>>(c));
    }
    if (!nested.empty()) return nested;
  }
  return OpaqueValue{py::repr(v).cast<std::string>()};
}

Config::Values to_values(const py::dict& d) {
  Config::Values values;
  for (auto item : d) values[item.first.cast<std::string>()] = to_value(item.second);
  return values;
}

py::object from_value(const ConfigValue& v) {
  struct ToPy {
    py::object operator()(std::monostate) const { return py::none(); }
    py::object operator()(bool b) const { return py::bool_(b); }
    py::object operator()(int64_t i) const { return py::int_(i); }
    py::object operator()(double d) const { return py::float_(d); }
    py::object operator()(const std::string& s) const { return py::str(s); }
    py::object operator()(const std::vector<int64_t>& t) const { return py::tuple(py::cast(t)); }
    py::object operator()(const std::vector<double>& t) const { return py::tuple(py::cast(t)); }
    py::object operator()(const OpaqueValue& o) const { return py::str(o.repr); }
    py::object operator()(const IntTuples& t) const {
      py::list items;
      for (const auto& e : t) items.append(py::tuple(py::cast(e)));
      return py::tuple(items);
    }
  };
  return std::visit(ToPy{}, v);
}

py::dict config_dict(const Config& c) {
  py::dict d;
  for (const auto& [k, v] : c.values()) d[py::str(k)] = from_value(v);
  return d;
}

// --- arrays ------------------------------------------------------------------------
// Whether an array holds T: equivalence, not identity, of the dtype (an array
// that went through pickle or Ray's object store has its own descriptor).
template <class T>
bool holds(const py::array& a) {
  return a.dtype().equal(py::dtype::of<T>());
}

// Rows of one model input: float32, float64 or uint8, C-contiguous (Python
// converts anything else once); `keep` holds the arrays for the call.
InputArray input_array(const py::handle& obj, const Shape& sample, std::vector<py::array>& keep,
                       int64_t& n) {
  py::array a = py::reinterpret_borrow<py::array>(obj);
  if (!(a.flags() & py::array::c_style))
    throw std::invalid_argument("x must be C-contiguous (converted by fmnistcpp before)");
  InputArray in;
  in.data = a.data();
  if (holds<float>(a)) in.dtype = DType::f32;
  else if (holds<double>(a)) in.dtype = DType::f64;
  else if (holds<uint8_t>(a)) in.dtype = DType::u8;
  else throw std::invalid_argument("x must be float32, float64 or uint8 (converted before)");
  if (a.ndim() < 1) throw std::invalid_argument("x must have a batch axis");
  const Shape got(a.shape() + 1, a.shape() + a.ndim());
  if (got != sample)
    throw std::invalid_argument("x has sample shape " + shape_str(got) + ", the model expects " +
                                shape_str(sample));
  if (n < 0) n = a.shape(0);
  if (a.shape(0) != n)
    throw std::invalid_argument("all inputs must have the same number of samples, got " +
                                std::to_string(n) + " and " + std::to_string(a.shape(0)));
  keep.push_back(a);
  return in;
}

std::vector<InputArray> input_arrays(Network& net, const py::list& xs,
                                     std::vector<py::array>& keep, int64_t& n) {
  // Every pass with data starts here: the once-per-fork warning (fork_guard.hpp).
  if (take_fork_warning() && PyErr_WarnEx(PyExc_RuntimeWarning, kForkWarning, 1) < 0)
    throw py::error_already_set();
  if (xs.size() != net.num_inputs())
    throw std::invalid_argument("the model has " + std::to_string(net.num_inputs()) +
                                " inputs, got " + std::to_string(xs.size()) + " arrays");
  std::vector<InputArray> out;
  n = -1;
  for (size_t i = 0; i < xs.size(); ++i) out.push_back(input_array(xs[i], net.input_shape(i), keep, n));
  return out;
}

// Labels per target: int32 (N,) class indices or float32 (N, K) rows.
PassData pass_data(Network& net, const py::list& xs, const py::list& ys,
                   const py::object& sample_weight, std::vector<py::array>& keep) {
  PassData data;
  data.x = input_arrays(net, xs, keep, data.n);
  for (size_t t = 0; t < ys.size(); ++t) {
    py::array y = py::reinterpret_borrow<py::array>(ys[t]);
    if (y.ndim() == 0 || y.shape(0) != data.n)
      throw std::invalid_argument("x has " + std::to_string(data.n) + " samples but y has " +
                                  (y.ndim() ? std::to_string(y.shape(0)) : std::string("none")));
    Labels labels;
    if (holds<int32_t>(y) && y.ndim() == 1 && (y.flags() & py::array::c_style)) {
      labels.sparse = static_cast<const int32_t*>(y.data());
    } else if (holds<float>(y) && (y.flags() & py::array::c_style)) {
      const int64_t k = shape_size(net.output_shape(net.target(t).output));
      if (y.size() != data.n * k)
        throw std::invalid_argument("labels of shape " +
                                    shape_str(Shape(y.shape(), y.shape() + y.ndim())) +
                                    " do not match the output's " + std::to_string(k) +
                                    " values per sample");
      labels.dense = static_cast<const float*>(y.data());
    } else {
      throw std::invalid_argument("labels must be int32 (N,) or float32 rows (converted before)");
    }
    keep.push_back(y);
    data.y.push_back(labels);
  }
  if (!sample_weight.is_none()) {
    FloatArray w = FloatArray::ensure(sample_weight);
    if (!w || w.ndim() != 1 || w.shape(0) != data.n)
      throw std::invalid_argument("sample_weight must be a float array of shape (" +
                                  std::to_string(data.n) + ",)");
    keep.push_back(w);
    data.sample_weight = w.data();
  }
  return data;
}

py::dict logs_dict(const EpochLogs& logs) {
  py::dict d;
  d["loss"] = logs.loss();
  py::list target_losses, metrics;
  for (size_t t = 0; t < logs.target_loss_sum.size(); ++t) target_losses.append(logs.target_loss(t));
  for (double m : logs.metrics) metrics.append(m);
  d["target_losses"] = target_losses;
  d["metrics"] = metrics;
  d["samples"] = logs.samples;
  d["batches"] = logs.batches;
  return d;
}

// Wraps a Python callable as a ProgressFn. `callback(done, total, logs)` is
// called every `interval` seconds, on the last batch, or on every batch when
// `every_batch`; it may return True to stop. Signals are checked at least
// every 20 ms whatever the interval, so Ctrl-C lands at the next batch edge.
// Holds the callable by reference: the caller keeps it alive, and copies of
// the std::function never touch reference counts without the GIL.
ProgressFn make_progress(const py::object& callback, double interval, bool every_batch) {
  using clock = std::chrono::steady_clock;
  auto last_call = std::make_shared<clock::time_point>(clock::now());
  auto last_signal_check = std::make_shared<clock::time_point>(clock::now());
  return [&callback, interval, every_batch, last_call, last_signal_check](
             int64_t done, int64_t total, const EpochLogs& logs) -> bool {
    const auto now = clock::now();
    const bool call = !callback.is_none() &&
                      (every_batch || done == total ||
                       std::chrono::duration<double>(now - *last_call).count() >= interval);
    const bool check = std::chrono::duration<double>(now - *last_signal_check).count() >= 0.02 ||
                       signal_pending();  // held back by the engine's BlockSignals
    if (!call && !check) return false;
    py::gil_scoped_acquire gil;
    DeliverSignals deliver;  // pending signals reach their C handlers here
    CallerFloatingPointMode python_mode;  // NumPy in the callback sees IEEE denormals
    *last_signal_check = now;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!call) return false;
    *last_call = now;
    return py::bool_(callback(done, total, logs_dict(logs)));
  };
}

// --- variables -------------------------------------------------------------------------
// A layer's parameter as Python sees it; keeps its layer alive.
struct Variable {
  LayerPtr layer;
  size_t index;
  Param& param() const { return *layer->params().at(index); }
};

py::array_t<float> variable_numpy(const Variable& v) {
  Param& p = v.param();
  py::array_t<float> a(p.shape);
  float* dst = a.mutable_data();
  locked([&] { std::copy(p.value.begin(), p.value.end(), dst); });
  return a;
}

void variable_assign(const Variable& v, const py::object& value) {
  Param& p = v.param();
  FloatArray a;
  try {
    a = FloatArray::ensure(value);
  } catch (const py::error_already_set&) {
  }
  if (!a)
    throw std::invalid_argument("variable " + p.name + " expects a numeric array of shape " +
                                shape_str(p.shape));
  const Shape got(a.shape(), a.shape() + a.ndim());
  if (got != p.shape)
    throw std::invalid_argument("variable " + p.name + " expects shape " + shape_str(p.shape) +
                                ", got " + shape_str(got));
  const float* src = a.data();
  locked([&] {
    std::copy(src, src + p.size(), p.value.begin());
    ++p.version;
  });
}

py::list layer_variables(const LayerPtr& layer) {
  py::list out;
  const size_t count = layer->params().size();
  for (size_t i = 0; i < count; ++i) out.append(Variable{layer, i});
  return out;
}

// --- the network ------------------------------------------------------------------------
std::unique_ptr<Optimizer> optimizer_from(const py::tuple& spec) {
  return Optimizer::make(Config(spec[0].cast<std::string>(), to_values(spec[1].cast<py::dict>())));
}

std::vector<MetricPtr> metrics_from(const py::list& specs) {
  std::vector<MetricPtr> out;
  for (auto s : specs) {
    auto t = s.cast<py::tuple>();
    out.push_back(make_metric(t[0].cast<std::string>(), to_values(t[1].cast<py::dict>())));
  }
  return out;
}

// targets: [{"output": i, "loss": (name, args), "weight": w, "metrics": [(name, args)],
//            "weighted_metrics": [...]}], optimizer: (class name, args), frozen: per node.
void compile(Network& net, const py::list& target_specs, const py::tuple& optimizer,
             const std::vector<bool>& frozen, const std::vector<std::pair<int, int>>& order) {
  std::vector<Target> targets;
  for (auto s : target_specs) {
    auto d = s.cast<py::dict>();
    Target t;
    t.output = d["output"].cast<int>();
    auto loss = d["loss"].cast<py::tuple>();
    t.loss = make_loss(loss[0].cast<std::string>(), to_values(loss[1].cast<py::dict>()));
    t.weight = d["weight"].cast<float>();
    if (!std::isfinite(t.weight) || t.weight < 0)
      throw std::invalid_argument("loss_weights must be finite numbers >= 0");
    t.metrics = metrics_from(d["metrics"].cast<py::list>());
    t.weighted_metrics = metrics_from(d["weighted_metrics"].cast<py::list>());
    targets.push_back(std::move(t));
  }
  auto opt = optimizer_from(optimizer);
  locked([&] { net.compile(std::move(targets), std::move(opt), frozen, order); });
}

py::dict fit_epoch(Network& net, const py::list& xs, const py::list& ys, const py::object& sw,
                   int64_t batch_size, bool shuffle, uint64_t seed, const py::object& progress,
                   double interval, bool every_batch) {
  std::vector<py::array> keep;
  PassData data = pass_data(net, xs, ys, sw, keep);
  ProgressFn fn = make_progress(progress, interval, every_batch);
  EpochLogs logs;
  {
    py::gil_scoped_release release;
    logs = net.fit_epoch(data, batch_size, shuffle, seed, fn);
  }
  return logs_dict(logs);
}

py::dict evaluate(Network& net, const py::list& xs, const py::list& ys, const py::object& sw,
                  int64_t batch_size, const py::object& progress, double interval) {
  std::vector<py::array> keep;
  PassData data = pass_data(net, xs, ys, sw, keep);
  ProgressFn fn = make_progress(progress, interval, false);
  EpochLogs logs;
  {
    py::gil_scoped_release release;
    logs = net.evaluate(data, batch_size, fn);
  }
  return logs_dict(logs);
}

py::list predict(Network& net, const py::list& xs, int64_t batch_size, const py::object& progress,
                 double interval, bool training, uint64_t seed) {
  std::vector<py::array> keep;
  int64_t n;
  auto x = input_arrays(net, xs, keep, n);
  py::list outs;
  std::vector<float*> dst;
  for (size_t o = 0; o < net.num_outputs(); ++o) {
    Shape s{n};
    for (auto d : net.output_shape(o)) s.push_back(d);
    py::array_t<float> a(s);
    dst.push_back(a.mutable_data());
    outs.append(a);
  }
  ProgressFn fn = make_progress(progress, interval, false);
  {
    py::gil_scoped_release release;
    net.predict(x, n, batch_size, dst, fn, training, seed);
  }
  return outs;
}

// Batch-at-a-time passes (streaming.cpp): `logs` are the running sums of
// the pass, kept by Python between batches; returns them as fit_epoch does.
py::dict train_batch(Network& net, EpochLogs& logs, const py::list& xs, const py::list& ys,
                     const py::object& sw, uint64_t seed, int64_t batch) {
  std::vector<py::array> keep;
  PassData data = pass_data(net, xs, ys, sw, keep);
  {
    py::gil_scoped_release release;
    net.train_batch(data, seed, batch, logs);
  }
  return logs_dict(logs);
}

py::dict test_batch(Network& net, EpochLogs& logs, const py::list& xs, const py::list& ys,
                    const py::object& sw) {
  std::vector<py::array> keep;
  PassData data = pass_data(net, xs, ys, sw, keep);
  {
    py::gil_scoped_release release;
    net.test_batch(data, logs);
  }
  return logs_dict(logs);
}

py::tuple loss_and_gradients(Network& net, const py::list& xs, const py::list& ys,
                             const py::object& sw, bool training, uint64_t seed) {
  std::vector<py::array> keep;
  PassData data = pass_data(net, xs, ys, sw, keep);
  py::list input_grads;
  std::vector<float*> grads_dst;
  for (size_t i = 0; i < net.num_inputs(); ++i) {
    Shape s{data.n};
    for (auto d : net.input_shape(i)) s.push_back(d);
    py::array_t<float> g(s);
    grads_dst.push_back(g.mutable_data());
    input_grads.append(g);
  }
  double loss;
  {
    py::gil_scoped_release release;
    loss = net.loss_and_gradients(data, training, seed, grads_dst);
  }
  py::list grads;
  for (Param* p : net.optimizer().variables()) {
    py::array_t<float> g(p->shape);
    std::copy(p->grad.begin(), p->grad.end(), g.mutable_data());
    grads.append(g);
  }
  return py::make_tuple(loss, grads, input_grads);
}

py::list tensor_values(Network& net, const py::list& xs) {
  std::vector<py::array> keep;
  int64_t n;
  auto x = input_arrays(net, xs, keep, n);
  std::vector<std::vector<float>> values;
  {
    py::gil_scoped_release release;
    values = net.tensor_values(x, n);
  }
  py::list result;
  for (size_t t = 0; t < values.size(); ++t) {
    Shape s{n};
    for (auto d : net.tensor_shape(static_cast<int>(t))) s.push_back(d);
    py::array_t<float> a(s);
    std::copy(values[t].begin(), values[t].end(), a.mutable_data());
    result.append(a);
  }
  return result;
}

// Index of the first value that is not a finite float32 (NaN, infinity,
// or a float64 beyond float32's range) in a float array, or -1; one pass,
// no copy (NumPy's isfinite would allocate a mask as large as the array).
int64_t first_non_finite(const py::array& a) {
  if (!(a.flags() & py::array::c_style)) throw std::invalid_argument("array must be C-contiguous");
  const int64_t n = a.size();
  auto scan = [n](const auto* p) -> int64_t {
    // First a branch-free pass the compiler vectorises; the index is looked
    // for only when something is wrong.
    using T = std::remove_cv_t<std::remove_pointer_t<decltype(p)>>;
    const T limit = static_cast<T>(FLT_MAX);
    unsigned bad = 0;
#pragma omp parallel for reduction(| : bad) schedule(static) if (n > 1 << 22)
    for (int64_t i = 0; i < n; ++i) bad |= static_cast<unsigned>(!(std::fabs(p[i]) <= limit));
    if (!bad) return int64_t(-1);
    for (int64_t i = 0; i < n; ++i)
      if (!(std::fabs(double(p[i])) <= double(FLT_MAX))) return i;
    return int64_t(-1);
  };
  if (holds<float>(a)) {
    const float* p = static_cast<const float*>(a.data());
    py::gil_scoped_release release;
    return scan(p);
  }
  if (holds<double>(a)) {
    const double* p = static_cast<const double*>(a.data());
    py::gil_scoped_release release;
    return scan(p);
  }
  return -1;  // integer arrays are always finite
}

// --- losses and metrics on arrays (keras.losses.mse(y, p), Metric.update_state) ---
// Python hands over float32 predictions [N, ...] and labels already shaped
// for the loss or metric: int32 (N,) class indices or float32 like `pred`.
struct ArrayBatch {
  FloatArray pred;
  py::array labels;
  FloatArray weights;
  Labels y;
  int64_t n = 0, k = 0;
};

ArrayBatch array_batch(const py::handle& pred, const py::handle& labels, const py::handle& sw) {
  ArrayBatch b;
  b.pred = FloatArray::ensure(pred);
  if (!b.pred || b.pred.ndim() < 1 || b.pred.shape(0) == 0)
    throw std::invalid_argument("y_pred must be a float array with a batch axis");
  b.n = b.pred.shape(0);
  b.k = b.pred.size() / b.n;
  b.labels = py::reinterpret_borrow<py::array>(labels);
  if (holds<int32_t>(b.labels) && b.labels.ndim() == 1 && b.labels.shape(0) == b.n &&
      (b.labels.flags() & py::array::c_style)) {
    b.y.sparse = static_cast<const int32_t*>(b.labels.data());
    for (int64_t i = 0; i < b.n; ++i)
      if (b.y.sparse[i] < 0 || b.y.sparse[i] >= b.k)
        throw std::invalid_argument("label " + std::to_string(b.y.sparse[i]) + " is outside [0, " +
                                    std::to_string(b.k) + ")");
  } else if (holds<float>(b.labels) && b.labels.size() == b.pred.size() &&
             (b.labels.flags() & py::array::c_style)) {
    b.y.dense = static_cast<const float*>(b.labels.data());
  } else {
    throw std::invalid_argument("labels must be int32 (N,) or float32 shaped like y_pred");
  }
  if (!sw.is_none()) {
    b.weights = FloatArray::ensure(sw);
    if (!b.weights || b.weights.ndim() != 1 || b.weights.shape(0) != b.n)
      throw std::invalid_argument("sample_weight must have shape (" + std::to_string(b.n) + ",)");
  }
  return b;
}

// (per-row values, reduced loss): Keras's loss(y_true, y_pred, sample_weight).
py::tuple loss_call(const std::string& kind, const py::dict& args, const py::handle& pred,
                    const py::handle& labels, const py::handle& sw) {
  LossPtr loss = make_loss(kind, to_values(args));
  ArrayBatch b = array_batch(pred, labels, sw);
  py::array_t<float> values(b.n * loss->rows_per_sample(b.k));
  const double reduced = loss->call(b.pred.data(), b.y, sw.is_none() ? nullptr : b.weights.data(),
                                    b.n, b.k, values.mutable_data());
  return py::make_tuple(values, reduced);
}

// keras.metrics.<fn>(y_true, y_pred): the values a mean metric averages.
py::array_t<float> metric_values(const std::string& kind, const py::dict& args,
                                 const py::handle& pred, const py::handle& labels) {
  MetricPtr metric = make_metric(kind, to_values(args));
  auto* mean = dynamic_cast<MeanMetric*>(metric.get());
  if (!mean) throw std::invalid_argument("metric " + kind + " has no per-sample values");
  ArrayBatch b = array_batch(pred, labels, py::none());
  py::array_t<float> out(b.n * mean->values_per_sample(b.k));
  mean->values(b.pred.data(), b.y, b.n, b.k, out.mutable_data());
  return out;
}

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fmnistcpp's C++ engine on oneDNN";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const not_implemented& e) {
      PyErr_SetString(PyExc_NotImplementedError, e.what());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(PyExc_ValueError, e.what());
    } catch (const dnnl::error& e) {
      PyErr_SetString(PyExc_RuntimeError,
                      (std::string("oneDNN could not run this layer: ") + e.what()).c_str());
    }
  });

  m.def("set_num_threads", [](int n) {
    if (n <= 0) throw std::invalid_argument("number of threads must be positive");
    omp_set_num_threads(n);
  });
  m.def("get_num_threads", []() { return omp_get_max_threads(); });
  // The team fitted to the cores other processes leave free (thread_team.hpp).
  m.def("set_adaptive_threads", &set_adaptive_threads);
  m.def("get_adaptive_threads", &adaptive_threads);
  m.def("thread_team_state", []() {
    py::dict d;
    d["others_busy_cores"] = others_busy_cores();
    d["last_team_size"] = last_team_size();
    d["lane_steps"] = lane_steps();
    d["lanes_wanted"] = lanes_wanted();
    return d;
  });
  // Training on lanes (lanes.cpp); for tests and benchmarks: n > 0 forces n
  // lanes for every network that can run on them, 0 leaves it to the team.
  m.def("_set_forced_lanes", [](int n) {
    if (n < 0) throw std::invalid_argument("lanes must be 0 (automatic) or positive");
    set_forced_lanes(n);
  });
  // For tests: how many Dense products (forward or weight gradient) split
  // the kernel's rows across the team (kernel_row_split.hpp).
  m.def("_kernel_row_split_calls", &kernel_row_split_calls);
  m.def("onednn_version", []() {
    const dnnl_version_t* v = dnnl_version();
    return py::make_tuple(v->major, v->minor, v->patch);
  });
  m.def("layer_kinds", &layer_kinds);
  m.def("bf16_supported", &bf16_supported);
  m.def("cpu_isa", &cpu_isa_name);
  m.def("activation_names", &activation_names);
  // keras.activations.<name>(x, **args) on an array, row-wise ones along
  // its last axis; and the gradient given dy (for tests).
  m.def("activation_forward", [](const std::string& name, const py::dict& args, FloatArray x) {
    FloatArray y(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
    const int64_t cols = x.ndim() ? x.shape(x.ndim() - 1) : 1, size = x.size();
    Config config(name, to_values(args));
    const float* src = x.data();
    float* dst = y.mutable_data();
    if (size) locked([&] { apply_activation(name, config, src, dst, size / cols, cols); });
    return y;
  });
  m.def("activation_gradient", [](const std::string& name, const py::dict& args, FloatArray x,
                                  FloatArray dy) {
    if (dy.size() != x.size()) throw std::invalid_argument("dy must have x's shape");
    FloatArray dx(std::vector<py::ssize_t>(x.shape(), x.shape() + x.ndim()));
    const int64_t cols = x.ndim() ? x.shape(x.ndim() - 1) : 1, size = x.size();
    Config config(name, to_values(args));
    const float* src = x.data();
    const float* g = dy.data();
    float* out = dx.mutable_data();
    if (size) locked([&] { activation_gradient(name, config, src, g, out, size / cols, cols); });
    return dx;
  });
  m.def("first_non_finite", &first_non_finite);
  m.def("loss_call", &loss_call);
  m.def("check_loss", [](const std::string& kind, const py::dict& args) {
    make_loss(kind, to_values(args));  // the loss's own argument checks
  });
  m.def("metric_values", &metric_values);
  py::class_<Metric>(m, "Metric")
      .def("update", [](Metric& mt, const py::handle& pred, const py::handle& labels,
                        const py::handle& sw) {
        ArrayBatch b = array_batch(pred, labels, sw);
        mt.update(b.pred.data(), b.y, sw.is_none() ? nullptr : b.weights.data(), b.n, b.k);
      })
      .def("results", [](const Metric& mt) {
        std::vector<double> out(mt.result_size());
        mt.results(out.data());
        return out;
      })
      .def("reset", &Metric::reset);
  m.def("make_metric", [](const std::string& kind, const py::dict& args) {
    return make_metric(kind, to_values(args));
  });

  py::class_<Variable>(m, "Variable")
      .def_property_readonly("name", [](const Variable& v) { return v.param().name; })
      .def_property_readonly("shape", [](const Variable& v) { return py::tuple(py::cast(v.param().shape)); })
      .def_property_readonly("trainable", [](const Variable& v) { return v.param().trainable; })
      .def("numpy", &variable_numpy)
      .def("assign", &variable_assign)
      .def("set_regularizer", [](const Variable& v, double l1, double l2) {
        if (!(l1 >= 0 && l2 >= 0 && std::isfinite(l1) && std::isfinite(l2)))
          throw std::invalid_argument("regularization factors must be finite numbers >= 0");
        locked([&] {
          v.param().l1 = static_cast<float>(l1);
          v.param().l2 = static_cast<float>(l2);
        });
      })
      .def("set_constraint", [](const Variable& v, const std::string& kind, double min_value,
                                double max_value, double rate, const std::vector<int64_t>& axes) {
        locked([&] { set_constraint(v.param(), kind, min_value, max_value, rate, axes); });
      })
      .def("same_as", [](const Variable& a, const Variable& b) { return &a.param() == &b.param(); });

  py::class_<Layer, LayerPtr>(m, "Layer")
      .def_property_readonly("kind", &Layer::kind)
      .def("config", [](const Layer& l) { return config_dict(l.config()); })
      .def_property_readonly("arity", &Layer::arity)
      .def("build", [](const LayerPtr& l, const std::vector<Shape>& inputs) {
        return locked([&] { return l->build(inputs); });
      })
      .def_property_readonly("built", &Layer::built)
      .def_property_readonly("output_shape", &Layer::output_shape)
      .def("variables", &layer_variables)
      .def("set_compute_bfloat16", [](const LayerPtr& l, bool on) {
        locked([&] { l->set_compute_bfloat16(on); });
      })
      .def_property_readonly("computes_bfloat16", &Layer::computes_bfloat16)
      .def("set_activity_regularizer", [](const LayerPtr& l, double l1, double l2) {
        if (!(l1 >= 0 && l2 >= 0 && std::isfinite(l1) && std::isfinite(l2)))
          throw std::invalid_argument("regularization factors must be finite numbers >= 0");
        if ((l1 != 0 || l2 != 0) && l->is_view())
          throw not_implemented("activity_regularizer on " + l->kind() + " is not supported; put "
                                "it on the layer before (the values are the same)");
        locked([&] {
          l->activity_l1 = static_cast<float>(l1);
          l->activity_l2 = static_cast<float>(l2);
        });
      });
  // Checks an optimizer's arguments (the engine's checks, at construction
  // as Keras makes them); returns the arguments as the engine read them.
  m.def("check_optimizer", [](const std::string& cls, const py::dict& args) {
    return config_dict(Optimizer::make(Config(cls, to_values(args)))->config());
  });
  m.def("make_layer", [](const std::string& kind, const py::dict& args) {
    return make_layer(kind, to_values(args));
  });

  py::class_<EpochLogs>(m, "EpochLogs").def("dict", &logs_dict);

  py::class_<Network>(m, "Network")
      .def(py::init<std::vector<Shape>>(), py::arg("input_shapes"))
      .def("add", [](Network& n, const LayerPtr& layer, std::vector<int> inputs) {
        return locked([&] { return n.add(layer, std::move(inputs)); });
      }, py::arg("layer"), py::arg("inputs"))
      .def("set_outputs", &Network::set_outputs)
      .def("tensor_shape", [](const Network& n, int t) { return n.tensor_shape(t); })
      .def_property_readonly("num_nodes", &Network::num_nodes)
      .def("compile", &compile, py::arg("targets"), py::arg("optimizer"), py::arg("frozen"),
           py::arg("order") = std::vector<std::pair<int, int>>{})
      .def_property_readonly("compiled", &Network::compiled)
      .def("fit_epoch", &fit_epoch, py::arg("x"), py::arg("y"), py::arg("sample_weight"),
           py::arg("batch_size"), py::arg("shuffle"), py::arg("seed"),
           py::arg("progress") = py::none(), py::arg("interval") = 0.05,
           py::arg("every_batch") = false)
      .def("evaluate", &evaluate, py::arg("x"), py::arg("y"), py::arg("sample_weight"),
           py::arg("batch_size"), py::arg("progress") = py::none(), py::arg("interval") = 0.05)
      .def("predict", &predict, py::arg("x"), py::arg("batch_size"),
           py::arg("progress") = py::none(), py::arg("interval") = 0.05,
           py::arg("training") = false, py::arg("seed") = 0)
      .def("loss_and_gradients", &loss_and_gradients, py::arg("x"), py::arg("y"),
           py::arg("sample_weight") = py::none(), py::arg("training") = false,
           py::arg("seed") = 0)
      .def("tensor_values", &tensor_values)
      .def("layer_teams", &Network::layer_teams)
      .def("gradients_in_place", &Network::gradients_in_place)
      .def("begin_stream", [](Network& n) {
        py::gil_scoped_release release;
        return n.begin_stream();
      })
      .def("train_batch", &train_batch, py::arg("logs"), py::arg("x"), py::arg("y"),
           py::arg("sample_weight"), py::arg("seed"), py::arg("batch"))
      .def("test_batch", &test_batch, py::arg("logs"), py::arg("x"), py::arg("y"),
           py::arg("sample_weight"))
      .def_property(
          "learning_rate",
          [](Network& n) { return locked([&] { return n.optimizer().learning_rate(); }); },
          [](Network& n, double lr) { locked([&] { n.optimizer().set_learning_rate(lr); }); })
      .def_property(
          "iterations", [](Network& n) { return locked([&] { return n.optimizer().iterations(); }); },
          [](Network& n, int64_t it) {
            if (it < 0) throw std::invalid_argument("iterations must be >= 0");
            locked([&] { n.optimizer().set_iterations(it); });
          })
      .def("optimizer_config", [](Network& n) { return config_dict(n.optimizer().config()); })
      // The optimizer's state in Keras's order: [(variable index or -1 for an
      // optimizer-wide scalar, slot name)].
      .def("optimizer_slots", [](Network& n) {
        py::list out;
        for (const auto& s : n.optimizer().slots())
          out.append(py::make_tuple(s.variable == Optimizer::kShared ? -1 : int64_t(s.variable),
                                    s.name));
        return out;
      })
      .def("optimizer_slot_sizes", [](Network& n) {
        std::vector<int64_t> sizes;
        for (const auto& s : n.optimizer().slots()) sizes.push_back(int64_t(s.values->size()));
        return sizes;
      })
      .def("optimizer_slot_values", [](Network& n) {
        py::list out;
        for (const auto& s : n.optimizer().slots()) {
          py::array_t<float> a(s.shape);
          float* dst = a.mutable_data();
          locked([&] { std::copy(s.values->begin(), s.values->end(), dst); });
          out.append(a);
        }
        return out;
      })
      .def("finalize_optimizer", [](Network& n) { locked([&] { n.optimizer().finalize(); }); })
      .def("set_optimizer_slot_values", [](Network& n, const py::list& values) {
        Optimizer& opt = n.optimizer();
        auto slots = opt.slots();
        if (values.size() != slots.size())
          throw std::invalid_argument("the optimizer keeps " + std::to_string(slots.size()) +
                                      " state arrays, got " + std::to_string(values.size()));
        std::vector<FloatArray> arrays;
        for (size_t i = 0; i < slots.size(); ++i) {
          FloatArray a = FloatArray::ensure(values[i]);
          const Shape& want = slots[i].shape;
          if (!a || Shape(a.shape(), a.shape() + a.ndim()) != want)
            throw std::invalid_argument("optimizer state " + std::to_string(i) + " (" +
                                        slots[i].name + ") must have shape " + shape_str(want));
          arrays.push_back(a);
        }
        locked([&] {
          for (size_t i = 0; i < slots.size(); ++i) {
            AlignedVector& v = *slots[i].values;
            std::copy(arrays[i].data(), arrays[i].data() + v.size(), v.begin());
          }
        });
      });
}
