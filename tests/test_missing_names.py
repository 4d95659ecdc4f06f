"""A name Keras 3 has and fmnistcpp does not is a clear error naming it
(fmnistcpp/_missing.py), still an AttributeError for hasattr/getattr."""

import importlib

import numpy as np

import pytest

import keras

import fmnistcpp
from fmnistcpp import _missing
from fmnistcpp._keras_names import NAMES


def ours(path):
    return importlib.import_module("fmnistcpp" + ("." + path if path else "")) \
        if path != "optimizers.schedules" else fmnistcpp.optimizers.schedules


def test_the_name_lists_are_keras_pinned_ones():
    # Regenerate with scripts/keras_names.py when the pinned Keras changes.
    for path, names in NAMES.items():
        module = importlib.import_module("keras" + ("." + path if path else ""))
        assert sorted(names) == sorted(n for n in dir(module)
                                       if not n.startswith("_") and n != "src"), path


@pytest.mark.parametrize("path, name, hint", [
    ("layers", "Embedding", None),
    ("layers", "Lambda", "cannot run Python functions"),
    ("datasets", "mnist", "Fashion-MNIST only"),
    ("", "ops", "NumPy"),
    ("", "applications", "downloaded weights"),
    ("metrics", "IoU", None),
    ("utils", "split_dataset", None),
])
def test_keras_names_fmnistcpp_lacks_say_so(path, name, hint):
    module = ours(path)
    assert not hasattr(module, name)
    assert getattr(module, name, "default") == "default"
    with pytest.raises(NotImplementedError) as info:
        getattr(module, name)
    keras_name = "keras" + ("." + path if path else "") + "." + name
    assert keras_name in str(info.value) and "not of fmnistcpp" in str(info.value)
    assert isinstance(info.value, AttributeError)
    if hint:
        assert hint in str(info.value)


def test_names_keras_lacks_are_plain_attribute_errors():
    with pytest.raises(AttributeError) as info:
        fmnistcpp.layers.Densse
    assert not isinstance(info.value, _missing.NotInFmnistcpp)
    assert "Densse" in str(info.value)


def test_what_fmnistcpp_has_is_the_real_thing():
    # Names of both resolve to fmnistcpp's own objects, never the error.
    for path, names in NAMES.items():
        try:
            module = ours(path)
        except ImportError:  # a whole Keras module fmnistcpp lacks: refused by name
            with pytest.raises(_missing.NotInFmnistcpp):
                getattr(fmnistcpp, path)
            continue
        present = [n for n in names if n in vars(module)]
        for n in present:
            assert getattr(module, n) is vars(module)[n]
    assert fmnistcpp.layers.Dense.__module__.startswith("fmnistcpp")
    # At least the layers real Fashion-MNIST code uses are there.
    assert {"Dense", "Conv2D", "Flatten", "Dropout", "MaxPooling2D"} <= set(vars(fmnistcpp.layers))


def test_top_level_base_classes_and_backend_settings_are_keras_names():
    assert fmnistcpp.Layer is fmnistcpp.layers.Layer
    assert fmnistcpp.Loss is fmnistcpp.losses.Loss and fmnistcpp.Metric is fmnistcpp.metrics.Metric
    assert fmnistcpp.Optimizer is fmnistcpp.optimizers.Optimizer
    assert isinstance(fmnistcpp.optimizers.Adam(), fmnistcpp.Optimizer)
    assert fmnistcpp.backend.epsilon() == keras.backend.epsilon()
    assert fmnistcpp.backend.is_keras_tensor(fmnistcpp.Input((3,)))
    assert not fmnistcpp.backend.is_keras_tensor(np.zeros(3))
    with pytest.raises(NotImplementedError, match="channels_last"):
        fmnistcpp.backend.set_image_data_format("channels_first")
    from importlib import metadata
    assert fmnistcpp.version() == fmnistcpp.__version__ == metadata.version("fmnistcpp")
