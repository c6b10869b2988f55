"""The NIR node types lava-init maps, one row each, and the checks of their parameters.

:data:`NEURON_NODES`: LIF, CubaLIF and IF, each a function giving the
:class:`~lava_init.nir.discretization.NeuronDynamics` of a node at ``dt``. :data:`SYNAPSE_NODES`:
Affine, Linear, Conv2d and Scale, each a function giving ``(weight, bias, conv)``. Input,
Output and Flatten shape the chain (:data:`SHAPE_NODES`); a Delay between a synapse and its
neuron delays the neuron's input current (NetX's dense delays); :data:`REFUSED_NODES` names
the types NIR has that Lava cannot run exactly, with what to do instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import nir
import numpy as np

from lava_init.nir.discretization import NeuronDynamics


@dataclass(frozen=True)
class Conv:
    """A 2-D convolution's geometry (each a (height, width) pair) and groups."""

    stride: tuple[int, int]
    padding: tuple[int, int]
    dilation: tuple[int, int]
    groups: int


def parameter(name: str, node: nir.NIRNode, key: str) -> np.ndarray:
    """The node's parameter ``key`` as float64; ValueError naming both if it is not finite.

    Args:
        name: the node's name in the graph (for the error).
        node: the NIR node.
        key: the parameter's attribute name.

    Returns:
        The values as a float64 array.

    Example:
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> parameter("lif", lif, "tau").tolist()
        [0.0016, 0.0016]
        >>> lif.tau[1] = np.nan
        >>> parameter("lif", lif, "tau")
        Traceback (most recent call last):
        ValueError: NIR node 'lif' (LIF): parameter tau holds nan; give finite values
    """
    values = np.asarray(getattr(node, key), dtype=np.float64)
    if not np.isfinite(values).all():
        bad = values[~np.isfinite(values)].ravel()[0]
        raise ValueError(f"NIR node {name!r} ({type(node).__name__}): parameter {key} holds "
                         f"{bad}; give finite values")
    return values


def uniform(name: str, node: nir.NIRNode, key: str, positive: bool = False) -> float:
    """The one value of a per-neuron parameter lava-dl shares across a layer.

    Args:
        name: the node's name in the graph (for the error).
        node: the NIR node.
        key: the parameter's attribute name.
        positive: also refuse a value that is not above 0.

    Returns:
        The value; ValueError when the neurons differ (or, with ``positive``, it is not
        positive).

    Example:
        >>> lif = nir.LIF(tau=np.full(2, 1.6e-3), r=np.full(2, 16.0), v_leak=np.zeros(2),
        ...               v_threshold=np.ones(2), v_reset=np.zeros(2))
        >>> uniform("lif", lif, "r")
        16.0
        >>> lif.r[1] = 8.0
        >>> uniform("lif", lif, "r")
        Traceback (most recent call last):
        ValueError: NIR node 'lif' (LIF): r takes 2 values; lava-dl and NetX hold one per layer ...
    """
    values = parameter(name, node, key)
    if values.size and not np.all(values == values.ravel()[0]):
        raise ValueError(f"NIR node {name!r} ({type(node).__name__}): {key} takes "
                         f"{np.unique(values).size} values; lava-dl and NetX hold one per layer "
                         "(give every neuron the same value)")
    value = float(values.ravel()[0])
    if positive and value <= 0:
        raise ValueError(f"NIR node {name!r} ({type(node).__name__}): {key} = {value:g}; "
                         "give a positive value")
    return value


def _fraction(name: str, key: str, tau: float, dt: float) -> float:
    """``dt / tau``, a decay per step; ValueError when the time constant is below ``dt``."""
    if tau < dt * (1 - 1e-6):
        raise ValueError(f"NIR node {name!r}: {key} = {tau:g} s is shorter than dt = {dt:g} s, "
                         "a decay above 1 per step; import with a smaller dt")
    return min(1.0, dt / tau)


def _reset_at_zero(name: str, node: nir.NIRNode) -> None:
    if np.any(parameter(name, node, "v_reset") != 0):
        raise ValueError(f"NIR node {name!r} ({type(node).__name__}): v_reset is not 0; "
                         "lava-dl and Loihi reset the voltage to 0 (shift v_reset, v_leak and "
                         "v_threshold by -v_reset in the source framework)")


def _lif(name: str, node: nir.LIF, dt: float) -> NeuronDynamics:
    _reset_at_zero(name, node)
    decay = _fraction(name, "tau", uniform(name, node, "tau", positive=True), dt)
    return NeuronDynamics(1.0, decay, uniform(name, node, "r") * decay,
                          parameter(name, node, "v_leak").ravel() * decay,
                          uniform(name, node, "v_threshold", positive=True))


