"""lava-dl SLAYER network or NetX file -> NIR graph, from the integers Loihi runs.

:func:`netx_to_nir` reads a checked NetX file; :func:`to_nir` writes the SLAYER network with
:func:`netx_export.export_netx` first, so that the graph holds exactly what Lava runs. Each
CUBA layer becomes a synapse and a neuron node chosen by its decays, with the time constants
and gains that :func:`lava_init.nir.from_nir` maps back onto the same integers at the same
``dt`` (the synaptic and membrane gains are 1, so NIR weights are SLAYER's weights):

* current decay 1, voltage decay ``d > 0``: LIF with ``tau = dt/d``, ``r = 1/d``, the bias in
  an Affine (``v_leak`` 0, which snnTorch's importer requires);
* current decay 1, voltage decay 0: IF with ``r = 1/dt``, the bias in an Affine;
* current decay ``c`` in (0, 1), voltage decay ``d > 0``: CubaLIF with ``tau_syn = dt/c``,
  ``tau_mem = dt/d``, ``w_in = 1/c``, ``r = 1/d``, ``v_leak = bias/d``.
"""

from __future__ import annotations

import math
import tempfile
import warnings
from collections.abc import Sequence
from pathlib import Path

import h5py
import nir
import numpy as np
import torch

from lava_init.files import atomic_write
from lava_init.nir.discretization import MANTISSA_SCALE
from lava_init.quantization import DECAY_SCALE
from netx_export.export import export_netx
from netx_export.netx_file import NetxLayer, read_netx_file


def _array(group: h5py.Group, key: str) -> np.ndarray:
    return np.asarray(group[key][()], dtype=np.float64)


def neuron_node(group: h5py.Group, name: str, shape: tuple[int, ...], dt: float,
                bias: np.ndarray, leak: bool = False) -> tuple[nir.NIRNode, np.ndarray | None]:
    """The NIR neuron of a NetX layer's CUBA ``neuron`` group with ``bias`` (volts per step,
    one per neuron), and the bias its synapse must carry instead (LIF, IF), else None;
    ``leak``: a LIF carries its bias as ``v_leak`` (a synapse without a bias before it).

    Args:
        group: the NetX layer's HDF5 group (its ``neuron`` subgroup is read).
        name: the layer's name (for the error).
        shape: the layer's neuron shape.
        dt: the time step in seconds.
        bias: the layer's bias in volts per step, one per neuron.
        leak: carry a LIF's bias as ``v_leak``.

    Returns:
        ``(node, synapse_bias)``: a LIF, IF or CubaLIF chosen by the decays (see the
        module), and the bias its synapse must carry or None.

    Example:
        >>> import tempfile; from lava.lib.dl import slayer
        >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.5}
        >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 3, 2))
        >>> path = export_netx(net, tempfile.mkdtemp() + "/net.net")
        >>> with h5py.File(path) as handle:
        ...     node, bias = neuron_node(handle["layer/0"], "layer0", (2,), 1e-3, np.zeros(2))
        >>> type(node).__name__, node.tau.tolist(), node.r.tolist(), bias.tolist()
        ('LIF', [0.002, 0.002], [2.0, 2.0], [0.0, 0.0])
    """
    neuron = group["neuron"]
    kind = neuron["type"][()]
    kind = (kind[0] if np.ndim(kind) else kind)
    kind = kind.decode() if isinstance(kind, bytes) else str(kind)
    if kind not in ("CUBA", "LOIHI"):
        raise ValueError(f"{name} has {kind} neurons; NIR's LIF, CubaLIF and IF carry CUBA "
                         "neurons only")
    threshold = np.full(shape, float(neuron["vThMant"][()]) / MANTISSA_SCALE)
    current = float(neuron["iDecay"][()]) / DECAY_SCALE
    voltage = float(neuron["vDecay"][()]) / DECAY_SCALE
    ones, zeros = np.ones(shape), np.zeros(shape)
    v_leak = bias.reshape(shape) / voltage if voltage else None
    if current == 1 and voltage > 0:
        return nir.LIF(tau=ones * dt / voltage, r=ones / voltage,
                       v_leak=v_leak if leak else zeros, v_threshold=threshold,
                       v_reset=zeros), None if leak else bias
    if current == 1:
        return nir.IF(r=ones / dt, v_threshold=threshold, v_reset=zeros), bias
    if current > 0 and voltage > 0:
        return nir.CubaLIF(tau_syn=ones * dt / current, tau_mem=ones * dt / voltage,
                           r=ones / voltage, v_leak=v_leak, v_threshold=threshold,
                           v_reset=zeros, w_in=ones / current), None
    raise ValueError(f"{name} has current decay {current:g} and voltage decay {voltage:g}; "
                     "NIR's CubaLIF cannot hold a current or voltage that never decays "
                     "under a decaying one (give both decays above 0)")


