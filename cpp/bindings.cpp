// The one file that speaks pybind11: converts arrays and dicts, releases the
// GIL around every loop over batches, and calls back into Python only for
// throttled progress, for batch hooks a callback asked for, and to let
// Ctrl-C through at batch boundaries. C++ exceptions become ValueError /
// RuntimeError with their message.
#include "activation_layer.hpp"
#include "batch_normalization.hpp"
#include "conv2d.hpp"
#include "dense.hpp"
#include "denormals.hpp"
#include "dnnl_context.hpp"
#include "dropout.hpp"
#include "fork_guard.hpp"
#include "global_average_pooling2d.hpp"
#include "network.hpp"
#include "pooling2d.hpp"
#include "reshape.hpp"
#include "signal_guard.hpp"

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <omp.h>

#include <chrono>

namespace py = pybind11;
using namespace fmnistcpp;

namespace {

using FloatArray = py::array_t<float, py::array::c_style | py::array::forcecast>;
using IntArray = py::array_t<int32_t, py::array::c_style | py::array::forcecast>;

bool is_same_padding(const std::string& padding) {
  if (padding == "same") return true;
  if (padding == "valid") return false;
  throw std::invalid_argument("padding must be 'valid' or 'same', got '" + padding + "'");
}

Shape sample_shape(const py::array& x, const char* what) {
  if (x.ndim() < 1) throw std::invalid_argument(std::string(what) + " must have a batch axis");
  return Shape(x.shape() + 1, x.shape() + x.ndim());
}

py::dict logs_dict(const EpochLogs& logs) {
  py::dict d;
  d["loss"] = logs.loss();
  py::list metrics;
  for (size_t m = 0; m < logs.correct.size(); ++m) metrics.append(logs.metric(m));
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

// Labels as int32 (sparse) or float32 (one-hot) views; `keep` holds the
// converted arrays alive for the call.
Labels labels_from(const py::array& y, int64_t n, int64_t classes, std::vector<py::array>& keep) {
  Labels labels;
  if (y.ndim() == 1) {
    IntArray a = IntArray::ensure(y);
    if (!a) throw std::invalid_argument("integer labels could not be read as int32");
    keep.push_back(a);
    labels.sparse = a.data();
  } else if (y.ndim() == 2) {
    FloatArray a = FloatArray::ensure(y);
    if (!a) throw std::invalid_argument("one-hot labels could not be read as float32");
    if (a.shape(1) != classes)
      throw std::invalid_argument("one-hot labels have " + std::to_string(a.shape(1)) +
                                  " columns, the model outputs " + std::to_string(classes));
    keep.push_back(a);
    labels.dense = a.data();
  } else {
    throw std::invalid_argument("labels must be 1-D (integers) or 2-D (one-hot)");
  }
  if (y.shape(0) != n)
    throw std::invalid_argument("x has " + std::to_string(n) + " samples but y has " +
                                std::to_string(y.shape(0)));
  return labels;
}

class PyNetwork {
 public:
  explicit PyNetwork(const Shape& input_shape) : net_(input_shape) {}

  py::tuple add_layer(LayerPtr layer) { return py::cast(net_.add(std::move(layer))); }

  py::list get_weights() {
    py::list out;
    for (Param* p : net_.all_params()) {
      py::array_t<float> a(p->shape);
      std::copy(p->value.begin(), p->value.end(), a.mutable_data());
      out.append(a);
    }
    return out;
  }

  void set_weights(const py::list& weights) {
    auto ps = net_.all_params();
    if (weights.size() != ps.size())
      throw std::invalid_argument("expected " + std::to_string(ps.size()) + " weight arrays, got " +
                                  std::to_string(weights.size()));
    std::vector<FloatArray> arrays;
    for (size_t i = 0; i < ps.size(); ++i) {
      FloatArray a = FloatArray::ensure(weights[i]);
      if (!a) throw std::invalid_argument("weight " + std::to_string(i) + " is not numeric");
      Shape got(a.shape(), a.shape() + a.ndim());
      if (got != ps[i]->shape)
        throw std::invalid_argument("weight " + std::to_string(i) + " (" + ps[i]->name +
                                    ") has shape " + shape_str(got) + ", expected " +
                                    shape_str(ps[i]->shape));
      arrays.push_back(a);
    }
    for (size_t i = 0; i < ps.size(); ++i) {  // all checked first: no half-set model
      std::copy(arrays[i].data(), arrays[i].data() + ps[i]->size(), ps[i]->value.begin());
      ++ps[i]->version;
    }
  }

  py::list layer_param_counts() {
    py::list out;
    for (size_t i = 0; i < net_.num_layers(); ++i) out.append(net_.layer(i).params().size());
    return out;
  }

  void compile(bool sparse, bool from_logits, const std::string& optimizer, double lr,
               double beta_1, double beta_2, double epsilon, double momentum, bool nesterov,
               const std::vector<int64_t>& metric_top_k, double rho, bool centered,
               double weight_decay, double decay_steps, double decay_rate, bool staircase,
               const std::vector<double>& weight_l2) {
    OptimizerConfig cfg{optimizer, lr,       beta_1,      beta_2,     epsilon,  momentum,
                        nesterov,  rho,      centered,    weight_decay, decay_steps, decay_rate,
                        staircase};
    std::vector<MetricSpec> metrics;
    for (auto k : metric_top_k) metrics.push_back(MetricSpec{k});
    auto ps = net_.all_params();  // weight_l2 is in get_weights() order
    if (!weight_l2.empty() && weight_l2.size() != ps.size())
      throw std::invalid_argument("weight_l2 has " + std::to_string(weight_l2.size()) +
                                  " entries for " + std::to_string(ps.size()) + " weights");
    for (double f : weight_l2)
      if (!(f >= 0) || !std::isfinite(f))
        throw std::invalid_argument("l2 factors must be finite numbers >= 0");
    net_.compile(sparse, from_logits, cfg, metrics);
    for (size_t i = 0; i < ps.size(); ++i)
      ps[i]->l2 = weight_l2.empty() ? 0.f : static_cast<float>(weight_l2[i]);
  }

  py::dict fit_epoch(const py::array& x, const py::array& y, int64_t batch_size, bool shuffle,
                     uint64_t seed, const py::object& progress, double interval,
                     bool every_batch) {
    FloatArray xa = checked_x(x);
    std::vector<py::array> keep;
    Labels labels = labels_from(y, xa.shape(0), classes(), keep);
    ProgressFn fn = make_progress(progress, interval, every_batch);
    EpochLogs logs;
    {
      py::gil_scoped_release release;
      logs = net_.fit_epoch(xa.data(), labels, xa.shape(0), batch_size, shuffle, seed, fn);
    }
    return logs_dict(logs);
  }

  py::dict evaluate(const py::array& x, const py::array& y, int64_t batch_size,
                    const py::object& progress, double interval) {
    FloatArray xa = checked_x(x);
    std::vector<py::array> keep;
    Labels labels = labels_from(y, xa.shape(0), classes(), keep);
    ProgressFn fn = make_progress(progress, interval, false);
    EpochLogs logs;
    {
      py::gil_scoped_release release;
      logs = net_.evaluate(xa.data(), labels, xa.shape(0), batch_size, fn);
    }
    return logs_dict(logs);
  }

  FloatArray predict(const py::array& x, int64_t batch_size, const py::object& progress,
                     double interval) {
    FloatArray xa = checked_x(x);
    Shape out_shape{xa.shape(0)};
    for (auto d : net_.output_shape()) out_shape.push_back(d);
    FloatArray out(out_shape);
    float* dst = out.mutable_data();
    ProgressFn fn = make_progress(progress, interval, false);
    {
      py::gil_scoped_release release;
      net_.predict(xa.data(), xa.shape(0), batch_size, dst, fn);
    }
    return out;
  }

  py::tuple loss_and_gradients(const py::array& x, const py::array& y, bool training,
                               uint64_t seed) {
    FloatArray xa = checked_x(x);
    std::vector<py::array> keep;
    Labels labels = labels_from(y, xa.shape(0), classes(), keep);
    FloatArray input_grad(std::vector<py::ssize_t>(xa.shape(), xa.shape() + xa.ndim()));
    double loss;
    {
      py::gil_scoped_release release;
      loss = net_.loss_and_gradients(xa.data(), labels, xa.shape(0), training, seed,
                                     input_grad.mutable_data());
    }
    py::list grads;
    for (Param* p : net_.params()) {
      py::array_t<float> g(p->shape);
      std::copy(p->grad.begin(), p->grad.end(), g.mutable_data());
      grads.append(g);
    }
    return py::make_tuple(loss, grads, input_grad);
  }

  py::list layer_outputs(const py::array& x) {
    FloatArray xa = checked_x(x);
    std::vector<std::vector<float>> outs;
    {
      py::gil_scoped_release release;
      outs = net_.layer_outputs(xa.data(), xa.shape(0));
    }
    py::list result;
    for (size_t i = 0; i < outs.size(); ++i) {
      Shape s{xa.shape(0)};
      for (auto d : net_.layer(i).output_shape()) s.push_back(d);
      py::array_t<float> a(s);
      std::copy(outs[i].begin(), outs[i].end(), a.mutable_data());
      result.append(a);
    }
    return result;
  }

  double learning_rate() { return net_.optimizer().learning_rate(); }
  void set_learning_rate(double lr) {
    if (!(lr >= 0)) throw std::invalid_argument("learning_rate must be >= 0");
    net_.optimizer().set_learning_rate(lr);
  }
  int64_t iterations() { return net_.optimizer().iterations(); }
  py::tuple output_shape() { return py::cast(net_.output_shape()); }

 private:
  int64_t classes() const { return shape_size(net_.output_shape()); }
  FloatArray checked_x(const py::array& x) {  // every engine entry starts here
    if (take_fork_warning() && PyErr_WarnEx(PyExc_RuntimeWarning, kForkWarning, 1) < 0)
      throw py::error_already_set();
    FloatArray a = FloatArray::ensure(x);
    if (!a) throw std::invalid_argument("x could not be read as float32");
    if (sample_shape(a, "x") != net_.input_shape())
      throw std::invalid_argument("x has sample shape " + shape_str(sample_shape(a, "x")) +
                                  ", the model expects " + shape_str(net_.input_shape()));
    return a;
  }

  Network net_;
};

}  // namespace

PYBIND11_MODULE(_core, m) {
  m.doc() = "fmnistcpp's C++ engine on oneDNN";
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
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
  m.def("onednn_version", []() {
    const dnnl_version_t* v = dnnl_version();
    return py::make_tuple(v->major, v->minor, v->patch);
  });

  py::class_<PyNetwork>(m, "Network")
      .def(py::init<const Shape&>(), py::arg("input_shape"))
      .def("add_conv2d",
           [](PyNetwork& n, int64_t filters, int64_t kh, int64_t kw, int64_t sh, int64_t sw,
              const std::string& padding, const std::string& activation, bool use_bias) {
             return n.add_layer(std::make_unique<Conv2D>(filters, kh, kw, sh, sw,
                                                         is_same_padding(padding),
                                                         parse_activation(activation), use_bias));
           })
      .def("add_pooling2d",
           [](PyNetwork& n, const std::string& kind, int64_t ph, int64_t pw, int64_t sh,
              int64_t sw, const std::string& padding) {
             if (kind != "max" && kind != "average")
               throw std::invalid_argument("pooling kind must be 'max' or 'average'");
             return n.add_layer(std::make_unique<Pooling2D>(kind == "max", ph, pw, sh, sw,
                                                            is_same_padding(padding)));
           })
      .def("add_dense",
           [](PyNetwork& n, int64_t units, const std::string& activation, bool use_bias) {
             return n.add_layer(
                 std::make_unique<Dense>(units, parse_activation(activation), use_bias));
           })
      .def("add_reshape",
           [](PyNetwork& n, const Shape& target) {
             return n.add_layer(std::make_unique<Reshape>(target));
           })
      .def("add_batch_normalization",
           [](PyNetwork& n, double momentum, double epsilon, bool center, bool scale) {
             return n.add_layer(
                 std::make_unique<BatchNormalization>(momentum, epsilon, center, scale));
           },
           py::arg("momentum"), py::arg("epsilon"), py::arg("center"), py::arg("scale"))
      .def("add_global_average_pooling2d",
           [](PyNetwork& n, bool keepdims) {
             return n.add_layer(std::make_unique<GlobalAveragePooling2D>(keepdims));
           },
           py::arg("keepdims"))
      .def("add_dropout",
           [](PyNetwork& n, double rate) { return n.add_layer(std::make_unique<Dropout>(rate)); })
      .def("add_activation",
           [](PyNetwork& n, const std::string& name) {
             return n.add_layer(std::make_unique<ActivationLayer>(parse_activation(name)));
           })
      .def("get_weights", &PyNetwork::get_weights)
      .def("set_weights", &PyNetwork::set_weights)
      .def("layer_param_counts", &PyNetwork::layer_param_counts)
      .def("compile", &PyNetwork::compile, py::arg("sparse"), py::arg("from_logits"),
           py::arg("optimizer"), py::arg("learning_rate"), py::arg("beta_1"), py::arg("beta_2"),
           py::arg("epsilon"), py::arg("momentum"), py::arg("nesterov"), py::arg("metric_top_k"),
           py::arg("rho") = 0.9, py::arg("centered") = false, py::arg("weight_decay") = 0.0,
           py::arg("decay_steps") = 0.0, py::arg("decay_rate") = 1.0,
           py::arg("staircase") = false,
           py::arg("weight_l2") = std::vector<double>{})
      .def("fit_epoch", &PyNetwork::fit_epoch, py::arg("x"), py::arg("y"), py::arg("batch_size"),
           py::arg("shuffle"), py::arg("seed"), py::arg("progress") = py::none(),
           py::arg("interval") = 0.05, py::arg("every_batch") = false)
      .def("evaluate", &PyNetwork::evaluate, py::arg("x"), py::arg("y"), py::arg("batch_size"),
           py::arg("progress") = py::none(), py::arg("interval") = 0.05)
      .def("predict", &PyNetwork::predict, py::arg("x"), py::arg("batch_size"),
           py::arg("progress") = py::none(), py::arg("interval") = 0.05)
      .def("loss_and_gradients", &PyNetwork::loss_and_gradients, py::arg("x"), py::arg("y"),
           py::arg("training") = false, py::arg("seed") = 0)
      .def("layer_outputs", &PyNetwork::layer_outputs)
      .def_property("learning_rate", &PyNetwork::learning_rate, &PyNetwork::set_learning_rate)
      .def_property_readonly("iterations", &PyNetwork::iterations)
      .def_property_readonly("output_shape", &PyNetwork::output_shape);
}
