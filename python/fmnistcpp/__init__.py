"""fmnistcpp: Keras's API for Fashion-MNIST classifiers, trained by a C++
core on oneDNN.

    import fmnistcpp as keras

    model = keras.Sequential([...])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, validation_split=0.2)
"""

from importlib import metadata as _metadata

from . import _threads
from ._dnnl_loader import preload as _preload

_threads.before_openmp_loads()  # libgomp reads its wait policy once, as it loads
_preload()

from . import _core  # noqa: E402  (after oneDNN is loadable)

_threads.after_openmp_loaded()
from . import (  # noqa: E402
    activations,
    backend,
    callbacks,
    config,
    constraints,
    datasets,
    dtype_policies,
    initializers,
    layers,
    losses,
    metrics,
    mixed_precision,
    models,
    optimizers,
    preprocessing,
    regularizers,
    utils,
)
from .dtype_policies import DTypePolicy, FloatDTypePolicy  # noqa: E402
from .layers import Input  # noqa: E402
from .models import Model, Sequential  # noqa: E402
# Keras 3's top-level names for the base classes.
from .backend import KerasTensor, Variable  # noqa: E402
from .initializers import Initializer  # noqa: E402
from .layers import Layer  # noqa: E402
from .losses import Loss  # noqa: E402
from .metrics import Metric  # noqa: E402
from .optimizers import Optimizer  # noqa: E402
from .regularizers import Regularizer  # noqa: E402

# The version is written once, in pyproject.toml; the installed metadata carries it.
__version__ = _metadata.version("fmnistcpp")


def version() -> str:
    """fmnistcpp's version (keras.version() gives Keras's)."""
    return __version__


__all__ = [
    "DTypePolicy", "FloatDTypePolicy", "Initializer", "Input", "KerasTensor", "Layer", "Loss",
    "Metric", "Model", "Optimizer", "Regularizer", "Sequential", "Variable", "version",
    "activations", "backend", "callbacks", "config", "constraints", "datasets", "dtype_policies",
    "initializers", "layers", "losses", "metrics", "mixed_precision", "models",
    "optimizers", "preprocessing", "regularizers", "utils",
    "__version__",
]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "")
