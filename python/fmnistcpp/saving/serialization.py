"""Translation between fmnistcpp models and Keras 3's serialized configs
(the `config.json` of a `.keras` file, the `model_config` of a legacy
`.h5` file). Writing produces Keras 3's exact form; reading accepts Keras
3's and Keras 2's (tf.keras) forms.

Everything walks the generic layer/model interface: a model is anything
with `layers` and a graph (`_graph`); a Sequential is written as Keras's
Sequential, every other model (functional, or subclassed and traced) as
Keras's Functional."""

from __future__ import annotations

import inspect
import re

from .. import dtype_policies
from ..layers import _BY_NAME as LAYER_CLASSES

MODEL_CLASSES = ("Sequential", "Functional", "Model")
SUPPORTED_LAYERS = sorted(set(LAYER_CLASSES) | set(MODEL_CLASSES))
# The model classes, registered by fmnistcpp.models, so saving never imports
# the models package (which imports saving to save).
_MODEL_TYPES: dict = {}


def register_model_class(kind: str, cls) -> None:
    _MODEL_TYPES[kind] = cls

_UNUSED_WHEN_NONE = ("kernel_regularizer", "bias_regularizer", "activity_regularizer",
                     "kernel_constraint", "bias_constraint")


def to_snake_case(name: str) -> str:
    """keras.src.utils.naming.to_snake_case."""
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _listify(value):
    if isinstance(value, (tuple, list)):
        return [_listify(v) for v in value]
    if isinstance(value, dict):
        return {k: _listify(v) for k, v in value.items()}
    return value


def is_model(layer) -> bool:
    return hasattr(layer, "_graph") and hasattr(layer, "layers")


def is_sequential(layer) -> bool:
    return is_model(layer) and hasattr(layer, "_layers") and hasattr(layer, "pop")


def saved_layers(model) -> list:
    """The layers a saved file lists, in Keras's order: a Sequential's own
    list, a functional model's graph order (inputs included)."""
    return model.layers if is_sequential(model) else model._graph.layers


# --- writing --------------------------------------------------------------------------
def layer_to_keras(layer) -> dict:
    if is_model(layer):
        return model_to_keras(layer)
    cls = type(layer).__name__
    config = _listify(layer.get_config())
    config.pop("batch_input_shape", None)  # the model's InputLayer carries the shape
    if cls != "InputLayer":  # as Keras writes it: the layer's policy, serialized
        config["dtype"] = dtype_policies.serialize(layer.dtype_policy)
    if cls in ("Conv2D", "Dense"):
        for key in _UNUSED_WHEN_NONE:
            config.setdefault(key, None)
    out = {"module": "keras.layers", "class_name": cls, "config": config,
           "registered_name": None}
    build = layer.get_build_config()
    if build is not None:
        out["build_config"] = _listify(build)
    return out


def sequential_config(model) -> dict:
    layers = []
    first = model._layers[0] if model._layers else None
    if first is not None and type(first).__name__ == "InputLayer":
        layers.append(layer_to_keras(first))
    layers += [layer_to_keras(l) for l in model.layers]
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": dtype_policies.serialize(model.dtype_policy),
              "layers": layers}
    if model.built:
        config["build_input_shape"] = _listify(model.inputs[0].shape)
    return config


def _tensor_ref(tensor, node_position) -> dict:
    op, node_index, tensor_index = tensor._keras_history
    return {"class_name": "__keras_tensor__",
            "config": {"shape": _listify(tensor.shape), "dtype": "float32",
                       "keras_history": [op.name, node_position(op, node_index),
                                         tensor_index]}}


def model_config(model) -> dict:
    """Keras 3's Functional config: each layer with the calls ("inbound
    nodes") that connect it inside this model."""
    if is_sequential(model):
        return sequential_config(model)
    graph = model._graph
    in_graph = set(graph.nodes)
    kept = {}  # layer -> its nodes inside this model, in order

    def node_position(op, node_index):
        node = op._inbound_nodes[node_index]
        nodes = kept.setdefault(op, [n for n in op._inbound_nodes if n in in_graph])
        return nodes.index(node) if node in nodes else 0

    layers = []
    for layer in graph.layers:
        spec = layer_to_keras(layer)
        spec["name"] = layer.name
        nodes = []
        for node in layer._inbound_nodes:
            if node not in in_graph or node.is_input:
                continue
            args = node.arguments
            ref = (lambda t: _tensor_ref(t, node_position))
            if isinstance(args, (list, tuple)):
                arg = [ref(t) for t in args]
            else:
                arg = ref(args)
            kwargs = {} if node.training is None else {"training": node.training}
            nodes.append({"args": [arg], "kwargs": kwargs})
        spec["inbound_nodes"] = nodes
        layers.append(spec)

    def refs(tensors):
        return [[t._keras_history.operation.name,
                 node_position(t._keras_history.operation, t._keras_history.node_index),
                 t._keras_history.tensor_index] for t in tensors]

    def structure(tensors, struct):  # one tensor: Keras writes a flat [name, node, index]
        out = refs(tensors)
        return out[0] if len(out) == 1 and not isinstance(struct, (list, tuple, dict)) else out

    return {"name": model.name, "trainable": model.trainable, "layers": layers,
            "input_layers": structure(graph.inputs, model._input_struct),
            "output_layers": structure(graph.outputs, model._output_struct)}


