"""The error for a name Keras 3 has and fmnistcpp does not.

Each public module of fmnistcpp ends with
``__getattr__ = _missing.module_getattr(__name__, "layers")``: Python calls
it only for names the module lacks, and for one of Keras's own names
(``_keras_names.py``) it raises :class:`NotInFmnistcpp`, an
AttributeError (so ``hasattr`` and ``getattr(..., default)`` work as
usual) that is also a NotImplementedError, saying what to do instead.
"""

from __future__ import annotations

import importlib
import importlib.util

from ._keras_names import NAMES

_NO_DOWNLOADS = ("fmnistcpp bundles Fashion-MNIST only and downloads nothing at run time: "
                 "use datasets.fashion_mnist.load_data()")
_NO_PYTHON_IN_ENGINE = ("the model runs in fmnistcpp's C++ engine, which cannot run Python "
                        "functions: compute it with layers, or on the data before fit/predict")
_NUMPY_INSTEAD = ("fmnistcpp's models take and return NumPy arrays: use NumPy on them (and "
                  "layers inside a model)")

# Names with a more specific way out than the general message.
_HINTS = {
    "": {"ops": _NUMPY_INSTEAD, "random": "use numpy.random, or utils.set_random_seed",
         "tree": _NUMPY_INSTEAD,
         "applications": "pretrained applications need downloaded weights and layers "
                         "fmnistcpp does not have",
         "distribution": "fmnistcpp trains on the CPU cores of one machine; "
                         "tuner(executor='ray') spreads trials (docs/RAY.md)"},
    "layers": {"Lambda": _NO_PYTHON_IN_ENGINE, "TFSMLayer": "SavedModel files are TensorFlow's",
               "TorchModuleWrapper": _NO_PYTHON_IN_ENGINE, "JaxLayer": _NO_PYTHON_IN_ENGINE,
               "FlaxLayer": _NO_PYTHON_IN_ENGINE},
    "datasets": {name: _NO_DOWNLOADS for name in NAMES["datasets"]},
    "utils": {"get_file": _NO_DOWNLOADS},
    "losses": {"Loss": "custom losses cannot run in the C++ engine: use one of "
                       "fmnistcpp.losses' classes"},
}


def _submodule(package: str, name: str):
    """A submodule of ours not imported yet (``fmnistcpp.mixed_precision``
    before anything imported it) is found, not refused."""
    try:
        spec = importlib.util.find_spec(f"{package}.{name}")
    except (ImportError, ValueError):  # `package` is a plain module
        return None
    return importlib.import_module(f"{package}.{name}") if spec is not None else None


class NotInFmnistcpp(NotImplementedError, AttributeError):
    """A Keras 3 name fmnistcpp does not provide."""


def module_getattr(module_name: str, keras_path: str):
    known = frozenset(NAMES[keras_path])
    hints = _HINTS.get(keras_path, {})
    keras_name = "keras" + ("." + keras_path if keras_path else "")

    def __getattr__(name):
        if name in known:
            submodule = _submodule(module_name, name)
            if submodule is not None:
                return submodule
            hint = hints.get(name)
            raise NotInFmnistcpp(
                f"{keras_name}.{name} is part of Keras 3 but not of fmnistcpp"
                + (f": {hint}" if hint else "")
                + f". docs/RESULTS.md lists what fmnistcpp supports; dir({module_name}) "
                "shows this module's names.")
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
