"""A functional model's graph: the nodes between its inputs and outputs,
ordered as Keras orders them (keras/src/ops/function.py, map_graph: nodes
by decreasing depth from the outputs, operations of one depth in the order
a depth-first walk from the outputs first meets them), so `model.layers`,
summaries and the layer paths in saved weight files agree with Keras's.

`build_engine` turns the graph into the C++ network: one engine node per
leaf layer, nested models expanded in place."""

from __future__ import annotations

import collections

from .. import _core
from ..backend.tensor import KerasTensor


class Graph:
    def __init__(self, inputs: list, outputs: list):
        for t in list(inputs) + list(outputs):
            if not isinstance(t, KerasTensor):
                raise ValueError(
                    f"a Model's inputs and outputs must be symbolic tensors (from keras.Input "
                    f"and layer calls), got {type(t).__name__} {t!r:.60}"
                )
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        self.nodes, self.operations = _map_graph(self.inputs, self.outputs)

    @property
    def layers(self) -> list:
        return list(self.operations)


def _map_graph(inputs, outputs):
    ordered, first_seen = [], {}
    finished, in_progress = set(), set()
    input_ids = {id(t) for t in inputs}

    def visit(tensor):
        op, node_index, _ = tensor._keras_history
        node = op._inbound_nodes[node_index]
        if node in finished:
            return
        if not node.is_input and id(tensor) in input_ids:
            finished.add(node)
            return
        if node.is_input and id(tensor) not in input_ids:
            raise ValueError(
                f"Graph disconnected: an output is not connected to `inputs`: it depends on the "
                f"input {op.name!r}, which is not among the model's inputs"
            )
        if node in in_progress:
            raise ValueError(f"Tensor {tensor} from operation '{op.name}' is part of a cycle.")
        first_seen.setdefault(op, len(first_seen))
        in_progress.add(node)
        if not node.is_input:
            for t in node.input_tensors:
                visit(t)
        finished.add(node)
        in_progress.remove(node)
        ordered.append(node)

    for t in outputs:
        visit(t)
    in_graph = set(ordered)
    node_depth, op_depth = {}, {}
    for node in reversed(ordered):
        depth = max(node_depth.setdefault(node, 0), op_depth.get(node.operation, 0))
        op_depth[node.operation] = depth
        node_depth[node] = depth
        for parent in node.parent_nodes:
            if parent in in_graph:
                node_depth[parent] = max(depth + 1, node_depth.get(parent, 0))
    for t in inputs:  # unused inputs still belong to the model
        op, node_index, _ = t._keras_history
        if op not in op_depth and op._inbound_nodes[node_index].is_input:
            op_depth[op] = 0
            first_seen[op] = -1
            node_depth[op._inbound_nodes[node_index]] = 0

    by_depth = collections.defaultdict(list)
    for op, depth in op_depth.items():
        by_depth[depth].append(op)
    operations = []
    for depth in sorted(by_depth, reverse=True):
        operations.extend(sorted(by_depth[depth], key=lambda op: first_seen[op]))

    nodes_by_depth = collections.defaultdict(list)
    for node, depth in node_depth.items():
        nodes_by_depth[depth].append(node)
    computable = {id(t) for t in inputs}
    nodes, done = [], []
    for depth in sorted(nodes_by_depth, reverse=True):
        for node in nodes_by_depth[depth]:
            for t in node.input_tensors:
                if id(t) not in computable:
                    raise ValueError(
                        f"Graph disconnected: cannot find parent for tensor {t} at operation "
                        f"'{node.operation.name}'. The following previous operations were "
                        f"accessed without issue: {done}"
                    )
            done.append(node.operation.name)
            computable.update(id(t) for t in node.outputs)
            nodes.append(node)
    names = [op.name for op in operations]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"The name {duplicates[0]!r} is used {names.count(duplicates[0])} times "
                         "in the model. All operation names should be unique.")
    return nodes, operations


class Engine:
    """The C++ network of a graph, and how its nodes map back: `leaves[k]`
    is the Python layer of engine node k, `tensor_ids` maps a symbolic
    tensor (by id) to its engine tensor."""

    def __init__(self, graph: Graph):
        self.network = _core.Network([list(t.shape[1:]) for t in graph.inputs])
        self.leaves: list = []
        self.tensor_ids = {id(t): i for i, t in enumerate(graph.inputs)}
        # A layer called again on the same tensors computes the same thing
        # (Keras's Sequential calls its layers again each time add() rebuilds
        # it); such repeats share one engine node.
        self._calls: dict = {}
        self._expand(graph, self.tensor_ids)
        self.network.set_outputs([self.tensor_ids[id(t)] for t in graph.outputs])

    def _expand(self, graph, ids):
        for node in graph.nodes:
            op = node.operation
            if node.is_input:
                continue
            inner = getattr(op, "_graph_for_engine", None)
            if inner is not None:  # a nested model: its nodes, in place
                inner_graph = inner()
                inner_ids = {id(i): ids[id(t)] for i, t in zip(inner_graph.inputs,
                                                                node.input_tensors)}
                self._expand(inner_graph, inner_ids)
                for t_inner, t_outer in zip(inner_graph.outputs, node.outputs):
                    ids[id(t_outer)] = inner_ids[id(t_inner)]
                continue
            sources = tuple(ids[id(t)] for t in node.input_tensors)
            key = (id(op), sources)
            if key in self._calls:
                ids[id(node.outputs[0])] = self._calls[key]
                continue
            tensor = self.network.add(op._core, list(sources))
            self._calls[key] = tensor
            ids[id(node.outputs[0])] = tensor
            self.leaves.append(op)

    def frozen_flags(self, model) -> list:
        """Per engine node, whether compile freezes it: Keras trains the
        variables whose layer is trainable, when the model is (read at
        compile time, as Keras builds its train step then)."""
        return [not (model.trainable and leaf.trainable) for leaf in self.leaves]

    def trainable_order(self, model) -> list:
        """(engine node, index in its layer) of each of the model's
        trainable weights, in Keras's order, which the optimizer's state
        follows (so it saves and loads in Keras's layout)."""
        node_of = {id(leaf): k for k, leaf in enumerate(self.leaves)}
        order = []
        for v in model.trainable_weights:
            k = node_of[id(v._layer)]
            order.append((k, next(i for i, w in enumerate(v._layer.weights) if w._same(v))))
        return order
