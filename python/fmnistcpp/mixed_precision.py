"""`fmnistcpp.mixed_precision`, Keras 3's `keras.mixed_precision` names:

    keras.mixed_precision.set_global_policy("mixed_bfloat16")

makes the layers created afterwards compute convolutions and Dense in
bfloat16 with float32 variables (fmnistcpp.dtype_policies explains what
runs in which precision, and why float16 is not offered)."""

from __future__ import annotations

from .dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy


class LossScaleOptimizer:
    """Keras's loss scaling exists for float16, whose 5-bit exponent
    underflows small gradients. bfloat16 has float32's exponent range and
    needs none, and fmnistcpp has no float16 policy."""

    def __init__(self, *args, **kwargs):
        raise NotImplementedError(
            "LossScaleOptimizer is not supported: fmnistcpp's mixed precision is "
            "'mixed_bfloat16', which needs no loss scaling (bfloat16 has float32's exponent "
            "range); pass the inner optimizer to compile() directly")


__all__ = ["DTypePolicy", "LossScaleOptimizer", "Policy", "dtype_policy", "global_policy",
           "set_dtype_policy", "set_global_policy"]
