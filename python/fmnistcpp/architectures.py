"""The seed projects' models, by name: the single source of truth.

Each of the five seed projects (``shared/seeds/``) trains one small model on
Fashion-MNIST. This module rebuilds each one with fmnistcpp's Keras-shaped API
and records the seed's training settings next to it, so the command line
(``python -m fmnistcpp train --model NAME``), the benchmarks and the notebooks
all train exactly the same thing.

==============  ==========================================  =========  ======  =====  ======
name            layers                                      optimizer  labels  batch  epochs
==============  ==========================================  =========  ======  =====  ======
seed000-cnn     Conv 8/24/48 3x3, Dense 100, Dense 10       Adam       onehot  100    5
seed001-cnn     Conv 32/64 3x3, MaxPool 2, Dropout .25,     Adam 1e-3  sparse  64     20
                Dense 400, Dropout .5, Dense 10
seed002-mlp     Flatten, Dense 128, Dense 10                adam       sparse  32     10
seed003-mlp     Flatten, Dense 32, Dense 10                 adam       sparse  32     10
seed004-mlp     Flatten, Dense 256/128/32, Dense 10         SGD 0.02   sparse  32     30
==============  ==========================================  =========  ======  =====  ======

Usage::

    import fmnistcpp as keras
    from fmnistcpp import architectures

    model, cfg = architectures.seed002_mlp()         # or architectures.build("seed002-mlp")
    architectures.compile_model(model, cfg)          # optimizer, loss, metrics from cfg
    (x, y), (xt, yt) = keras.datasets.fashion_mnist.load_data()
    x, y = architectures.prepare(x, y, cfg)          # /255, reshape, one-hot as the seed does
    model.fit(x, y, batch_size=cfg["batch_size"], epochs=cfg["epochs"],
              validation_split=cfg["validation_split"])

Every builder returns a new, uncompiled ``Sequential`` and a fresh dict of
defaults with these keys:

``name``, ``description`` (one line, citing the seed), ``seed`` (seed file id),
``input_shape`` (``(28, 28, 1)`` for CNNs, ``(28, 28)`` for MLPs), ``labels``
(``'onehot'``: ``to_categorical`` labels with ``categorical_crossentropy``;
``'sparse'``: integer labels with ``sparse_categorical_crossentropy``),
``num_classes``, ``optimizer`` (``'adam'`` or ``'sgd'``), ``learning_rate``,
``loss``, ``metrics``, ``batch_size``, ``epochs``, ``validation_split`` and
``notes`` (which values the seed states and which are assumed).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, List, Tuple

import numpy as np

__all__ = [
    "Architecture",
    "ARCHITECTURES",
    "names",
    "get",
    "build",
    "defaults",
    "make_optimizer",
    "compile_model",
    "prepare",
    "prepare_images",
    "encode_labels",
    "layer_specs",
    "build_in",
    "seed000_cnn",
    "seed001_cnn",
    "seed002_mlp",
    "seed003_mlp",
    "seed004_mlp",
]

NUM_CLASSES = 10
OPTIMIZERS = ("adam", "sgd")
#: Keras's default learning rates, used when an optimizer is asked for by name only.
DEFAULT_LEARNING_RATES = {"adam": 0.001, "sgd": 0.01}


_SPECS: Dict[str, dict] = {}


def _spec(**kw) -> None:
    d = {
        "num_classes": NUM_CLASSES,
        "metrics": ["accuracy"],
        "validation_split": 0.2,
        "notes": "",
    }
    d.update(kw)
    d["loss"] = (
        "categorical_crossentropy"
        if d["labels"] == "onehot"
        else "sparse_categorical_crossentropy"
    )
    _SPECS[d["name"]] = d


_spec(
    name="seed000-cnn",
    layers=[
        ("Conv2D", dict(filters=8, kernel_size=(3, 3), activation="relu")),
        ("Conv2D", dict(filters=24, kernel_size=(3, 3), activation="relu")),
        ("Conv2D", dict(filters=48, kernel_size=(3, 3), activation="relu")),
        ("Flatten", {}),
        ("Dense", dict(units=100, activation="relu")),
        ("Dense", dict(units=10, activation="softmax")),
    ],
    seed="000",
    description=(
        "Seed 000: CNN Conv2D 8/24/48 3x3 relu -> Dense 100 relu -> Dense 10 "
        "softmax; Adam, one-hot categorical CE, batch 100, val 0.2, 5 epochs"
    ),
    input_shape=(28, 28, 1),
    labels="onehot",
    optimizer="adam",
    learning_rate=0.001,
    batch_size=100,
    epochs=5,
    validation_split=0.2,
    notes=(
        "All values from the seed; it trained 20 epochs but reports no "
        "improvement after epoch 5 (val_acc 0.9167), so 5 is the default."
    ),
)

_spec(
    name="seed001-cnn",
    layers=[
        ("Conv2D", dict(filters=32, kernel_size=(3, 3), activation="relu")),
        ("Conv2D", dict(filters=64, kernel_size=(3, 3), activation="relu")),
        ("MaxPooling2D", dict(pool_size=(2, 2))),
        ("Dropout", dict(rate=0.25)),
        ("Flatten", {}),
        ("Dense", dict(units=400, activation="relu")),
        ("Dropout", dict(rate=0.5)),
        ("Dense", dict(units=10, activation="softmax")),
    ],
    seed="001",
    description=(
        "Seed 001: CNN Conv2D 32/64 3x3 -> MaxPool 2 -> Dropout .25 -> Dense 400 "
        "-> Dropout .5 -> Dense 10; Adam lr 0.001, sparse CE, batch 64, 20 epochs"
    ),
    input_shape=(28, 28, 1),
    labels="sparse",
    optimizer="adam",
    learning_rate=0.001,
    batch_size=64,
    epochs=20,
    validation_split=0.2,
    notes=(
        "Layers, lr 0.001, batch 64 and 20 epochs from the seed; the seed "
        "validates on the test set, here the last 20% of the training set is "
        "held out instead (assumed)."
    ),
)

_spec(
    name="seed002-mlp",
    layers=[
        ("Flatten", {}),
        ("Dense", dict(units=128, activation="relu")),
        ("Dense", dict(units=10, activation="softmax")),
    ],
    seed="002",
    description=(
        "Seed 002: MLP Flatten -> Dense 128 relu -> Dense 10 softmax; adam, "
        "sparse CE, batch 32 (seed reports 88.60% test accuracy)"
    ),
    input_shape=(28, 28),
    labels="sparse",
    optimizer="adam",
    learning_rate=0.001,
    batch_size=32,
    epochs=10,
    validation_split=0.2,
    notes=(
        "Layers, 'adam' and sparse CE from the seed; 10 epochs and "
        "validation_split 0.2 are assumed (the TensorFlow tutorial it follows); "
        "its tuned variant (416 units, 35 epochs, early stopping) is not this one."
    ),
)

_spec(
    name="seed003-mlp",
    layers=[
        ("Flatten", {}),
        ("Dense", dict(units=32, activation="relu")),
        ("Dense", dict(units=10, activation="softmax")),
    ],
    seed="003",
    description=(
        "Seed 003: MLP Flatten -> Dense 32 relu -> Dense 10 softmax; adam, "
        "sparse CE, batch 32"
    ),
    input_shape=(28, 28),
    labels="sparse",
    optimizer="adam",
    learning_rate=0.001,
    batch_size=32,
    epochs=10,
    validation_split=0.2,
    notes=(
        "Layers and sparse CE from the seed (which reads the Kaggle CSV form); "
        "optimizer 'adam', 10 epochs and validation_split 0.2 are assumed."
    ),
)

_spec(
    name="seed004-mlp",
    layers=[
        ("Flatten", {}),
        ("Dense", dict(units=256, activation="relu")),
        ("Dense", dict(units=128, activation="relu")),
        ("Dense", dict(units=32, activation="relu")),
        ("Dense", dict(units=10, activation="softmax")),
    ],
    seed="004",
    description=(
        "Seed 004: MLP Flatten -> Dense 256/128/32 relu -> Dense 10 softmax; "
        "SGD lr 0.02, sparse CE, batch 32, 30 epochs (seed: 88.71% test)"
    ),
    input_shape=(28, 28),
    labels="sparse",
    optimizer="sgd",
    learning_rate=0.02,
    batch_size=32,
    epochs=30,
    validation_split=0.2,
    notes=(
        "Layers, SGD lr 0.02 and 30 epochs from the seed; batch 32 (Keras's "
        "default) and validation_split 0.2 are assumed."
    ),
)


def defaults(name: str) -> dict:
    """A fresh copy of the training defaults of the model called ``name``."""
    d = dict(_SPECS[get(name).name])
    d["metrics"] = list(d["metrics"])
    d.pop("layers")
    return d


# ---------------------------------------------------------------------------
# the five seed models, built from the table above


def layer_specs(name: str) -> list:
    """The model's layers as (Keras class name, arguments), after its Input."""
    return [(cls, dict(kwargs)) for cls, kwargs in _SPECS[get(name).name]["layers"]]