def _bias(group: h5py.Group, layer: NetxLayer) -> np.ndarray:
    """The layer's bias in volts per step, one per neuron (NetX: per neuron or channel)."""
    if "bias" not in group:
        return np.zeros(layer.size)
    bias = _array(group, "bias").ravel() / MANTISSA_SCALE
    per_channel = np.broadcast_to(bias, (layer.shape[0],)) if bias.size != layer.size else bias
    return np.repeat(per_channel, layer.size // per_channel.size)


def _synapse_node(group: h5py.Group, layer: NetxLayer, bias: np.ndarray | None
                  ) -> nir.NIRNode:
    """The Linear (no bias in the file), Affine or Conv2d node of a NetX dense or conv layer's
    weights; ``bias``: what the synapse must carry (None: nothing)."""
    weight = _array(group, "weight") / MANTISSA_SCALE
    if layer.kind == "dense":
        weight = weight.reshape(layer.size, -1)
        if bias is None or "bias" not in group:
            return nir.Linear(weight=weight)
        return nir.Affine(weight=weight, bias=bias)
    weight = weight.reshape(weight.shape[:4])
    pairs = {key: tuple(int(v) for v in np.broadcast_to(_array(group, key).ravel(), (2,)))
             for key in ("stride", "padding", "dilation")}
    channel_bias = np.zeros(layer.shape[0]) if bias is None else \
        bias.reshape(layer.shape[0], -1)[:, 0]
    return nir.Conv2d(input_shape=layer.inputs[1:], weight=weight, bias=channel_bias,
                      groups=int(_array(group, "groups").ravel()[0]), **pairs)


def _input_nodes(group: h5py.Group, layer: NetxLayer, dt: float) -> dict[str, nir.NIRNode]:
    """An input layer with neurons: a Scale (its one weight) and its neuron, whose one bias
    (added to the current) must reach the voltage unfiltered."""
    weight = float(_array(group, "weight").ravel()[0]) if "weight" in group else MANTISSA_SCALE
    bias = float(_array(group, "bias").ravel()[0]) if "bias" in group else 0.0
    neuron, synapse_bias = neuron_node(group, layer.name, layer.shape, dt,
                                       np.full(layer.size, bias / MANTISSA_SCALE), leak=True)
    if bias and (synapse_bias is not None or float(group["neuron/iDecay"][()]) != DECAY_SCALE):
        raise ValueError(f"{layer.name}: an input layer with a bias and a decaying current "
                         "or no voltage decay has no NIR equivalent here")
    return {f"layer{layer.index}.scale": nir.Scale(scale=np.full(layer.shape,
                                                                 weight / MANTISSA_SCALE)),
            f"layer{layer.index}.{type(neuron).__name__.lower()}": neuron}


def _layer_nodes(group: h5py.Group, layer: NetxLayer, dt: float) -> dict[str, nir.NIRNode]:
    """The NIR nodes of one NetX layer, in order, named ``layer{i}.{kind}``."""
    prefix = f"layer{layer.index}"
    if layer.kind == "flatten":
        return {f"{prefix}.flatten": nir.Flatten(input_type={"input": np.array(layer.inputs)},
                                                 start_dim=0, end_dim=-1)}
    if layer.kind == "input":
        return _input_nodes(group, layer, dt) if layer.has_neurons else {}
    if layer.kind not in ("dense", "conv") or "neuron" not in group:
        what = "no neuron group (a non-spiking readout)" if "neuron" not in group else \
            f"type {layer.kind!r}"
        raise ValueError(f"{layer.name} has {what}; to_nir maps input, flatten, dense and "
                         "conv layers of CUBA neurons")
    neuron, synapse_bias = neuron_node(group, layer.name, layer.shape, dt, _bias(group, layer))
    nodes = {f"{prefix}.synapse": _synapse_node(group, layer, synapse_bias)}
    if "delay" in group:
        steps = np.broadcast_to(_array(group, "delay").ravel(), (layer.size,))
        nodes[f"{prefix}.delay"] = nir.Delay(delay=steps * dt)
    nodes[f"{prefix}.{type(neuron).__name__.lower()}"] = neuron
    return nodes


def netx_to_nir(path: str | Path, dt: float) -> nir.NIRGraph:
    """The NIR graph of the NetX file ``path`` at time step ``dt`` (seconds).

    The graph is an Input, a synapse (a Scale for an input layer with neurons), a Delay where
    the layer has delays (steps x dt) and a neuron node per CUBA layer (see the module),
    Flatten nodes, an Output; ``graph.metadata["dt"]`` holds ``dt``. Layers NetX skips are
    left out with a warning; ValueError for layers NIR cannot carry here.

    Args:
        path: a NetX file (:func:`netx_export.export_netx` writes them).
        dt: the time step the graph's time constants refer to, in seconds.

    Returns:
        The ``nir.NIRGraph``.

    Example:
        >>> import tempfile; from lava.lib.dl import slayer
        >>> neuron = {"threshold": 1.0, "current_decay": 0.25, "voltage_decay": 0.5}
        >>> net = torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 3, 2))
        >>> graph = netx_to_nir(export_netx(net, tempfile.mkdtemp() + "/net.net"), dt=1e-3)
        >>> list(graph.nodes), graph.metadata
        (['input', 'layer0.synapse', 'layer0.cubalif', 'output'], {'dt': 0.001})
        >>> graph.nodes["layer0.cubalif"].tau_syn.tolist()  # dt / 0.25
        [0.004, 0.004]
    """
    netx = read_netx_file(path)
    if netx.input_levels:
        raise ValueError(f"{path}: its first layer takes graded messages (input_levels "
                         f"{netx.input_levels}), which NIR's Input cannot say; export it "
                         "without input_levels")
    if netx.skipped:
        warnings.warn(f"{path}: {', '.join(f'{name} ({kind})' for name, kind in netx.skipped)} "
                      "left out: NetX 0.6.0 does not create them, so Lava never runs them",
                      stacklevel=2)
    shape = netx.layers[0].shape if netx.layers[0].kind == "input" else netx.input_shape
    nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type={"input": np.array(shape)})}
    with h5py.File(netx.path, "r") as handle:
        for layer in netx.layers:
            nodes.update(_layer_nodes(handle[layer.name], layer, dt))
    last = netx.layers[-1]
    nodes["output"] = nir.Output(output_type={"output": np.array(last.shape)})
    names = list(nodes)
    return nir.NIRGraph(nodes=nodes, edges=list(zip(names[:-1], names[1:], strict=True)),
                        metadata={"dt": float(dt)})


