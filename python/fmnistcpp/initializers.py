"""Initial weights as Keras 3 makes them (keras.initializers): the same
classes, arguments, distributions and configs, drawn with NumPy from the
process-wide generator (see `_random`), so `fmnistcpp.utils.set_random_seed`
fixes them (the numbers differ from TensorFlow's, the distributions do
not). As in Keras, an initializer with an integer `seed` gives the same
values on every call. Any callable `f(shape, dtype=None)` returning an
array works too, and a NumPy array is its own initializer."""

from __future__ import annotations

import math
import numbers

import numpy as np

from . import _random


def compute_fans(shape, input_axes=None, output_axes=None):
    """Keras's compute_fans: dense (in, out); conv (kh, kw, in, out) scaled
    by the receptive field; or the products over the given axes."""
    shape = tuple(shape)
    if input_axes is not None and output_axes is not None:
        return (int(np.prod([shape[a] for a in input_axes])),
                int(np.prod([shape[a] for a in output_axes])))
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    if len(shape) == 2:
        return shape[0], shape[1]
    receptive = int(np.prod(shape[:-2]))
    return shape[-2] * receptive, shape[-1] * receptive


def _value(x):
    """Keras's serialize_keras_object for numbers and arrays."""
    if isinstance(x, np.ndarray):
        return {"class_name": "__numpy__", "config": {"value": x.tolist(), "dtype": str(x.dtype)}}
    if isinstance(x, np.generic):
        return x.item()
    return x


def _from_value(x):
    if isinstance(x, dict) and x.get("class_name") == "__numpy__":
        config = x.get("config") or {}
        return np.asarray(config.get("value"), dtype=config.get("dtype", "float32"))
    return x


class Initializer:
    """Base class: `initializer(shape, dtype=None)` returns a float32 array."""

    def __call__(self, shape, dtype=None):
        raise NotImplementedError("Initializer subclasses must implement the `__call__()` method.")

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def clone(self):
        return self.__class__.from_config(self.get_config())


class RandomInitializer(Initializer):
    def __init__(self, seed=None):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError("`seed` argument should be an integer (fmnistcpp has no "
                             f"keras.random.SeedGenerator). Received: seed={seed}")
        self.seed = None if seed is None else int(seed)

    def _rng(self):
        return np.random.default_rng(self.seed) if self.seed is not None else _random.generator()

    def get_config(self):
        return {"seed": self.seed}


class Zeros(Initializer):
    def __call__(self, shape, dtype=None):
        return np.zeros(shape, dtype=np.float32)


class Ones(Initializer):
    def __call__(self, shape, dtype=None):
        return np.ones(shape, dtype=np.float32)


class Constant(Initializer):
    """`value` times ones: a number, or an array that broadcasts to the shape."""

    def __init__(self, value=0.0):
        self.value = _from_value(value)

    def __call__(self, shape, dtype=None):
        return (np.asarray(self.value, dtype=np.float32) * np.ones(shape, np.float32)) \
            .astype(np.float32)

    def get_config(self):
        return {"value": _value(self.value)}

    @classmethod
    def from_config(cls, config):
        return cls(_from_value(config["value"]))


class Identity(Initializer):
    def __init__(self, gain=1.0):
        self.gain = gain

    def __call__(self, shape, dtype=None):
        if len(shape) != 2:
            raise ValueError("Identity matrix initializer can only be used for 2D matrices. "
                             f"Received: shape={tuple(shape)} of rank {len(shape)}.")
        return (self.gain * np.eye(*shape)).astype(np.float32)

    def get_config(self):
        return {"gain": self.gain}


class RandomUniform(RandomInitializer):
    def __init__(self, minval=-0.05, maxval=0.05, seed=None):
        self.minval, self.maxval = minval, maxval
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._rng().uniform(self.minval, self.maxval, size=shape).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


class RandomNormal(RandomInitializer):
    def __init__(self, mean=0.0, stddev=0.05, seed=None):
        self.mean, self.stddev = mean, stddev
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        return self._rng().normal(self.mean, self.stddev, size=shape).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


def _truncated_normal(rng, shape, mean, stddev):
    """Normal samples redrawn until within two standard deviations, as
    TensorFlow's truncated_normal (`stddev` is that of the normal before
    truncation)."""
    out = rng.normal(size=shape)
    bad = np.abs(out) > 2
    while bad.any():
        out[bad] = rng.normal(size=int(bad.sum()))
        bad = np.abs(out) > 2
    return (mean + stddev * out).astype(np.float32)


class TruncatedNormal(RandomNormal):
    def __call__(self, shape, dtype=None):
        return _truncated_normal(self._rng(), shape, self.mean, self.stddev)


