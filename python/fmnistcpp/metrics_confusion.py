"""Keras's confusion-matrix metrics: Precision, Recall, AUC, FBetaScore,
F1Score (keras/src/metrics/confusion_metrics.py, f_score_metrics.py),
counted in C++ (cpp/confusion_metrics.cpp)."""

from __future__ import annotations

from .metrics import Metric


def _as_list(thresholds):
    if thresholds is None:
        return None
    return list(thresholds) if isinstance(thresholds, (list, tuple)) else [thresholds]


class _PrecisionRecall(Metric):
    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        super().__init__(name=name, dtype=dtype)

    def _arguments(self):
        return {"thresholds": _as_list(self.init_thresholds), "top_k": self.top_k,
                "class_id": self.class_id}

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, "thresholds": self.init_thresholds,
                "top_k": self.top_k, "class_id": self.class_id}

    def _result_shape(self, output_shape):
        n = len(_as_list(self.init_thresholds) or [None])
        return (n,) if n > 1 else ()  # one threshold, even in a list, gives one number


class Precision(_PrecisionRecall):
    """tp / (tp + fp) with predictions > thresholds (0.5 by default), over
    every entry, the top_k of each row, or the class class_id."""

    _kind = "precision"


class Recall(_PrecisionRecall):
    """tp / (tp + fn) with predictions > thresholds (0.5 by default)."""

    _kind = "recall"


class AUC(Metric):
    """Area under the ROC (or PR, PRGAIN) curve from counts at
    num_thresholds thresholds, summed as Keras does."""

    _kind = "auc"

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self._init_thresholds = None if thresholds is None else sorted(_as_list(thresholds))
        self.num_thresholds = (len(self._init_thresholds) + 2 if thresholds is not None
                               else num_thresholds)
        self.curve = str(getattr(curve, "value", curve))
        self.summation_method = str(getattr(summation_method, "value", summation_method))
        self.multi_label = multi_label
        self.num_labels = num_labels
        self.label_weights = None if label_weights is None else [float(w) for w in label_weights]
        self.from_logits = from_logits
        super().__init__(name=name, dtype=dtype)
        # Keras reports the curve in capitals and the method in lower case.
        self.curve = self.curve.upper()
        self.summation_method = self.summation_method.lower()

    def _arguments(self):
        args = {"num_thresholds": self.num_thresholds, "curve": self.curve,
                "summation_method": self.summation_method, "multi_label": self.multi_label,
                "num_labels": self.num_labels, "label_weights": self.label_weights,
                "from_logits": self.from_logits}
        if self._init_thresholds is not None:
            args["thresholds"] = self._init_thresholds
        return args

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, **self._arguments()}
        if self._init_thresholds is None:
            config.pop("thresholds", None)
        return config


class FBetaScore(Metric):
    """The F-beta score per class (average=None) or averaged ('micro',
    'macro', 'weighted'); predictions > threshold, or each row's maximum."""

    _kind = "fbeta_score"

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score", dtype=None):
        if average not in (None, "micro", "macro", "weighted"):
            raise ValueError("Invalid `average` argument value. Expected one of: {None, 'micro', "
                             f"'macro', 'weighted'}}. Received: average={average}")
        if not isinstance(beta, float):
            raise ValueError("Invalid `beta` argument value. It should be a Python float. "
                             f"Received: beta={beta} of type '{type(beta)}'")
        if threshold is not None and not isinstance(threshold, float):
            raise ValueError("Invalid `threshold` argument value. It should be a Python float. "
                             f"Received: threshold={threshold} of type '{type(threshold)}'")
        self.average, self.beta, self.threshold = average, beta, threshold
        super().__init__(name=name, dtype=dtype)

    def _arguments(self):
        return {"average": self.average, "beta": self.beta, "threshold": self.threshold}

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype, **self._arguments()}

    def _result_shape(self, output_shape):
        return (int(output_shape[-1]),) if self.average is None else ()


class F1Score(FBetaScore):
    """FBetaScore with beta=1."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name, dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
