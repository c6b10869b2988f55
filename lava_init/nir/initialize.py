"""lava-init's initialization for a network that lives in another framework, through NIR."""

from __future__ import annotations

import copy
import math
from pathlib import Path

import nir
import numpy as np
import torch

from lava_init.network_init import InitReport, initialize
from lava_init.nir.graph import graph_layers, read_graph
from lava_init.nir.importer import from_nir, graph_dt
from lava_init.nir.nodes import NEURON_NODES
from lava_init.slayer_blocks import block_synapses, synapse_weight


def initialize_nir(graph: nir.NIRGraph | str | Path, dt: float | None = None,
                   method: str = "variance_conserving", voltage_scale: float | None = None,
                   **options: object) -> tuple[nir.NIRGraph, InitReport]:
    """A copy of ``graph`` whose synapse weights lava-init drew, and the init report.

    The graph is imported (:func:`lava_init.nir.from_nir`: the same layers, neurons, decays and
    thresholds on Loihi's grids; each layer's voltage scaled by ``voltage_scale``, default
    the power of two that puts its threshold in [1, 2), where lava-init's rules work),
    initialized there with :func:`lava_init.initialize` (``method`` and ``options`` as there),
    and each weight of a Linear, Affine or Conv2d node is written back into the graph's own
    node, in NIR units (divided by the layer's gain and voltage scale): a snnTorch, Norse or
    Sinabs user copies them into the modules the nodes are named after. Biases, Scale nodes
    and neurons are left as they are.

    Args:
        graph: a ``nir.NIRGraph`` or the path of a ``.nir`` file (not changed).
        dt: the time step in seconds (None: the graph's ``metadata["dt"]``).
        method: an initializer's name (:func:`lava_init.initialize`).
        voltage_scale: SLAYER volts per NIR volt for every layer (None: per layer, the
            threshold in [1, 2)).
        **options: more options of :func:`lava_init.initialize` (e.g. ``generator``).

    Returns:
        ``(initialized, report)``: the graph with the new weights, and the
        :class:`~lava_init.network_init.InitReport`.

    Example:
        >>> import nir, numpy as np
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.zeros((32, 64))), nir.LIF(
        ...     tau=np.full(32, 1e-3), r=np.ones(32), v_leak=np.zeros(32),
        ...     v_threshold=np.ones(32), v_reset=np.zeros(32)))
        >>> initialized, report = initialize_nir(graph, dt=1e-3)
        >>> float(np.abs(initialized.nodes["linear"].weight).max()) > 0
        True
        >>> float(np.abs(graph.nodes["linear"].weight).max())  # the original is left as it was
        0.0
    """
    graph = read_graph(graph)
    dt = graph_dt(graph, dt)
    layers = [layer for layer in graph_layers(graph)[1] if layer.kind in ("dense", "conv")]
    gains, scales, blank = {}, {}, copy.deepcopy(graph)
    for layer in layers:
        neuron = graph.nodes[layer.neuron]
        dynamics = NEURON_NODES[type(neuron)](layer.neuron, neuron, dt)
        gains[layer.neuron] = dynamics.gain
        scales[layer.neuron] = voltage_scale or 2.0 ** -math.floor(math.log2(dynamics.threshold))
        blank.nodes[layer.synapse].weight = np.zeros(np.shape(layer.weight))
    net = from_nir(blank, dt, scales)
    report = initialize(net, method, **options)
    initialized = copy.deepcopy(graph)
    blocks = [block for block in net.blocks if block_synapses(block)]
    for layer, block in zip(layers, blocks, strict=True):
        gain = gains[layer.neuron]
        synapse = block_synapses(block)[0]
        with torch.no_grad():
            weight = synapse.pre_hook_fx(synapse_weight(synapse)).double().numpy()
        node = initialized.nodes[layer.synapse]
        node.weight = (weight / (gain * scales[layer.neuron])).reshape(
            np.shape(node.weight)).astype(np.asarray(node.weight).dtype)
    return initialized, report
