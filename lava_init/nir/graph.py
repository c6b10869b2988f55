"""A NIR graph checked and read as the chain of layers lava-dl builds from it.

:func:`graph_layers` refuses, in one line naming the node and the fix, anything lava-init does
not map: an unknown node type, parameters that are not finite, a graph that is not one path
from Input to Output (branches, loose nodes, cycles; a recurrent CubaLIF is named as such),
two synapses or two neurons in a row, and shapes that do not chain.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import nir
import numpy as np

from lava_init.nir.nodes import NEURON_NODES, SYNAPSE_NODES, Conv, node_kind

Shape = tuple[int, ...]


@dataclass(frozen=True)
class GraphLayer:
    """One lava-dl block of the graph: ``kind`` ``input`` (a Scale), ``dense``, ``conv`` or
    ``flatten``; the ``synapse`` and ``neuron`` node names; the synapse's ``weight``, ``bias``
    (None: none) and ``conv`` geometry; ``inputs`` and ``shape`` (SLAYER's channels-first
    order); ``delay``: the name of a Delay node between synapse and neuron, else None."""

    kind: str
    synapse: str
    neuron: str
    weight: np.ndarray | None
    bias: np.ndarray | None
    conv: Conv | None
    inputs: Shape
    shape: Shape
    delay: str | None = None


def read_graph(graph: nir.NIRGraph | str | Path) -> nir.NIRGraph:
    """``graph`` itself, or the graph of the ``.nir`` file it names (``nir.read``).

    Args:
        graph: a ``nir.NIRGraph`` or the path of a ``.nir`` file.

    Returns:
        The graph; FileNotFoundError for a missing file, ValueError for one ``nir.read``
        cannot load.

    Example:
        >>> import tempfile
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), lif)
        >>> read_graph(graph) is graph
        True
        >>> path = Path(tempfile.mkdtemp()) / "net.nir"
        >>> nir.write(path, graph)
        >>> sorted(read_graph(path).nodes)
        ['input', 'lif', 'linear', 'output']
    """
    if isinstance(graph, nir.NIRGraph):
        return graph
    path = Path(graph)
    if not path.is_file():
        raise FileNotFoundError(f"no NIR graph at {path}")
    try:
        return nir.read(path)
    except Exception as error:
        raise ValueError(f"{path} is not a NIR graph nir.read can load ({type(error).__name__}: "
                         f"{error})") from None


def _cycle(edges: list[tuple[str, str]]) -> list[str] | None:
    """One cycle of the directed ``edges`` as a list of node names, None if there is none."""
    successors: dict[str, list[str]] = {}
    for source, target in edges:
        successors.setdefault(source, []).append(target)
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> list[str] | None:
        state[node] = 1
        for target in successors.get(node, []):
            if state.get(target) == 1:
                return trail[trail.index(target):] + [target]
            if target not in state and (found := visit(target, [*trail, target])):
                return found
        state[node] = 2
        return None

    return next((c for start in successors if start not in state
                 for c in [visit(start, [start])] if c), None)


def _refuse_cycle(graph: nir.NIRGraph) -> None:
    cycle = _cycle(list(graph.edges))
    if cycle is None:
        return
    kinds = {type(graph.nodes[name]) for name in cycle}
    recurrent = len(cycle) == 3 and kinds & set(NEURON_NODES) and kinds & set(SYNAPSE_NODES)
    if recurrent:
        raise ValueError(f"NIR nodes {cycle[0]!r} and {cycle[1]!r} form a recurrent loop; "
                         "lava-init maps feed-forward chains (NetX 0.6.0's dense_rec layers are "
                         "not mapped yet): train without the recurrent weights")
    raise ValueError(f"NIR graph has a cycle {' -> '.join(cycle)} that is not a recurrent "
                     "neuron; lava-init maps feed-forward chains: remove the edge back")


def chain(graph: nir.NIRGraph) -> list[str]:
    """The node names from the Input to the Output; ValueError naming the first node that
    does not sit on one path (an unknown type, a branch, a loose node, a cycle).

    Args:
        graph: the NIR graph.

    Returns:
        The node names in order, Input first and Output last.

    Example:
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), lif)
        >>> chain(graph)
        ['input', 'linear', 'lif', 'output']
    """
    for name, node in graph.nodes.items():
        node_kind(name, node)
    for source, target in graph.edges:
        for end in (source, target):
            if end not in graph.nodes:
                raise ValueError(f"NIR edge ({source!r}, {target!r}) names no node {end!r}; "
                                 "add the node or remove the edge")
    _refuse_cycle(graph)
    inputs = [n for n, node in graph.nodes.items() if isinstance(node, nir.Input)]
    if len(inputs) != 1:
        raise ValueError(f"NIR graph has {len(inputs)} Input nodes; lava-init maps graphs with "
                         "exactly one")
    order = [inputs[0]]
    while not isinstance(graph.nodes[order[-1]], nir.Output):
        following = [target for source, target in graph.edges if source == order[-1]]
        if len(following) != 1:
            raise ValueError(f"NIR node {order[-1]!r} feeds {len(following)} nodes "
                             f"({', '.join(map(repr, following)) or 'none'}); lava-init maps one "
                             "path from the Input to an Output")
        order.append(following[0])
    loose = sorted(set(graph.nodes) - set(order))
    if loose:
        raise ValueError(f"NIR node {loose[0]!r} is not on the path from the Input to the "
                         "Output; remove it (lava-init maps one chain)")
    return order


def _synapse_shape(name: str, node: nir.NIRNode, weight: np.ndarray, conv: Conv | None,
                   shape: Shape) -> Shape:
    """The synapse's output shape on input ``shape``; ValueError when they do not fit."""
    if isinstance(node, nir.Scale):
        if np.size(node.scale) not in (1, math.prod(shape)):
            raise ValueError(f"NIR node {name!r}: {np.size(node.scale)} scales for the "
                             f"{shape} that reaches it")
        return shape
    if conv is None:
        if weight.ndim != 2 or weight.shape[1] != math.prod(shape):
            flatten = " (a Flatten node is missing before it)" if len(shape) > 1 else ""
            raise ValueError(f"NIR node {name!r}: weight of shape {weight.shape} does not take "
                             f"the {shape} that reaches it{flatten}; give (outputs, "
                             f"{math.prod(shape)})")
        return (weight.shape[0],)
    if weight.ndim != 4 or len(shape) != 3 or weight.shape[1] * conv.groups != shape[0]:
        raise ValueError(f"NIR node {name!r}: Conv2d weight of shape {weight.shape} (groups "
                         f"{conv.groups}) does not take the {shape} that reaches it; give "
                         f"(out, {shape[0] if len(shape) == 3 else 'channels'} / groups, "
                         "height, width)")
    size = tuple((shape[1 + a] + 2 * conv.padding[a] - conv.dilation[a]
                  * (weight.shape[2 + a] - 1) - 1) // conv.stride[a] + 1 for a in (0, 1))
    return (weight.shape[0], *size)


def _input_shape(graph: nir.NIRGraph, name: str) -> Shape:
    shape = np.asarray(graph.nodes[name].input_type["input"]).ravel()
    return tuple(int(n) for n in shape)


def _kind(node: nir.NIRNode, conv: Conv | None, first: bool, name: str) -> str:
    if not isinstance(node, nir.Scale):
        return "conv" if conv else "dense"
    if not first:
        raise ValueError(f"NIR node {name!r} (Scale) is not the first synapse; lava-dl scales "
                         "only its input (an Input block): fold the scale into the weights")
    return "input"


def _layer(graph: nir.NIRGraph, names: list[str], shape: Shape, first: bool) -> GraphLayer:
    """The layer of ``names``: a synapse, an optional Delay, a neuron."""
    synapse, neuron, node = names[0], names[-1], graph.nodes[names[0]]
    weight, bias, conv = SYNAPSE_NODES[type(node)](synapse, node)
    out = _synapse_shape(synapse, node, weight, conv, shape)
    neurons = int(np.size(graph.nodes[neuron].v_threshold))
    if neurons != math.prod(out):
        raise ValueError(f"NIR node {neuron!r} has {neurons} neurons but {synapse!r} gives "
                         f"{math.prod(out)} values {out}; give the neuron that many")
    if bias is not None and bias.size not in (1, out[0]):
        raise ValueError(f"NIR node {synapse!r}: {bias.size} biases for {out[0]} outputs")
    kind = _kind(node, conv, first, synapse)
    delay = names[1] if len(names) == 3 else None
    if delay and (kind != "dense" or np.size(graph.nodes[delay].delay) not in (1, neurons)):
        raise ValueError(f"NIR node {delay!r} (Delay) must sit between a dense synapse and "
                         f"its neuron with one delay or {neurons}; NetX delays dense layers only")
    return GraphLayer(kind, synapse, neuron, weight, bias, conv, shape, out, delay)


def _layer_names(graph: nir.NIRGraph, order: list[str], index: int) -> list[str]:
    """The synapse at ``index``, a Delay after it if any, and the neuron that follows."""
    names = order[index:index + 2]
    if node_kind(*names[-1:], graph.nodes[names[-1]]) == "delay":
        names = order[index:index + 3]
    following = names[-1]
    name, node = names[0], graph.nodes[names[0]]
    if node_kind(name, node) != "synapse" or type(graph.nodes[following]) not in NEURON_NODES:
        raise ValueError(f"NIR node {name!r} ({type(node).__name__}) is not followed by a "
                         f"neuron ({following!r} is {type(graph.nodes[following]).__name__}); "
                         "lava-dl blocks are a synapse (Affine, Linear, Conv2d) then a neuron "
                         "(LIF, CubaLIF, IF)")
    return names


def graph_layers(graph: nir.NIRGraph) -> tuple[Shape, list[GraphLayer]]:
    """One sample's input shape and the lava-dl blocks of the checked graph, in order.

    Args:
        graph: the NIR graph (checked with :func:`chain` and layer by layer).

    Returns:
        ``(input_shape, layers)``: the shape without time and one :class:`GraphLayer` per
        lava-dl block; ValueError in one line naming the node and the fix for anything not
        mapped.

    Example:
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), lif)
        >>> shape, layers = graph_layers(graph)
        >>> shape, [(layer.kind, layer.synapse, layer.neuron, layer.shape) for layer in layers]
        ((3,), [('dense', 'linear', 'lif', (2,))])
    """
    order = chain(graph)
    shape = _input_shape(graph, order[0])
    layers, index = [], 1
    while index < len(order) - 1:
        name, node = order[index], graph.nodes[order[index]]
        if isinstance(node, nir.Flatten):
            layers.append(GraphLayer("flatten", name, name, None, None, None, shape,
                                     (math.prod(shape),)))
            shape, index = layers[-1].shape, index + 1
            continue
        names = _layer_names(graph, order, index)
        layers.append(_layer(graph, names, shape, first=not layers))
        shape, index = layers[-1].shape, index + len(names)
    if not any(layer.kind != "flatten" for layer in layers):
        raise ValueError("NIR graph has no synapse and neuron between its Input and Output; "
                         "nothing for Lava to run")
    return _input_shape(graph, order[0]), layers