def to_nir(net: torch.nn.Module, dt: float, input_shape: Sequence[int] | None = None
           ) -> nir.NIRGraph:
    """The NIR graph of a SLAYER network at time step ``dt`` (seconds).

    The network is written with :func:`netx_export.export_netx` (to a temporary file) and
    read back with :func:`netx_to_nir`, so the graph holds the integers Lava runs: weights on
    the 1/32 grid, thresholds on 1/64, decays on 1/4096; ``from_nir(to_nir(net, dt), dt)``
    rebuilds them bit for bit.

    Args:
        net: a chain of lava-dl SLAYER blocks (Dense, Conv, Flatten of CUBA neurons).
        dt: the time step the graph's time constants refer to.
        input_shape: one sample's shape, needed when the first block is a Conv.

    >>> import torch; from lava.lib.dl import slayer
    >>> neuron = {"threshold": 1.0, "current_decay": 1.0, "voltage_decay": 0.5}
    >>> graph = to_nir(torch.nn.Sequential(slayer.block.cuba.Dense(neuron, 8, 4)), dt=1e-3)
    >>> sorted(type(node).__name__ for node in graph.nodes.values())
    ['Input', 'LIF', 'Linear', 'Output']
    """
    if not (isinstance(dt, (int, float)) and math.isfinite(dt) and dt > 0):
        raise ValueError(f"dt = {dt!r}; give the time step in seconds (> 0)")
    with tempfile.TemporaryDirectory(prefix="lava-init-nir-") as folder:
        path = export_netx(net, Path(folder) / "network.net", input_shape)
        return netx_to_nir(path, dt)


def write_nir(graph: nir.NIRGraph, path: str | Path) -> Path:
    """Write ``graph`` to the ``.nir`` file ``path`` atomically (:func:`nir.write` to a temp
    file beside it, renamed over ``path``: a failure leaves nothing new); returns the path.

    Args:
        graph: the NIR graph.
        path: the ``.nir`` file to write.

    Returns:
        The path written.

    Example:
        >>> import tempfile
        >>> graph = nir.NIRGraph.from_list(nir.Linear(weight=np.ones((2, 3))), nir.IF(
        ...     r=np.ones(2), v_threshold=np.ones(2), v_reset=np.zeros(2)))
        >>> path = write_nir(graph, Path(tempfile.mkdtemp()) / "net.nir")
        >>> sorted(nir.read(path).nodes)
        ['if', 'input', 'linear', 'output']
    """
    return atomic_write(path, lambda temp: nir.write(temp, graph))