def model_to_keras(model) -> dict:
    """The Keras 3 serialized form of a model (module, class_name, config,
    registered_name, build_config)."""
    if is_sequential(model):
        out = {"module": "keras", "class_name": "Sequential",
               "config": sequential_config(model), "registered_name": None}
        if model.built:
            out["build_config"] = {"input_shape": _listify(model.inputs[0].shape)}
        return out
    out = {"module": "keras.src.models.functional", "class_name": "Functional",
           "config": model_config(model), "registered_name": "Functional"}
    shapes = [_listify(t.shape) for t in model.inputs]
    out["build_config"] = {"input_shape": shapes[0] if len(shapes) == 1 else shapes}
    return out


# --- reading --------------------------------------------------------------------------
def model_from_keras(spec, where="the file"):
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: the model config is not a JSON object")
    cls = spec.get("class_name")
    config = spec.get("config", {})
    if cls == "Sequential":
        return sequential_from_config(config, spec, where)
    if cls in ("Functional", "Model"):
        return functional_from_config(config, where)
    raise ValueError(
        f"{where} holds a {cls!r} model; fmnistcpp loads Sequential and functional models "
        f"(supported layers: {', '.join(SUPPORTED_LAYERS)})"
    )


def sequential_from_config(config, spec=None, where="the file"):
    Sequential = _MODEL_TYPES["Sequential"]
    if isinstance(config, list):  # very old Keras: the config is the layer list
        config = {"layers": config}
    layer_specs = config.get("layers")
    if not isinstance(layer_specs, list):
        raise ValueError(f"{where}: the Sequential config has no 'layers' list")
    model = Sequential(name=config.get("name"), trainable=config.get("trainable", True))
    for layer_spec in layer_specs:
        model.add(layer_from_keras(layer_spec, where), rebuild=False)
    build_shape = config.get("build_input_shape") or ((spec or {}).get("build_config") or {}).get(
        "input_shape")
    if model.layers:
        if model._layers and type(model._layers[0]).__name__ == "InputLayer":
            model.build()
        elif build_shape is not None:
            model.build(tuple(build_shape))
    return model


def _tensor_from_ref(ref, created, where):
    """A tensor ([name, node, index], Keras 2, or Keras 3's __keras_tensor__)."""
    if isinstance(ref, dict) and ref.get("class_name") == "__keras_tensor__":
        ref = ref["config"]["keras_history"]
    name, node_index, tensor_index = ref[0], ref[1], ref[2]
    if name not in created or node_index >= len(created[name]):
        return None
    outs = created[name][node_index]
    return outs[tensor_index] if isinstance(outs, list) else outs


def _node_inputs(node_spec, created, where):
    """(call argument structure, kwargs) of one inbound node, or None when a
    tensor it needs is not made yet."""
    if isinstance(node_spec, dict):  # Keras 3
        args = node_spec.get("args") or []
        kwargs = dict(node_spec.get("kwargs") or {})
        if not args:
            raise ValueError(f"{where}: a layer call has no arguments")
        arg = args[0]
        if isinstance(arg, list):
            tensors = [_tensor_from_ref(r, created, where) for r in arg]
            return (None if any(t is None for t in tensors) else tensors), kwargs
        t = _tensor_from_ref(arg, created, where)
        return (None if t is None else t), kwargs
    # Keras 2: [[name, node, tensor, kwargs], ...]
    tensors = [_tensor_from_ref(r, created, where) for r in node_spec]
    kwargs = dict(node_spec[0][3]) if node_spec and len(node_spec[0]) > 3 else {}
    if any(t is None for t in tensors):
        return None, kwargs
    return (tensors[0] if len(tensors) == 1 else tensors), kwargs


