"""`fmnistcpp.dtype_policies`: Keras 3's dtype policies
(keras/src/dtype_policies/dtype_policy.py), with the global policy that
`keras.config.set_dtype_policy` and `keras.mixed_precision.set_global_policy`
set.

A policy names a layer's compute dtype and variable dtype. The engine runs
two of Keras's policies:

- "float32": everything in float32 (the default);
- "mixed_bfloat16": convolutions and Dense compute in bfloat16 on oneDNN's
  bf16 kernels (AMX or AVX512-BF16), variables, optimizer state, the loss
  and the activations between layers stay float32 (cpp/precision.hpp). On
  a CPU with neither, the layers compute in float32 with a warning, as
  emulated bfloat16 would be slower there.

Policy objects for any of Keras's names can be made and compared (they are
descriptions); a layer or the global setting refuses the others with a
NotImplementedError that names the alternative. float16 ("mixed_float16",
"float16") in particular: oneDNN 3.2 has f16 training kernels only for
AVX512-FP16 CPUs, float16 needs loss scaling to train, and on every CPU
that has AVX512-FP16 bfloat16 runs as fast without it; so fmnistcpp offers
"mixed_bfloat16" instead (see the surface table in docs/RESULTS.md)."""

from __future__ import annotations

import warnings

import numpy as np

# keras.src.backend.common.dtypes.ALLOWED_DTYPES, the names standardize_dtype keeps
_DTYPE_NAMES = ("float16", "float32", "float64", "uint8", "uint16", "uint32", "uint64", "int8",
                "int16", "int32", "int64", "bfloat16", "bool", "string", "float8_e4m3fn",
                "float8_e5m2", "complex64", "complex128")
_ALIASES = {"float": "float32", "int": "int64", "double": "float64", "half": "float16"}
SUPPORTED = ("float32", "mixed_bfloat16")


def _standardize(name: str) -> str:
    name = _ALIASES.get(name, name)
    if name not in _DTYPE_NAMES:
        raise ValueError(f"Invalid dtype: {name}")
    return name


class DTypePolicy:
    """A layer's compute and variable dtypes, as Keras's `DTypePolicy`.

    Args:
        name: "float32", "mixed_bfloat16", "mixed_float16" or a dtype name;
            None takes the global policy's name.
    """

    def __init__(self, name=None):
        if name is None:
            name = dtype_policy().name
        self._name = name
        self._compute_dtype, self._variable_dtype = self._parse_name(name)
        self._quantization_mode = None

    def _parse_name(self, name):
        if not isinstance(name, str):
            raise TypeError("'name' must be a string, such as 'mixed_float16'. "
                            f"Received: name={name} (of type {type(name)})")
        if name == "mixed_float16":
            return "float16", "float32"
        if name == "mixed_bfloat16":
            return "bfloat16", "float32"
        try:
            dtype = _standardize(name)
        except ValueError:
            raise ValueError(
                f"Cannot convert '{name}' to a mixed precision DTypePolicy. Valid policies "
                "include 'mixed_float16', 'mixed_bfloat16', and the name of any float dtype "
                "such as 'float32'.") from None
        return dtype, dtype

    @property
    def name(self) -> str:
        return self._name

    @property
    def compute_dtype(self) -> str:
        return self._compute_dtype

    @property
    def variable_dtype(self) -> str:
        return self._variable_dtype

    @property
    def quantization_mode(self):
        return self._quantization_mode

    def get_config(self) -> dict:
        return {"name": self._name}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f'<DTypePolicy "{self._name}">'

    def __eq__(self, other):
        if type(other) not in (DTypePolicy, FloatDTypePolicy):
            return False
        return self._name == other._name

    def __hash__(self):
        return hash(self._name)


class FloatDTypePolicy(DTypePolicy):
    """Keras's alias of DTypePolicy."""


_global_policy: DTypePolicy | None = None


