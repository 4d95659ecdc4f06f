"""Activation names, as Keras spells them. The functions run in C++; here
we only check and canonicalise the identifier."""

from __future__ import annotations

KNOWN = ("linear", "relu", "sigmoid", "tanh", "softmax")


def get(identifier) -> str:
    """Returns the canonical name of an activation given as a string, None,
    or a Keras-style activation function such as `keras.activations.relu`."""
    if identifier is None:
        return "linear"
    if callable(identifier):
        identifier = getattr(identifier, "__name__", None)
    if isinstance(identifier, str) and identifier in KNOWN:
        return identifier
    raise ValueError(
        f"Unknown activation {identifier!r}. Known activations: {', '.join(KNOWN)}."
    )


def serialize(name: str) -> str:
    return name


def _marker(name):
    def fn(x):
        raise NotImplementedError(
            f"fmnistcpp.activations.{name} names an activation for a layer; "
            "it is computed by the C++ engine and cannot be called on tensors."
        )

    fn.__name__ = name
    return fn


linear = _marker("linear")
relu = _marker("relu")
sigmoid = _marker("sigmoid")
tanh = _marker("tanh")
softmax = _marker("softmax")