def functional_from_config(config, where="the file"):
    Functional = _MODEL_TYPES["Functional"]
    layer_specs = config.get("layers")
    if not isinstance(layer_specs, list):
        raise ValueError(f"{where}: the model config has no 'layers' list")
    layers, pending = {}, []
    for spec in layer_specs:
        layer = layer_from_keras(spec, where)
        name = spec.get("name") or layer.name
        layers[name] = layer
        nodes = spec.get("inbound_nodes") or []
        pending.append((name, list(nodes)))
    created = {}  # layer name -> [outputs of each node]
    for name, layer in layers.items():
        if type(layer).__name__ == "InputLayer":
            created[name] = [layer.output_tensor]
    progress = True
    while progress:
        progress = False
        for name, nodes in pending:
            while nodes:
                inputs, kwargs = _node_inputs(nodes[0], created, where)
                if inputs is None:
                    break
                training = kwargs.pop("training", None)
                kwargs.pop("mask", None)
                out = layers[name](inputs, training=training)
                created.setdefault(name, []).append(out)
                nodes.pop(0)
                progress = True
    stuck = [name for name, nodes in pending if nodes]
    if stuck:
        raise ValueError(f"{where}: the calls of layer(s) {stuck} refer to tensors that no "
                         "layer makes (a corrupt or unsupported model config)")

    def tensors(refs):
        if refs and not isinstance(refs[0], list):  # one [name, node, index]
            refs = [refs]
        out = [_tensor_from_ref(r, created, where) for r in refs]
        if any(t is None for t in out):
            raise ValueError(f"{where}: the model's inputs or outputs name unknown layers")
        return out

    def flat(refs):  # [name, node, index] rather than a list of them
        return bool(refs) and not isinstance(refs[0], list)

    input_refs = config.get("input_layers") or []
    output_refs = config.get("output_layers") or []
    inputs, outputs = tensors(input_refs), tensors(output_refs)
    model = Functional(inputs[0] if flat(input_refs) else inputs,
                       outputs[0] if flat(output_refs) else outputs,
                       name=config.get("name"), trainable=config.get("trainable", True))
    return model


def layer_from_keras(spec: dict, where="the file"):
    if not isinstance(spec, dict) or "class_name" not in spec:
        raise ValueError(f"{where}: a layer entry has no 'class_name': {spec!r:.80}")
    cls_name = spec["class_name"]
    if cls_name in MODEL_CLASSES:
        return model_from_keras(spec, where)
    if cls_name not in LAYER_CLASSES:
        raise ValueError(
            f"{where} uses the layer class {cls_name!r}, which fmnistcpp does not "
            f"support; supported layers: {', '.join(SUPPORTED_LAYERS)}"
        )
    cls = LAYER_CLASSES[cls_name]
    config = dict(spec.get("config") or {})
    name = config.get("name")
    policy = _check_dtype(config.pop("dtype", None), cls_name, name, where)
    if cls_name == "InputLayer":
        shape = config.get("batch_shape") or config.get("batch_input_shape")
        if shape is None and config.get("shape") is not None:
            shape = [None, *config["shape"]]
        if shape is None:
            raise ValueError(f"{where}: InputLayer {name!r} has no batch_shape")
        return cls(batch_shape=tuple(shape), name=name)
    if "activation" in config:
        config["activation"] = _activation_name(config["activation"])
    accepted = set(inspect.signature(cls.__init__).parameters) | {
        "name", "input_shape", "trainable", "batch_input_shape", "activity_regularizer"}
    accepted.discard("kwargs")
    kwargs = {}
    for key, value in config.items():
        if key in accepted:
            kwargs[key] = value
        elif value not in (None, False, {}, []) and key not in ("build_config",):
            raise ValueError(
                f"{where}: layer {name!r} ({cls_name}) has the setting {key}={value!r}, "
                "which fmnistcpp does not support"
            )
    for key, value in kwargs.items():
        if isinstance(value, list):
            kwargs[key] = tuple(value)
    if policy is not None:
        kwargs["dtype"] = policy
    try:
        layer = cls(**kwargs)
    except (NotImplementedError, TypeError, ValueError) as exc:
        raise ValueError(f"{where}: cannot rebuild layer {name!r} ({cls_name}): {exc}") from exc
    return layer


def _check_dtype(dtype, cls_name, name, where):
    """The layer's dtype policy as the file gives it (None: the global one);
    ValueError for one the engine cannot run."""
    if dtype is None:
        return None
    try:
        policy = dtype_policies.get(dtype)
        if cls_name == "InputLayer":  # a tensor's dtype, not a policy: the engine reads float32
            if policy.name != "float32":
                raise ValueError("an InputLayer's dtype must be float32")
            return None
        dtype_policies.check_supported(policy, "")
    except (NotImplementedError, TypeError, ValueError) as exc:
        raise ValueError(
            f"{where}: layer {name!r} ({cls_name}) uses dtype {dtype!r:.100}; fmnistcpp supports "
            f"the policies {', '.join(dtype_policies.SUPPORTED)} ({str(exc).lstrip(': ')})"
        ) from None
    return policy


def _activation_name(value):
    if isinstance(value, dict):  # {"module": "keras.activations", "class_name": "function", "config": "relu"}
        cfg = value.get("config")
        value = cfg if isinstance(cfg, str) else value.get("class_name")
    if value is None:
        return "linear"
    return value


# The compile settings live in their own module; these names are part of
# the package's interface (saving/__init__, legacy_h5, keras_archive).
from .compile_serialization import (  # noqa: E402
    compile_from_keras, compile_to_keras, loss_from_keras, metrics_from_keras,
    optimizer_from_keras, optimizer_to_keras)

__all__ = ["SUPPORTED_LAYERS", "compile_from_keras", "compile_to_keras", "layer_from_keras",
           "layer_to_keras", "loss_from_keras", "metrics_from_keras", "model_config",
           "model_from_keras", "model_to_keras", "optimizer_from_keras", "optimizer_to_keras",
           "saved_layers", "sequential_config", "to_snake_case"]
