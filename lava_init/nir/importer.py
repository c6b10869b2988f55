"""NIR graph -> lava-dl SLAYER network on Loihi's grids, with a report of every rounding."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import nir
import numpy as np
import torch

from lava_init.nir.discretization import (
    MANTISSA_SCALE,
    RoundingReport,
    bias_mantissas,
    decay_units,
    fits,
    rounding,
    snap,
    threshold_mantissa,
    voltage_scale,
    weight_mantissas,
)
from lava_init.nir.graph import GraphLayer, graph_layers, read_graph
from lava_init.nir.nodes import NEURON_NODES, parameter
from lava_init.quantization import DECAY_SCALE
from lava_init.slayer_blocks import slayer
from netx_export.export import export_netx
from netx_export.load import NetxDense, NetxNetwork, cuba_params, set_block_parameters
from netx_export.netx_file import MAX_DELAY


class NirNetwork(NetxNetwork):
    """A chain of SLAYER blocks imported from a NIR graph (see :class:`NetxNetwork`), with
    ``rounding``: the :class:`~lava_init.nir.discretization.RoundingReport` of the import."""

    def __init__(self, blocks: list[torch.nn.Module], input_shape: tuple[int, ...],
                 rounding: RoundingReport, source: Path | None = None):
        super().__init__(blocks, input_shape, [], source)
        self.rounding = rounding


@dataclass(frozen=True)
class LoihiLayer:
    """One layer on Loihi's integer grids: ``weight`` and ``bias`` mantissas (64 = 1.0; bias
    None when zero), ``threshold`` (vThMant), ``current_decay`` and ``voltage_decay`` (in
    1/4096), ``delays`` (steps per neuron, None without a Delay node), the ``voltage_scale``
    used and the roundings that got there."""

    weight: np.ndarray
    bias: np.ndarray | None
    threshold: int
    current_decay: int
    voltage_decay: int
    voltage_scale: float
    roundings: tuple
    delays: np.ndarray | None = None


def _layer_bias(layer: GraphLayer, dynamics, name: str) -> np.ndarray:
    """The voltage added per step (NIR volts), one per output channel (conv) or neuron."""
    bias = np.broadcast_to(dynamics.bias, (int(np.prod(layer.shape)),)).astype(np.float64)
    if layer.bias is not None and np.any(layer.bias != 0):
        if dynamics.current_decay < 1:
            raise ValueError(f"NIR node {layer.synapse!r} has a bias into the CubaLIF {name!r}, "
                             "whose synaptic current filters it; Lava adds biases to the "
                             "voltage: give the bias as the CubaLIF's v_leak instead")
        per_channel = np.broadcast_to(layer.bias, (layer.shape[0],)) * dynamics.gain
        bias = bias + np.repeat(per_channel, int(np.prod(layer.shape[1:])))
    if layer.kind == "conv":
        channels = bias.reshape(layer.shape[0], -1)
        if np.any(channels != channels[:, :1]):
            raise ValueError(f"NIR node {name!r}: v_leak differs within a channel; NetX holds "
                             "one bias per channel of a convolution")
        return channels[:, 0]
    if layer.kind == "input" and np.any(bias) and (np.any(bias != bias[0])
                                                    or dynamics.current_decay < 1):
        raise ValueError(f"NIR node {name!r}: an input layer's v_leak must be one value and "
                         "its current decay 1 (lava-dl adds the Input block's one bias to the "
                         "current)")
    return bias[:1] if layer.kind == "input" else bias


def _delays(graph: nir.NIRGraph, layer: GraphLayer, dt: float) -> tuple[np.ndarray, tuple]:
    """A Delay node's seconds as whole steps (nearest) in NetX's 0..62, and its rounding."""
    seconds = parameter(layer.delay, graph.nodes[layer.delay], "delay").ravel()
    steps = np.rint(snap(seconds / dt)).astype(np.int64)
    if np.any(steps < 0) or np.any(steps > MAX_DELAY):
        raise ValueError(f"NIR node {layer.delay!r}: delays of {steps.min()} to {steps.max()} "
                         f"steps of dt = {dt:g} s; NetX holds 0 to {MAX_DELAY}")
    return steps, (rounding(layer.delay, "delay (s)", seconds, steps * dt),)


def loihi_layer(graph: nir.NIRGraph, layer: GraphLayer, dt: float, scale: float | None = None,
                decay_rounding: str = "nearest") -> LoihiLayer:
    """The checked ``layer`` of ``graph`` on Loihi's grids at ``dt``; ``scale``: SLAYER volts
    per NIR volt (None: :func:`voltage_scale`).

    Args:
        graph: the NIR graph.
        layer: one of its layers (:func:`~lava_init.nir.graph.graph_layers`), not a Flatten.
        dt: the time step in seconds.
        scale: SLAYER volts per NIR volt (None: chosen).
        decay_rounding: ``"nearest"`` or ``"floor"`` (:func:`decay_units`).

    Returns:
        The :class:`LoihiLayer`: mantissas, decays in 1/4096, the scale and the roundings.

    Example:
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), lif)
        >>> layer = graph_layers(graph)[1][0]
        >>> loihi = loihi_layer(graph, layer, dt=1e-4)  # decay 1e-4 / 1.6e-3 = 1/16, gain 1
        >>> loihi.weight.tolist(), loihi.threshold, loihi.voltage_decay, loihi.voltage_scale
        ([[64, 64, 64], [64, 64, 64]], 64, 256, 1.0)
    """
    name, node = layer.neuron, graph.nodes[layer.neuron]
    dynamics = NEURON_NODES[type(node)](name, node, dt)
    scale = voltage_scale(dynamics, layer.weight) if scale is None else float(scale)
    if not fits(dynamics, layer.weight, scale):
        raise ValueError(f"at voltage_scale {scale:g} the layer of {name!r} leaves Loihi's "
                         "ranges (weights |w| <= 3.97, threshold in [1/64, 2048]); give a "
                         "voltage scale that fits, or None to choose one")
    wanted_weight = layer.weight * dynamics.gain
    weight = weight_mantissas(wanted_weight * scale)
    threshold = threshold_mantissa(dynamics.threshold * scale)
    wanted_bias = _layer_bias(layer, dynamics, name)
    bias = bias_mantissas(wanted_bias * scale)
    current, voltage = (decay_units(d, decay_rounding)
                        for d in (dynamics.current_decay, dynamics.voltage_decay))
    unit = MANTISSA_SCALE * scale
    roundings = (
        rounding(layer.synapse, "weight (x gain)", wanted_weight, weight / unit),
        rounding(name, "v_threshold", dynamics.threshold, threshold / unit),
        rounding(name, "bias per step", wanted_bias, bias / unit),
        rounding(name, "current decay", dynamics.current_decay, current / DECAY_SCALE),
        rounding(name, "voltage decay", dynamics.voltage_decay, voltage / DECAY_SCALE))
    delays, delay_rounding = _delays(graph, layer, dt) if layer.delay else (None, ())
    return LoihiLayer(weight, bias if np.any(bias) else None, threshold, current, voltage,
                      scale, roundings + delay_rounding, delays)


def _input_block(loihi: LoihiLayer) -> torch.nn.Module:
    """lava-dl's Input block: one weight and one bias (None when 1 and 0, as NetX's input
    group without them), its neurons."""
    params = cuba_params(loihi.threshold, loihi.current_decay, loihi.voltage_decay, False)
    weight = float(loihi.weight.ravel()[0]) / MANTISSA_SCALE
    bias = None if loihi.bias is None else float(loihi.bias[0]) / MANTISSA_SCALE
    return slayer.block.cuba.Input(params, weight=None if weight == 1 else weight, bias=bias)


def _block(layer: GraphLayer, loihi: LoihiLayer | None) -> torch.nn.Module:
    """The SLAYER block of one layer with its integers set."""
    if layer.kind == "flatten":
        return slayer.block.cuba.Flatten()
    if layer.kind == "input":
        return _input_block(loihi)
    params = cuba_params(loihi.threshold, loihi.current_decay, loihi.voltage_decay,
                         loihi.bias is not None)
    if layer.kind == "dense":
        block = NetxDense(params, int(np.prod(layer.inputs)), layer.shape[0],
                          delay=loihi.delays is not None)
    else:
        conv = layer.conv
        block = slayer.block.cuba.Conv(
            params, layer.inputs[0], layer.shape[0], kernel_size=tuple(layer.weight.shape[2:]),
            stride=conv.stride, padding=conv.padding, dilation=conv.dilation, groups=conv.groups)
    set_block_parameters(block, loihi.weight, loihi.bias, loihi.delays)
    return block


def graph_dt(graph: nir.NIRGraph, dt: float | None) -> float:
    """``dt``, else the graph's ``metadata["dt"]``; ValueError when neither is a time step.

    Args:
        graph: the NIR graph.
        dt: the time step in seconds, or None to read the graph's.

    Returns:
        The time step in seconds.

    Example:
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), lif)
        >>> graph_dt(graph, 1e-4)
        0.0001
        >>> graph.metadata["dt"] = 1e-3
        >>> graph_dt(graph, None)
        0.001
    """
    if dt is None:
        metadata = graph.metadata if isinstance(graph.metadata, dict) else {}
        dt = metadata.get("dt")
        if dt is None:
            raise ValueError("the NIR graph does not say its time step (no metadata['dt']); "
                             "give dt in seconds (e.g. dt=1e-3)")
    if not (isinstance(dt, (int, float, np.floating)) and np.isfinite(dt) and dt > 0):
        raise ValueError(f"dt = {dt!r}; give the time step in seconds (> 0)")
    return float(dt)


@torch.no_grad()
def from_nir(graph: nir.NIRGraph | str | Path, dt: float | None = None,
             voltage_scale: float | Mapping[str, float] | None = None,
             decay_rounding: str = "nearest") -> NirNetwork:
    """Build the lava-dl SLAYER network of a NIR graph at time step ``dt`` (seconds).

    Input -> [Flatten] -> (Affine | Linear | Conv2d) -> (LIF | CubaLIF | IF) -> ... -> Output
    chains become cuba.Dense / cuba.Conv / cuba.Flatten blocks on Loihi's grids (the
    discretization of :mod:`lava_init.nir.discretization`); ``net.rounding`` reports every
    parameter that had to be rounded and by how much. The network is in eval mode, has run
    once on zeros, and :func:`netx_export.export_netx` writes it for Lava.

    Args:
        graph: a ``nir.NIRGraph`` or the path of a ``.nir`` file.
        dt: the time step in seconds; every time constant must be at least ``dt``. None:
            the graph's ``metadata["dt"]`` (:func:`lava_init.nir.to_nir` writes it).
        voltage_scale: SLAYER volts per NIR volt for every layer, or per neuron node name;
            None (or a name left out) chooses per layer (1 for a graph already on Loihi's
            grid, else the finest power of two that fits).
        decay_rounding: ``"nearest"`` or ``"floor"`` (the NIR paper's Lava import; with
            ``voltage_scale=4`` it gives the integers its Loihi 2 trace was recorded with).

    Raises:
        ValueError: one line naming the node and the fix, for anything not mapped.

    >>> import nir, numpy as np
    >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), nir.LIF(
    ...     tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
    ...     v_threshold=np.ones(2), v_reset=np.zeros(2)))
    >>> net = from_nir(graph, dt=1e-4)
    >>> net.blocks[0].neuron.threshold, len(net.rounding.rounded)
    (1.0, 0)
    """
    source = None if isinstance(graph, nir.NIRGraph) else Path(graph)
    graph = read_graph(graph)
    dt = graph_dt(graph, dt)
    input_shape, layers = graph_layers(graph)
    blocks, roundings, scales = [], [], []
    for layer in layers:
        scale = voltage_scale.get(layer.neuron) if isinstance(voltage_scale, Mapping) \
            else voltage_scale
        loihi = None if layer.kind == "flatten" else loihi_layer(
            graph, layer, dt, scale, decay_rounding)
        if loihi is not None:
            roundings.extend(loihi.roundings)
            scales.append((layer.neuron, loihi.voltage_scale))
        if layer.kind != "flatten" or len(layer.inputs) > 1:
            blocks.append(_block(layer, loihi).eval())
    shape = input_shape
    for block in blocks:  # SLAYER learns its neuron shapes from one pass
        shape = tuple(block(torch.zeros(1, *shape, 2)).shape[1:-1])
    report = RoundingReport(float(dt), tuple(roundings), tuple(scales))
    return NirNetwork(blocks, input_shape, report, source).eval()


def nir_to_netx(graph: nir.NIRGraph | str | Path, path: str | Path, dt: float | None = None,
                voltage_scale: float | None = None, decay_rounding: str = "nearest"
                ) -> NirNetwork:
    """:func:`from_nir`, then :func:`netx_export.export_netx` to ``path`` (atomically: a
    failure writes nothing); returns the imported network (its ``rounding`` report).

    Args:
        graph: a ``nir.NIRGraph`` or the path of a ``.nir`` file.
        path: the NetX file to write.
        dt: the time step in seconds (None: the graph's ``metadata["dt"]``).
        voltage_scale: SLAYER volts per NIR volt (None: chosen per layer).
        decay_rounding: ``"nearest"`` or ``"floor"``.

    Returns:
        The :class:`NirNetwork` written.

    Example:
        >>> import tempfile
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), lif)
        >>> path = Path(tempfile.mkdtemp()) / "net.net"
        >>> net = nir_to_netx(graph, path, dt=1e-4)
        >>> path.is_file(), len(net.rounding.rounded)  # nothing rounded: the graph is on the grid
        (True, 0)
    """
    net = from_nir(graph, dt, voltage_scale, decay_rounding)
    export_netx(net, path, input_shape=net.input_shape)
    return net