def build_in(module, name: str):
    """The model called ``name`` built with ``module`` (fmnistcpp, or real
    Keras for comparisons): ``module.Sequential([Input, *layers])``."""
    spec = _SPECS[get(name).name]
    layers = [module.layers.Input(shape=tuple(spec["input_shape"]))]
    layers += [getattr(module.layers, cls)(**kwargs) for cls, kwargs in layer_specs(name)]
    return module.Sequential(layers)


def _builder(name: str, doc: str):
    def build_seed():
        import fmnistcpp  # late: this module is imported by the package itself

        return build_in(fmnistcpp, name), defaults(name)

    build_seed.__name__ = name.replace("-", "_")
    build_seed.__doc__ = doc
    return build_seed


seed000_cnn = _builder("seed000-cnn", "Seed 000's CNN: Conv2D 8/24/48 (3x3, relu), Dense 100 "
                       "relu, Dense 10 softmax; Adam, one-hot CE, batch 100, 5 epochs.")
seed001_cnn = _builder("seed001-cnn", "Seed 001's CNN: Conv2D 32, Conv2D 64, MaxPool 2, Dropout "
                       "0.25, Dense 400, Dropout 0.5; Adam 1e-3, sparse CE, batch 64, 20 epochs.")
seed002_mlp = _builder("seed002-mlp", "Seed 002's MLP: Flatten (28, 28), Dense 128 relu, Dense 10 "
                       "softmax; 'adam', sparse CE, batch 32.")
