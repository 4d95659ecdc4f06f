"""`fmnistcpp.config`, the essentials of keras.config. The engine computes
in float32 with channels-last images and Keras's epsilon 1e-7, so the
setters accept those values and refuse others with a clear error."""

from __future__ import annotations

_unsafe_deserialization = False


def floatx() -> str:
    return "float32"


def set_floatx(value):
    if value != "float32":
        raise NotImplementedError(f"set_floatx({value!r}) is not supported: the fmnistcpp engine "
                                  "computes in float32 only")


def epsilon() -> float:
    return 1e-7


def set_epsilon(value):
    if value != 1e-7:
        raise NotImplementedError(f"set_epsilon({value!r}) is not supported: fmnistcpp's losses "
                                  "and layers use Keras's default 1e-7")


def set_dtype_policy(policy):
    """keras.config.set_dtype_policy: "float32" or "mixed_bfloat16" (fmnistcpp.dtype_policies)."""
    from . import dtype_policies

    dtype_policies.set_dtype_policy(policy)


def dtype_policy():
    from . import dtype_policies

    return dtype_policies.dtype_policy()


def image_data_format() -> str:
    return "channels_last"


def set_image_data_format(data_format):
    if data_format != "channels_last":
        raise NotImplementedError(f"set_image_data_format({data_format!r}) is not supported: "
                                  "fmnistcpp's layers take channels_last images")


def backend() -> str:
    """The name of the backend: 'fmnistcpp' (its own C++ engine)."""
    return "fmnistcpp"


def enable_unsafe_deserialization():
    """As Keras's: allows loading Python code from model files. fmnistcpp's
    files never hold code (it has no Lambda layer), so this only records
    the choice."""
    global _unsafe_deserialization
    _unsafe_deserialization = True


__all__ = ["backend", "dtype_policy", "enable_unsafe_deserialization", "epsilon", "floatx",
           "image_data_format", "set_dtype_policy", "set_epsilon", "set_floatx",
           "set_image_data_format"]

# A name Keras 3 has and fmnistcpp lacks gets an error saying so.
from . import _missing  # noqa: E402

__getattr__ = _missing.module_getattr(__name__, "config")
