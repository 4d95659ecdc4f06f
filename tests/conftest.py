"""Shared fixtures and helpers for the Keras-parity tests.

Real Keras 3 (TensorFlow CPU backend) is a hard test dependency: these tests
compare fmnistcpp against it and must run (never skip) in CI.

Helpers (importable as `from conftest import ...` and also as fixtures):

- `build_model(module, input_shape, specs)`: the same Sequential in Keras or
  fmnistcpp from a list of layer specs `(LayerClassName, kwargs)`;
- `build_pair(input_shape, specs, seed)`: both models, with the Keras
  model's initial weights copied into the fmnistcpp one;
- `copy_weights(src, dst)`: get_weights -> set_weights, shapes checked;
- `SEED_ARCHS`: the five seed projects' architectures and hyperparameters.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# TensorFlow turns its oneDNN kernels on by itself only on CPUs with AVX-512
# or AMX; on an AVX2 CPU (AMD Zen 2, say) its Eigen kernels refuse
# channels_first convolutions and dilated Conv2DTranspose ("only supports
# NHWC", "do not yet support dilation rates larger than 1"), so the reference
# would vanish on such a CI machine. With oneDNN on, Keras computes every case
# on every x86 CPU, as the benchmarks already run it.
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras as _keras  # noqa: E402  (the real Keras 3)

import fmnistcpp as _fmnistcpp  # noqa: E402
from fmnistcpp import architectures as _architectures  # noqa: E402

assert _keras.backend.backend() == "tensorflow", "the reference must be Keras on TensorFlow"

# Many tests compare two runs bit for bit; on a shared machine the load can
# change between them, and with it the adaptive team (cpp/thread_team.hpp),
# whose sizes round differently. In-process tests run on a fixed team;
# tests/test_thread_team.py and the child interpreters of other tests see
# the default.
_fmnistcpp.utils.set_adaptive_threads(False)


# --- the five seed architectures ---------------------------------------------------------
# From fmnistcpp.architectures, the one table of the seed models (the command
# line, the notebooks and the benchmarks build from it too). Each: input
# shape, layer specs, loss, optimizer (class, kwargs), batch size, whether
# labels are one-hot.
def _seed_arch(name):
    d = _architectures.defaults(name)
    return dict(
        input_shape=tuple(d["input_shape"]),
        layers=_architectures.layer_specs(name),
        loss=d["loss"],
        optimizer=({"adam": "Adam", "sgd": "SGD"}[d["optimizer"]],
                   dict(learning_rate=d["learning_rate"])),
        batch_size=d["batch_size"],
        one_hot=d["labels"] == "onehot",
    )


SEED_ARCHS = {_architectures.get(n).defaults["seed"]: _seed_arch(n)
              for n in _architectures.names()}


# --- builders ----------------------------------------------------------------------------
def build_model(module, input_shape, specs):
    """`module.Sequential([Input(shape), *layers])` for module = keras or fmnistcpp
    (`architectures.build_in` for the seed models; this one for any spec list)."""
    layers = [module.layers.Input(shape=tuple(input_shape))]
    for name, kwargs in specs:
        layers.append(getattr(module.layers, name)(**dict(kwargs)))
    return module.Sequential(layers)


def trained_file_round_trip(src, dst_module, x, y, path):
    """Trains `src` for one epoch (Adam, sparse cross-entropy), saves it to
    the `.keras` file `path`, loads it with `dst_module` (keras or fmnistcpp)
    and checks that the loaded model predicts as `src` (1e-6: the same
    float32 weights, two implementations' round-off). Returns it."""
    import warnings

    src.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    src.fit(x, y, epochs=1, verbose=0)  # trained weights and optimizer state travel
    src.save(str(path))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        loaded = dst_module.models.load_model(str(path))
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(src.predict(x, verbose=0)), rtol=1e-6, atol=1e-7)
    return loaded