class VarianceScaling(RandomInitializer):
    """Keras's VarianceScaling: variance `scale / fan` (fan_in, fan_out or
    their mean), as a truncated normal, untruncated normal or uniform."""

    def __init__(self, scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                 input_axes=None, output_axes=None):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        allowed_modes = {"fan_in", "fan_out", "fan_avg"}
        if mode not in allowed_modes:
            raise ValueError(f"Invalid `mode` argument: {mode}. Please use one of {allowed_modes}")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        allowed = {"uniform", "truncated_normal", "untruncated_normal"}
        if distribution not in allowed:
            raise ValueError(f"Invalid `distribution` argument: {distribution}.Please use one of "
                             f"{allowed}")
        self.scale, self.mode, self.distribution = scale, mode, distribution
        self.input_axes, self.output_axes = input_axes, output_axes
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}[self.mode]
        scale = self.scale / max(1.0, fan)
        rng = self._rng()
        if self.distribution == "truncated_normal":
            # 0.879...: the standard deviation of a unit normal truncated at 2.
            return _truncated_normal(rng, shape, 0.0, math.sqrt(scale) / 0.87962566103423978)
        if self.distribution == "untruncated_normal":
            return rng.normal(0.0, math.sqrt(scale), size=shape).astype(np.float32)
        limit = math.sqrt(3.0 * scale)
        return rng.uniform(-limit, limit, size=shape).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale, "mode": self.mode,
                "distribution": self.distribution, "input_axes": self.input_axes,
                "output_axes": self.output_axes}


def _scaling(name, scale, mode, distribution):
    class Scaled(VarianceScaling):
        def __init__(self, seed=None, input_axes=None, output_axes=None):
            super().__init__(scale, mode, distribution, seed, input_axes, output_axes)

        def get_config(self):
            return {"seed": self.seed, "input_axes": self.input_axes,
                    "output_axes": self.output_axes}

    Scaled.__name__ = Scaled.__qualname__ = name
    Scaled.__doc__ = (f"VarianceScaling(scale={scale}, mode={mode!r}, "
                      f"distribution={distribution!r}).")
    return Scaled


