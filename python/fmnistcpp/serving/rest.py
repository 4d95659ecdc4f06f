"""TensorFlow Serving's REST contract: paths, request bodies, answers and errors.

The shapes follow tensorflow/serving's ``g3doc/api_rest.md`` and its handler
tests: ``{"instances": [...]}`` (row format) answers ``{"predictions": ...}``,
``{"inputs": ...}`` (columnar) answers ``{"outputs": ...}``, an error is
``{"error": "<message>"}`` with a 4xx/5xx status, and status and metadata are
the JSON forms of ``GetModelStatusResponse`` and ``GetModelMetadataResponse``.
The single input and output are named as Keras 3's ``model.export()`` names
them for a model loaded from its file: the input after the model's
``InputLayer`` (``input_layer``), the output ``output_0``; so a client
written against that SavedModel in TF Serving sends the same requests here.

One difference on purpose: TF Serving accepts ``NaN`` and ``Infinity`` tokens
for float inputs; this server refuses them (400), because no image has them
and a model would only answer NaN.
"""

from __future__ import annotations

import json
import re
from typing import Any, Optional, Tuple

import numpy as np

__all__ = [
    "input_name",
    "OUTPUT_NAME",
    "SIGNATURE",
    "RestError",
    "match_path",
    "parse_json",
    "parse_predict",
    "status_doc",
    "metadata_doc",
]

OUTPUT_NAME = "output_0"
SIGNATURE = "serving_default"

# /v1/models/NAME[/versions/N|/labels/L][/metadata|:predict|:classify|:regress]
_PATH = re.compile(
    r"^/v1/models/(?P<name>[^/:]+)"
    r"(?:/versions/(?P<version>[^/:]+)|/labels/(?P<label>[^/:]+))?"
    r"(?P<tail>/metadata|:predict|:classify|:regress)?$"
)