seed003_mlp = _builder("seed003-mlp", "Seed 003's model: Flatten (28, 28), Dense 32 relu, Dense "
                       "10 softmax; 'adam', sparse CE, batch 32.")
seed004_mlp = _builder("seed004-mlp", "Seed 004's MLP: Flatten, Dense 256/128/32 relu, Dense 10 "
                       "softmax; SGD lr 0.02, sparse CE, batch 32, 30 epochs.")


# ---------------------------------------------------------------------------
# registry


@dataclasses.dataclass(frozen=True)
class Architecture:
    """One registered seed model: its builder and its static facts."""

    name: str
    builder: Callable[[], Tuple[object, dict]]
    input_shape: Tuple[int, ...]
    labels: str
    description: str

    def build(self):
        """Returns ``(uncompiled Sequential, defaults dict)``."""
        return self.builder()

    @property
    def defaults(self) -> dict:
        """The training defaults, without building the model (a fresh dict)."""
        return defaults(self.name)


_BUILDERS = {
    "seed000-cnn": seed000_cnn,
    "seed001-cnn": seed001_cnn,
    "seed002-mlp": seed002_mlp,
    "seed003-mlp": seed003_mlp,
    "seed004-mlp": seed004_mlp,
}

#: name -> Architecture, in seed order.
ARCHITECTURES: Dict[str, Architecture] = {
    name: Architecture(
        name=name,
        builder=fn,
        input_shape=tuple(_SPECS[name]["input_shape"]),
        labels=_SPECS[name]["labels"],
        description=_SPECS[name]["description"],
    )
    for name, fn in _BUILDERS.items()
}


def names() -> List[str]:
    """The registered model names, in seed order."""
    return list(ARCHITECTURES)