def set_dtype_policy(policy) -> None:
    """Sets the policy of the layers made from now on (keras.config.set_dtype_policy,
    keras.mixed_precision.set_global_policy)."""
    global _global_policy
    if not isinstance(policy, DTypePolicy):
        if not isinstance(policy, str):
            raise ValueError("Invalid `policy` argument. Expected the string name of a policy "
                             "(such as 'mixed_float16') or a `DTypePolicy` instance. Received: "
                             f"policy={policy} (of type {type(policy)})")
        policy = DTypePolicy(policy)
    check_supported(policy, "set_dtype_policy")
    _global_policy = policy


def dtype_policy() -> DTypePolicy:
    """The global policy (keras.config.dtype_policy, keras.mixed_precision.global_policy)."""
    global _global_policy
    if _global_policy is None:
        _global_policy = DTypePolicy("float32")
    return _global_policy


def serialize(policy) -> dict:
    """Keras's serialized form, as layers' configs and saved files hold it."""
    return {"module": "keras", "class_name": "DTypePolicy",
            "config": policy.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None) -> DTypePolicy:
    if not isinstance(config, dict) or "config" not in config:
        raise ValueError(f"Could not interpret dtype policy config: {config!r:.120}")
    cls = config.get("class_name")
    if cls not in ("DTypePolicy", "FloatDTypePolicy", "Policy"):
        raise ValueError(f"dtype policy class {cls!r} is not supported by fmnistcpp (its "
                         "engine has no quantized layers); expected DTypePolicy")
    inner = config.get("config")
    if not isinstance(inner, dict) or set(inner) - {"name"}:
        raise ValueError(f"Could not interpret dtype policy config: {config!r:.120}")
    return (FloatDTypePolicy if cls == "FloatDTypePolicy" else DTypePolicy)(**inner)


def get(identifier) -> DTypePolicy:
    """A policy from None (the global one), a name, a serialized dict, a
    policy, or a NumPy dtype."""
    if identifier is None:
        return dtype_policy()
    if isinstance(identifier, DTypePolicy):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return DTypePolicy(identifier)
    try:
        return DTypePolicy(_standardize(np.dtype(identifier).name))
    except (TypeError, ValueError):
        raise ValueError("Cannot interpret `dtype` argument. Expected a string or an instance "
                         f"of DTypePolicy. Received: dtype={identifier}") from None


def check_supported(policy: DTypePolicy, where: str) -> None:
    """NotImplementedError for a policy the engine cannot run, saying what to use."""
    if policy.name in SUPPORTED:
        return
    if policy.compute_dtype == "float16":
        raise NotImplementedError(
            f"{where}: dtype policy {policy.name!r} (float16 compute) is not supported on CPU "
            "by fmnistcpp; use 'mixed_bfloat16', which computes convolutions and Dense in "
            "bfloat16 on CPUs with AMX or AVX512-BF16 and needs no loss scaling")
    if policy.name == "bfloat16":
        raise NotImplementedError(
            f"{where}: dtype policy 'bfloat16' (bfloat16 variables) is not supported; use "
            "'mixed_bfloat16' (bfloat16 compute, float32 variables)")
    raise NotImplementedError(
        f"{where}: dtype policy {policy.name!r} is not supported: fmnistcpp's engine computes in "
        "float32, or in bfloat16 under 'mixed_bfloat16'")


_warned = False


def engine_bfloat16(policy: DTypePolicy) -> bool:
    """Whether a layer under `policy` asks the engine for bf16 kernels; warns
    once when the policy wants bfloat16 and the CPU has no bf16 kernels."""
    global _warned
    if policy.compute_dtype != "bfloat16":
        return False
    from . import _core

    if _core.bf16_supported():
        return True
    if not _warned:
        _warned = True
        warnings.warn(
            f"mixed_bfloat16: this CPU (oneDNN ISA {_core.cpu_isa()}) has neither AMX nor "
            "AVX512-BF16, so fmnistcpp computes in float32, which is faster here than "
            "emulated bfloat16", RuntimeWarning, stacklevel=4)
    return False


__all__ = ["DTypePolicy", "FloatDTypePolicy", "deserialize", "dtype_policy", "get", "serialize",
           "set_dtype_policy"]
