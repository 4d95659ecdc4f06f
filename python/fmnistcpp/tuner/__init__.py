"""`fmnistcpp.tuner`: keras-tuner's API for fmnistcpp models.

    import fmnistcpp as keras
    from fmnistcpp import tuner as kt      # in place of `import keras_tuner as kt`

    def model_builder(hp):
        model = keras.Sequential([
            keras.layers.Flatten(input_shape=(28, 28)),
            keras.layers.Dense(hp.Int("units", min_value=32, max_value=512, step=32),
                               activation="relu"),
            keras.layers.Dense(10, activation="softmax"),
        ])
        model.compile(optimizer=keras.optimizers.Adam(
                          learning_rate=hp.Choice("learning_rate", values=[1e-2, 1e-3, 1e-4])),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        return model

    tuner = kt.Hyperband(model_builder, objective="val_accuracy", max_epochs=10, factor=3,
                         directory="tuner_dir", project_name="intro_to_kt")
    tuner.search(x_train, y_train, epochs=50, validation_split=0.2,
                 callbacks=[keras.callbacks.EarlyStopping(monitor="val_loss", patience=5)])
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]

Every trial's training runs in fmnistcpp's C++ engine (`Model.fit`); the
search loop, the schedule and the bookkeeping are Python, following
keras-tuner's source (see `hyperband.py`, `oracle.py`, `tuner.py`). With
`executor="ray"` the trials run as Ray tasks, several at once, on this
machine or a cluster (`ray_executor.py`, docs/RAY.md).
Not supported: conditional hyperparameters, BayesianOptimization/GridSearch,
multiple objectives, keras-tuner's own chief/worker distribution.
"""

from .hyperband import Hyperband, HyperbandOracle
from .hyperparameter import Boolean, Choice, Fixed, Float, HyperParameter, Int
from .hypermodel import HyperModel
from .hyperparameters import HyperParameters
from .objective import Objective
from .oracle import Oracle
from .random_search import RandomSearch, RandomSearchOracle
from .trial import Trial, TrialStatus
from .tuner import Tuner

__all__ = [
    "Boolean", "Choice", "Fixed", "Float", "HyperModel", "HyperParameter", "HyperParameters",
    "Hyperband", "HyperbandOracle", "Int", "Objective", "Oracle", "RandomSearch",
    "RandomSearchOracle", "Tuner", "Trial", "TrialStatus",
]