GlorotUniform = _scaling("GlorotUniform", 1.0, "fan_avg", "uniform")
GlorotNormal = _scaling("GlorotNormal", 1.0, "fan_avg", "truncated_normal")
HeUniform = _scaling("HeUniform", 2.0, "fan_in", "uniform")
HeNormal = _scaling("HeNormal", 2.0, "fan_in", "truncated_normal")
LecunUniform = _scaling("LecunUniform", 1.0, "fan_in", "uniform")
LecunNormal = _scaling("LecunNormal", 1.0, "fan_in", "truncated_normal")


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix over (prod(shape[:-1]), shape[-1]) times
    `gain`, from the QR decomposition of a normal matrix, as Keras."""

    def __init__(self, gain=1.0, seed=None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape, dtype=None):
        shape = tuple(shape)
        if len(shape) < 2:
            raise ValueError("The tensor to initialize must be at least two-dimensional. "
                             f"Received: shape={shape} of rank {len(shape)}.")
        rows, cols = int(np.prod(shape[:-1])), shape[-1]
        a = self._rng().normal(size=(max(rows, cols), min(rows, cols)))
        q, r = np.linalg.qr(a)
        q *= np.sign(np.diag(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).astype(np.float32)

    def get_config(self):
        return {**super().get_config(), "gain": self.gain}


class STFT(Initializer):
    """Keras's STFT kernel (frame_length, input_channels, fft_length): the
    real or imaginary part of the DFT, windowed (scipy.signal.get_window)."""

    def __init__(self, side="real", window="hann", scaling="density", periodic=False):
        if side not in ["real", "imag"]:
            raise ValueError(f"side should be 'real' or 'imag', not {side}")
        if isinstance(window, str):
            from scipy import signal

            signal.get_window(window, 1)
        if scaling is not None and scaling not in ["density", "spectrum"]:
            raise ValueError("Scaling is invalid, it must be `None`, 'density' or 'spectrum'. "
                             f"Received scaling={scaling}")
        self.side, self.window, self.scaling, self.periodic = side, window, scaling, periodic

    def __call__(self, shape, dtype=None):
        frame_length, _, fft_length = shape
        win, scaling = None, 1.0
        if self.window is not None:
            win = self.window
            if isinstance(win, str):
                from scipy import signal

                win = signal.get_window(win, frame_length, self.periodic)
            win = np.asarray(win, dtype=np.float32)
            if win.ndim != 1 or win.shape[-1] != frame_length:
                raise ValueError("The shape of `window` must be equal to [frame_length]."
                                 f"Received: window shape={win.shape}")
            win = win.reshape(frame_length, 1, 1)
            if self.scaling == "density":
                scaling = np.sqrt(np.sum(np.square(win)))
            elif self.scaling == "spectrum":
                scaling = np.sum(np.abs(win))
        freq = np.arange(fft_length, dtype=np.float32).reshape(1, 1, fft_length) / \
            np.float32((fft_length - 1) * 2)
        time = np.arange(frame_length, dtype=np.float32).reshape(frame_length, 1, 1)
        args = (-2 * time) * freq * np.float32(np.pi)
        kernel = np.cos(args) if self.side == "real" else np.sin(args)
        if win is not None:
            kernel = kernel * win / scaling
        return kernel.astype(np.float32)

    def get_config(self):
        return {"side": self.side, "window": self.window, "periodic": self.periodic,
                "scaling": self.scaling}


def _snake(name):
    import re

    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


_CLASSES = (Initializer, Constant, Identity, Ones, STFT, Zeros, GlorotNormal, GlorotUniform,
            HeNormal, HeUniform, LecunNormal, LecunUniform, Orthogonal, RandomNormal, RandomUniform,
            TruncatedNormal, VarianceScaling)
# Keras's ALL_OBJECTS_DICT: class names, their snake case, and the aliases.
_BY_NAME = {cls.__name__: cls for cls in _CLASSES}
_BY_NAME.update({_snake(cls.__name__): cls for cls in _CLASSES})
_BY_NAME.update(IdentityInitializer=Identity, normal=RandomNormal, one=Ones,
                STFTInitializer=STFT, OrthogonalInitializer=Orthogonal, uniform=RandomUniform,
                zero=Zeros)
# keras.initializers.glorot_uniform etc. are the classes under snake names
globals().update({_snake(cls.__name__): cls for cls in _CLASSES})
IdentityInitializer, OrthogonalInitializer, STFTInitializer = Identity, Orthogonal, STFT


def _array_initializer(array):
    def initialize(shape, dtype=None):
        if tuple(shape) != array.shape:
            raise ValueError(f"Expected `shape` to be {array.shape} for direct tensor as "
                             f"initializer. Received shape={tuple(shape)}")
        return array.astype(np.float32)

    return initialize


def get(identifier):
    """An initializer from a name ('he_normal', 'HeNormal'), a Keras config
    dict, an initializer object or class, a NumPy array, a callable, or
    None (None: the layer's weight then uses glorot_uniform, as Keras's
    add_weight does). A real Keras initializer object is converted from
    its config."""
    if identifier is None:
        return None
    if isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Initializer):
        return identifier()
    if isinstance(identifier, str):
        cls = _BY_NAME.get(identifier)
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}; known: "
                             f"{', '.join(sorted(_BY_NAME))}")
        return cls()
    if isinstance(identifier, dict):
        cls = _BY_NAME.get(str(identifier.get("class_name")))
        if cls is None:
            raise ValueError(f"Could not interpret initializer identifier: {identifier}")
        return cls.from_config(dict(identifier.get("config") or {}))
    if isinstance(identifier, (np.ndarray, np.generic)):
        return _array_initializer(np.asarray(identifier))
    keras_class = type(identifier).__name__
    if type(identifier).__module__.startswith(("keras", "tf_keras", "tensorflow")) and \
            keras_class in _BY_NAME and hasattr(identifier, "get_config"):
        return _BY_NAME[keras_class].from_config(_plain_config(identifier))
    if callable(identifier):
        return identifier
    raise ValueError(f"Could not interpret initializer identifier: {identifier!r}")


def _plain_config(obj):
    """A Keras initializer's config, with its serialized seed as a value and
    the arguments its get_config leaves out (Identity's gain) from the object."""
    import inspect

    out = dict(obj.get_config())
    if isinstance(out.get("seed"), dict):
        out["seed"] = (out["seed"].get("config") or {}).get("seed")
    for name in inspect.signature(_BY_NAME[type(obj).__name__].__init__).parameters:
        if name not in out and name != "self" and hasattr(obj, name):
            out[name] = getattr(obj, name)
    return out


def serialize(initializer):
    """Keras 3's serialized form (None for None; a function by its name)."""
    if initializer is None:
        return None
    if isinstance(initializer, Initializer):
        return {"module": "keras.initializers", "class_name": type(initializer).__name__,
                "config": initializer.get_config(), "registered_name": None}
    name = getattr(initializer, "__name__", type(initializer).__name__)
    return {"module": getattr(initializer, "__module__", None), "class_name": "function",
            "config": name, "registered_name": name}


def deserialize(config, custom_objects=None):
    if isinstance(config, dict) and config.get("class_name") == "function" and custom_objects:
        return custom_objects[config["config"]]
    return get(config)

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "initializers")
