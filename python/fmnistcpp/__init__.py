"""fmnistcpp: Keras's API for Fashion-MNIST classifiers, trained by a C++
core on oneDNN.

    import fmnistcpp as keras

    model = keras.Sequential([...])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    model.fit(x_train, y_train, epochs=5, validation_split=0.2)
"""

from ._dnnl_loader import preload as _preload

_preload()

from . import _core  # noqa: E402  (after oneDNN is loadable)
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

__version__ = "0.1.0"

__all__ = [
    "DTypePolicy", "FloatDTypePolicy", "Input", "Model", "Sequential", "activations", "backend",
    "callbacks", "config", "constraints", "datasets", "dtype_policies", "initializers", "layers",
    "losses", "metrics", "mixed_precision", "models",
    "optimizers", "preprocessing", "regularizers", "utils",
    "__version__",
]