def _cuba_lif(name: str, node: nir.CubaLIF, dt: float) -> NeuronDynamics:
    _reset_at_zero(name, node)
    current = _fraction(name, "tau_syn", uniform(name, node, "tau_syn", positive=True), dt)
    voltage = _fraction(name, "tau_mem", uniform(name, node, "tau_mem", positive=True), dt)
    gain = uniform(name, node, "w_in") * current * uniform(name, node, "r") * voltage
    return NeuronDynamics(current, voltage, gain,
                          parameter(name, node, "v_leak").ravel() * voltage,
                          uniform(name, node, "v_threshold", positive=True))


def _if(name: str, node: nir.IF, dt: float) -> NeuronDynamics:
    _reset_at_zero(name, node)
    threshold = uniform(name, node, "v_threshold", positive=True)
    return NeuronDynamics(1.0, 0.0, uniform(name, node, "r") * dt,
                          np.zeros(int(np.size(node.v_threshold))), threshold)


#: NIR neuron type -> its dynamics at ``dt``: ``(name, node, dt) -> NeuronDynamics``.
NEURON_NODES: dict[type, Callable[[str, nir.NIRNode, float], NeuronDynamics]] = {
    nir.LIF: _lif,
    nir.CubaLIF: _cuba_lif,
    nir.IF: _if,
}


def _affine(name: str, node: nir.Affine) -> tuple[np.ndarray, np.ndarray, None]:
    return parameter(name, node, "weight"), parameter(name, node, "bias").ravel(), None


def _linear(name: str, node: nir.Linear) -> tuple[np.ndarray, None, None]:
    return parameter(name, node, "weight"), None, None


def _pair(name: str, node: nir.NIRNode, key: str) -> tuple[int, int]:
    values = np.broadcast_to(np.asarray(getattr(node, key)).ravel(), (2,))
    if isinstance(getattr(node, key), str) or not np.all(values == np.round(values)):
        raise ValueError(f"NIR node {name!r} (Conv2d): {key} = {getattr(node, key)!r}; give "
                         "whole numbers (NetX takes explicit padding, not 'same')")
    return int(values[0]), int(values[1])


def _conv2d(name: str, node: nir.Conv2d) -> tuple[np.ndarray, np.ndarray, Conv]:
    conv = Conv(_pair(name, node, "stride"), _pair(name, node, "padding"),
                _pair(name, node, "dilation"), int(node.groups))
    return parameter(name, node, "weight"), parameter(name, node, "bias").ravel(), conv


def _scale(name: str, node: nir.Scale) -> tuple[np.ndarray, None, None]:
    """An elementwise scale: lava-dl's Input block, one weight for every input."""
    return np.array([[uniform(name, node, "scale")]]), None, None


#: NIR synapse type -> ``(name, node) -> (weight, bias or None, Conv or None)``; a Scale is
#: the weight of an Input block (the first layer only).
SYNAPSE_NODES: dict[type, Callable] = {
    nir.Affine: _affine,
    nir.Linear: _linear,
    nir.Conv2d: _conv2d,
    nir.Scale: _scale,
}
#: NIR nodes that only shape the chain.
SHAPE_NODES = (nir.Input, nir.Output, nir.Flatten)
#: NIR node types without an exact Lava equivalent here -> what to do instead.
REFUSED_NODES: dict[type, str] = {
    nir.SumPool2d: "replace the pooling by a strided Conv2d (kernel = stride) before export",
    nir.AvgPool2d: "replace the pooling by a strided Conv2d (kernel = stride) before export",
    nir.Conv1d: "use Conv2d with a height of 1",
    nir.NIRGraph: "flatten the subgraph into the main graph (a recurrent CubaLIF cannot run on "
                  "NetX 0.6.0: its dense_rec layers are CUBA with weight_rec, not mapped yet)",
}


def node_kind(name: str, node: nir.NIRNode) -> str:
    """``neuron``, ``synapse``, ``shape`` or ``delay``; ValueError naming anything else.

    Args:
        name: the node's name in the graph (for the error).
        node: the NIR node.

    Returns:
        The node's role in a lava-dl chain.

    Example:
        >>> node_kind("fc", nir.Linear(weight=np.ones((2, 3)))), node_kind("in", nir.Input(
        ...     input_type={"input": np.array([3])}))
        ('synapse', 'shape')
        >>> node_kind("pool", nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]),
        ...                                 padding=np.array([0, 0])))
        Traceback (most recent call last):
        ValueError: NIR node 'pool' is a SumPool2d, which Lava cannot run exactly here; replace ...
    """
    kind = type(node)
    if kind in NEURON_NODES:
        return "neuron"
    if kind in SYNAPSE_NODES:
        return "synapse"
    if kind in SHAPE_NODES:
        return "shape"
    if kind is nir.Delay:
        return "delay"
    known = ", ".join(t.__name__ for t in (*SHAPE_NODES, *SYNAPSE_NODES, *NEURON_NODES,
                                           nir.Delay))
    advice = REFUSED_NODES.get(kind, f"lava-init maps {known}")
    raise ValueError(f"NIR node {name!r} is a {kind.__name__}, which Lava cannot run exactly "
                     f"here; {advice}")