class RestError(Exception):
    """An answer ``{"error": message}`` with HTTP ``status``."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def match_path(method: str, path: str) -> Tuple[str, Optional[int], Optional[str], str]:
    """``(name, version or None, label or None, verb)``; verb is ``status``,
    ``metadata``, ``predict``, ``classify`` or ``regress``. Raises RestError
    400 ("Malformed request") for anything else, as TF Serving does."""
    if path.rstrip("/") == "/v1/models":
        raise RestError(400, "Missing model name in request: expected /v1/models/NAME")
    m = _PATH.match(path)
    tail = m.group("tail") if m else None
    verb = {None: "status", "/metadata": "metadata"}.get(tail) if m else None
    if m and tail and tail.startswith(":"):
        verb = tail[1:]
    wanted = "GET" if verb in ("status", "metadata") else "POST"
    if m is None or method != wanted:
        raise RestError(
            400,
            f"Malformed request: {method} {path}; expected GET /v1/models/NAME[/metadata] or "
            f"POST /v1/models/NAME:predict (or :classify), optionally with /versions/N "
            f"after NAME",
        )
    version = m.group("version")
    if version is not None:
        if not version.isdigit() or int(version) >= 2**63:
            raise RestError(400, f"Failed to convert version: {version}; expected a number")
        version = int(version)
    return m.group("name"), version, m.group("label"), verb


def input_name(model) -> str:
    """The model's input name as Keras 3 exports it: its InputLayer's name."""
    try:
        for layer in model.get_config().get("layers", []):
            if layer.get("class_name") == "InputLayer":
                return str(layer["config"]["name"])
    except (AttributeError, KeyError, TypeError):
        pass
    return "input_layer"  # Keras 3's default InputLayer name


def parse_json(body: bytes) -> Any:
    """The request document; RestError 400 with what was wrong and where."""
    if not body.strip():
        raise RestError(400, "JSON Parse error: The document is empty")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as e:
        raise RestError(400, f"JSON Parse error: the body is not UTF-8 ({e.reason} at byte {e.start})")
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise RestError(
            400,
            f"JSON Parse error: {e.msg} at line {e.lineno} column {e.colno}; expected an "
            f'object such as {{"instances": [[[0.0, ...], ...]]}}',
        ) from None
    except RecursionError:
        raise RestError(400, "JSON Parse error: the document is nested too deeply") from None


def _type_name(v) -> str:
    return {dict: "object", list: "list", str: "string", bool: "boolean", type(None): "null"}.get(
        type(v), "number"
    )


def _named(value, where: str, name: str):
    """The tensor inside ``{name: tensor}``: the one named input."""
    if set(value) != {name}:
        raise RestError(
            400, f"{where}: the model has one input named {name!r}; got the names {sorted(value)}"
        )
    return value[name]


# true, false and null become 1.0, 0.0 and object arrays in NumPy: a body
# that has the words is searched for them (the plain number case stays fast)
_NOT_NUMBERS = re.compile(rb"\b(?:true|false|null)\b")


def _not_a_number(value, at=()):
    """(index, value) of the first boolean or null in nested lists, or None."""
    if isinstance(value, (bool, type(None))):
        return at, value
    if isinstance(value, list):
        for i, v in enumerate(value):
            found = _not_a_number(v, at + (i,))
            if found:
                return found
    return None


def parse_predict(doc, input_shape, name: str = "input_layer", body: bytes = b"") -> Tuple[np.ndarray, bool]:
    """A :predict request as float32 ``(N, *input_shape[1:])`` and whether it was columnar.

    ``name`` is the model's input name; ``body`` the raw request (to find
    booleans and nulls, which NumPy would silently convert)."""
    if not isinstance(doc, dict):
        raise RestError(
            400,
            f"expected a JSON object with an 'instances' (row format) or 'inputs' "
            f"(columnar format) key, got a JSON {_type_name(doc)}",
        )
    signature = doc.get("signature_name", SIGNATURE)
    if signature not in (SIGNATURE, ""):
        raise RestError(
            400,
            f'Serving signature name: "{signature}" not found in signature def; this model '
            f'has "{SIGNATURE}"',
        )
    rows, cols = "instances" in doc, "inputs" in doc
    if rows and cols:
        raise RestError(
            400, "Not both: a request has 'instances' (row format) or 'inputs' (columnar format)"
        )
    if not (rows or cols):
        raise RestError(
            400,
            "Missing 'instances' or 'inputs' key: expected {\"instances\": [image, ...]} or "
            "{\"inputs\": [image, ...]}",
        )
    if rows:
        where, value = "'instances'", doc["instances"]
        if not isinstance(value, list):
            raise RestError(
                400, f"'instances' must be a list with one entry per image, got a JSON "
                f"{_type_name(value)}",
            )
        objects = [isinstance(v, dict) for v in value]
        if any(objects):
            if not all(objects):
                raise RestError(400, "'instances' mixes named objects and plain tensors")
            value = [_named(v, f"'instances'[{i}]", name) for i, v in enumerate(value)]
    else:
        where, value = "'inputs'", doc["inputs"]
        if isinstance(value, dict):
            value = _named(value, "'inputs'", name)
    if _NOT_NUMBERS.search(body):
        try:
            found = _not_a_number(value)
        except RecursionError:
            raise RestError(400, f"{where} is nested too deeply") from None
        if found:
            at, v = found
            raise RestError(
                400, f"{where} holds {json.dumps(v)} at index {at}: not of expected type: "
                "float (DT_FLOAT); expected numbers",
            )
    return _tensor(value, where, input_shape), cols


def _tensor(value, where: str, input_shape) -> np.ndarray:
    shape = tuple(int(d) for d in input_shape[1:])
    try:
        a = np.array(value)
    except (ValueError, TypeError) as e:
        raise RestError(
            400,
            f"{where} is not a rectangular nested list of numbers ({e}); expected a batch of "
            f"shape (N, {', '.join(map(str, shape))})",
        ) from None
    if a.dtype.kind not in "iuf":
        what = {"U": "strings", "S": "strings"}.get(a.dtype.kind, "nulls or mixed values")
        raise RestError(
            400, f"{where} holds {what}: not of expected type: float (DT_FLOAT); expected numbers"
        )
    if a.ndim == 0:
        raise RestError(400, f"{where} is a single number; expected a batch of shape (N, {', '.join(map(str, shape))})")
    if a.shape[0] == 0:
        raise RestError(400, f"{where} is empty; expected at least one image")
    got = a.shape[1:]
    # a 28 x 28 model also takes (28, 28, 1) images and vice versa, as Keras
    # seeds feed both; anything else must match the model's input exactly
    if got != shape and not (got + (1,) == shape or got == shape + (1,)):
        raise RestError(
            400,
            f"{where}: expected each instance of shape {shape} (the model's input "
            f"{tuple(input_shape)}), got shape {got} (a batch of {a.shape})",
        )
    if a.dtype.kind == "f" and not np.isfinite(a).all():
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(a))[0])
        raise RestError(
            400, f"{where} holds {'NaN' if np.isnan(a[at]) else 'Infinity'} at index {at}; "
            f"expected finite numbers",
        )
    x = a.astype(np.float32)
    if not np.isfinite(x).all():
        at = tuple(int(i) for i in np.argwhere(~np.isfinite(x))[0])
        raise RestError(400, f"{where} holds {a[at]} at index {at}: out of float32 range")
    return np.ascontiguousarray(x.reshape((-1,) + shape))


def _dims(shape):
    return [{"size": str(-1 if d is None else int(d)), "name": ""} for d in shape]


def status_doc(version: int) -> dict:
    """``GetModelStatusResponse`` as TF Serving writes it for one available version."""
    return {
        "model_version_status": [
            {
                "version": str(version),
                "state": "AVAILABLE",
                "status": {"error_code": "OK", "error_message": ""},
            }
        ]
    }


def metadata_doc(name: str, version: int, input_shape, output_shape,
                 input: str = "input_layer") -> dict:
    """``GetModelMetadataResponse``: the serving_default signature of a Keras 3 export."""

    def spec(shape, tensor):
        return {
            "dtype": "DT_FLOAT",
            "tensor_shape": {"dim": _dims(shape), "unknown_rank": False},
            "name": tensor,
        }

    return {
        "model_spec": {"name": name, "signature_name": "", "version": str(version)},
        "metadata": {
            "signature_def": {
                "signature_def": {
                    SIGNATURE: {
                        "inputs": {input: spec(input_shape, f"{SIGNATURE}_{input}:0")},
                        "outputs": {OUTPUT_NAME: spec(output_shape, "StatefulPartitionedCall:0")},
                        "method_name": "tensorflow/serving/predict",
                        "defaults": {},
                    }
                }
            }
        },
    }