def copy_weights(src_model, dst_model):
    """Copies every weight from src to dst (Keras layouts on both sides)."""
    weights = [np.array(w, dtype=np.float32) for w in src_model.get_weights()]
    expected = [np.shape(w) for w in dst_model.get_weights()]
    assert [w.shape for w in weights] == expected, "the two models' weight shapes differ"
    dst_model.set_weights(weights)
    back = dst_model.get_weights()
    for w, b in zip(weights, back):  # the round trip itself must be exact
        np.testing.assert_array_equal(np.asarray(b), w)
    return dst_model


def build_pair(input_shape, specs, seed=0):
    """(keras_model, fmnistcpp_model) with identical weights (Keras's glorot init)."""
    _keras.utils.set_random_seed(seed)
    _fmnistcpp.utils.set_random_seed(seed)
    km = build_model(_keras, input_shape, specs)
    fm = build_model(_fmnistcpp, input_shape, specs)
    copy_weights(km, fm)
    return km, fm


def make_optimizer(module, spec):
    """A fresh optimizer from a string or (class name, kwargs)."""
    if isinstance(spec, str):
        return spec
    name, kwargs = spec
    return getattr(module.optimizers, name)(**dict(kwargs))


def make_loss(module, spec):
    """A loss from a string or (class name, kwargs)."""
    if isinstance(spec, str):
        return spec
    name, kwargs = spec
    return getattr(module.losses, name)(**dict(kwargs))


def compile_pair(km, fm, loss, optimizer="adam", metrics=("accuracy",)):
    km.compile(optimizer=make_optimizer(_keras, optimizer), loss=make_loss(_keras, loss),
               metrics=list(metrics))
    fm.compile(optimizer=make_optimizer(_fmnistcpp, optimizer), loss=make_loss(_fmnistcpp, loss),
               metrics=list(metrics))
    return km, fm


def seed_pair(name, seed=0):
    """The seed architecture `name`, built and compiled in both frameworks."""
    arch = SEED_ARCHS[name]
    km, fm = build_pair(arch["input_shape"], arch["layers"], seed=seed)
    return compile_pair(km, fm, arch["loss"], arch["optimizer"])


def seed_inputs(name, x, y):
    """Reshapes (N,28,28,1) images and integer labels to what seed `name` takes."""
    arch = SEED_ARCHS[name]
    x = np.ascontiguousarray(x.reshape((len(x),) + tuple(arch["input_shape"])), dtype=np.float32)
    if arch["one_hot"]:
        y = _keras.utils.to_categorical(y, 10).astype(np.float32)
    return x, y


# --- fixtures ----------------------------------------------------------------------------
@pytest.fixture(scope="session")
def keras():
    return _keras


@pytest.fixture(scope="session")
def fmnistcpp():
    return _fmnistcpp


@pytest.fixture(scope="session")
def full_data():
    """All of Fashion-MNIST, scaled to [0, 1], images (N, 28, 28, 1) float32."""
    (x, y), (xt, yt) = _fmnistcpp.datasets.fashion_mnist.load_data()
    x = (x.astype(np.float32) / 255.0)[..., None]
    xt = (xt.astype(np.float32) / 255.0)[..., None]
    return (x, y.astype(np.int64)), (xt, yt.astype(np.int64))


@pytest.fixture(scope="session")
def small_data(full_data):
    """The first 2000 train and 1000 test samples: (x, y), (x_test, y_test)."""
    (x, y), (xt, yt) = full_data
    return (x[:2000], y[:2000]), (xt[:1000], yt[:1000])


@pytest.fixture(scope="session")
def seed_archs():
    return SEED_ARCHS


@pytest.fixture(name="copy_weights", scope="session")
def _copy_weights_fixture():
    return copy_weights


@pytest.fixture(name="build_pair", scope="session")
def _build_pair_fixture():
    return build_pair


@pytest.fixture(name="build_model", scope="session")
def _build_model_fixture():
    return build_model


@pytest.fixture(scope="module")
def one_engine_thread():
    """For modules of tiny models and hundreds of engine calls: one engine
    thread avoids OpenMP barrier stalls on a loaded machine; the arithmetic
    is the same."""
    import fmnistcpp as fm

    before = fm.utils.get_num_threads()
    fm.utils.set_num_threads(1)
    yield
    fm.utils.set_num_threads(before)