def get(name: str) -> Architecture:
    """The `Architecture` called ``name``.

    A unique prefix (``'seed002'``) or the seed number (``'2'``, ``'002'``) also
    works. Raises ``KeyError`` naming the known models otherwise.
    """
    if not isinstance(name, str):
        raise TypeError(
            f"architecture name must be a string, got {type(name).__name__}; "
            f"known models: {', '.join(ARCHITECTURES)}"
        )
    key = name.strip().lower()
    if key in ARCHITECTURES:
        return ARCHITECTURES[key]
    if key.isdigit():
        key = f"seed{int(key):03d}"
    matches = [n for n in ARCHITECTURES if n.startswith(key)] if key else []
    if len(matches) == 1:
        return ARCHITECTURES[matches[0]]
    raise KeyError(
        f"unknown model {name!r}; known models: {', '.join(ARCHITECTURES)}"
    )


def build(name: str):
    """Builds the model called ``name``: ``(uncompiled Sequential, defaults dict)``."""
    return get(name).build()


def make_optimizer(name: str = "adam", learning_rate=None):
    """An optimizer object: ``'adam'`` -> ``Adam``, ``'sgd'`` -> ``SGD``.

    ``learning_rate=None`` takes Keras's default for that optimizer (Adam
    0.001, SGD 0.01).
    """
    from . import optimizers

    key = str(name).lower()
    if key not in OPTIMIZERS:
        raise ValueError(
            f"unknown optimizer {name!r}; expected one of {', '.join(OPTIMIZERS)}"
        )
    lr = DEFAULT_LEARNING_RATES[key] if learning_rate is None else float(learning_rate)
    if not np.isfinite(lr) or lr <= 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    return optimizers.Adam(learning_rate=lr) if key == "adam" else optimizers.SGD(learning_rate=lr)


def compile_model(model, defaults: dict, optimizer=None, learning_rate=None):
    """Compiles ``model`` with the optimizer, loss and metrics of ``defaults``.

    ``optimizer`` / ``learning_rate`` override the defaults. If only the
    optimizer is changed, its Keras default learning rate is used. Returns
    the model.
    """
    opt_name = (optimizer or defaults["optimizer"]).lower()
    if learning_rate is None and opt_name == defaults["optimizer"]:
        learning_rate = defaults["learning_rate"]
    model.compile(
        optimizer=make_optimizer(opt_name, learning_rate),
        loss=defaults["loss"],
        metrics=list(defaults["metrics"]),
    )
    return model


def _cfg(arch_or_defaults):
    if isinstance(arch_or_defaults, str):
        return get(arch_or_defaults).defaults
    if isinstance(arch_or_defaults, Architecture):
        return arch_or_defaults.defaults
    return arch_or_defaults


def prepare_images(x, arch_or_defaults) -> np.ndarray:
    """Scales images to [0, 1] float32 and shapes them as the model's input.

    ``x``: uint8 images ``(N, 28, 28)``, ``(N, 28, 28, 1)`` or ``(N, 784)``.
    Returns float32 C-contiguous ``(N, *input_shape)``, as the seeds do
    (``x / 255.0``, then ``reshape(-1, 28, 28, 1)`` for the CNNs).
    """
    cfg = _cfg(arch_or_defaults)
    x = np.asarray(x)
    shape = tuple(cfg["input_shape"])
    if x.ndim < 2 or int(np.prod(x.shape[1:])) != int(np.prod(shape)):
        raise ValueError(
            f"images of shape {x.shape} cannot feed {cfg['name']}: expected "
            f"(N, 28, 28), (N, 28, 28, 1) or (N, 784)"
        )
    return np.ascontiguousarray((x.astype(np.float32) / 255.0).reshape((-1,) + shape))


def encode_labels(y, arch_or_defaults) -> np.ndarray:
    """Integer labels as the model's loss wants them: one-hot or unchanged."""
    cfg = _cfg(arch_or_defaults)
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if cfg["labels"] == "onehot":
        from . import utils

        return utils.to_categorical(y, cfg["num_classes"])
    return y


def prepare(x, y, arch_or_defaults):
    """``(prepare_images(x), encode_labels(y))``: the seed's preprocessing."""
    return prepare_images(x, arch_or_defaults), encode_labels(y, arch_or_defaults)
