"""The per-layer activity record every report of the toolkit shares (numpy only).

:func:`lava_init.measure_activity`, :func:`lava_init.calibrate` and
:func:`netx_export.verify` all describe a layer by the same :class:`LayerActivity`: its name,
neurons, latency, spike rate and silent fraction.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class LayerActivity:
    """Activity of one layer over a batch.

    ``latency``: first step at which input can reach the layer (one step per delaying block
    before it); ``rate``: spikes per neuron per step from ``latency`` on;
    ``silent_fraction``: neurons that never spike in that window for any sample;
    ``input_variance``: variance of the synaptic input (weight units), NaN when not measured.
    """

    name: str
    neurons: int
    latency: int
    rate: float
    silent_fraction: float
    input_variance: float = math.nan

    @property
    def active_fraction(self) -> float:
        """Neurons that spike at least once for some sample: ``1 - silent_fraction``."""
        return 1.0 - self.silent_fraction


def layer_activity(name: str, spikes, latency: int = 0,
                   input_variance: float = math.nan) -> LayerActivity:
    """The :class:`LayerActivity` of ``spikes`` (batch, neurons..., T), counted from ``latency``.

    Args:
        name: the layer's name.
        spikes: a numpy array or torch tensor of 0/1, time last.
        latency: the first step counted (steps before it are left out of rate and silence).
        input_variance: the measured variance of the layer's synaptic input (NaN: not measured).

    Returns:
        The layer's record.

    Example:
        >>> layer_activity("l1", np.array([[[0, 1], [0, 0]]])).silent_fraction
        0.5
    """
    values = np.asarray(spikes.detach().cpu() if hasattr(spikes, "detach") else spikes)
    values = values.reshape(values.shape[0], -1, values.shape[-1])[..., latency:]
    per_neuron = values.sum(axis=(0, 2))
    return LayerActivity(
        name=name, neurons=int(per_neuron.size), latency=latency,
        rate=float(values.mean()) if values.size else 0.0,
        silent_fraction=float((per_neuron == 0).mean()) if per_neuron.size else 1.0,
        input_variance=float(input_variance))


def first_silent_layer(layers: Sequence[LayerActivity]) -> str | None:
    """The name of the first layer without a spike (None when every layer spikes).

    Args:
        layers: the layers in network order.

    Returns:
        The name, or None.

    Example:
        >>> layers = [LayerActivity("a", 4, 0, 0.2, 0.0), LayerActivity("b", 4, 1, 0.0, 1.0)]
        >>> first_silent_layer(layers)
        'b'
    """
    return next((layer.name for layer in layers if layer.rate == 0), None)


def propagates(layers: Sequence[LayerActivity]) -> bool:
    """True when there are layers and every one, the last included, has spikes.

    Args:
        layers: the layers in network order.

    Returns:
        Whether the activity reaches the last layer.

    Example:
        >>> propagates([LayerActivity("a", 4, 0, 0.2, 0.0)]), propagates([])
        (True, False)
    """
    return bool(layers) and first_silent_layer(layers) is None


def propagation_verdict(layers: Sequence[LayerActivity]) -> str:
    """The line every report ends with: whether the activity reaches the last layer, and if
    not, the first silent layer.

    Args:
        layers: the layers in network order.

    Returns:
        ``"activity reaches the last layer: yes"`` or ``"...: NO (first silent layer: NAME)"``.

    Example:
        >>> propagation_verdict([LayerActivity("a", 4, 0, 0.0, 1.0)])
        'activity reaches the last layer: NO (first silent layer: a)'
    """
    if propagates(layers):
        return "activity reaches the last layer: yes"
    silent = first_silent_layer(layers)
    return f"activity reaches the last layer: NO (first silent layer: {silent or 'no layers'})"


@dataclass(frozen=True)
class InputContract:
    """What a network takes as input, carried by the network (``net.input_contract``) so that
    export and the Lava check read it from the network instead of deriving it again.

    ``encoding``: how data become the input (``rate`` / ``regular`` spikes, ``graded`` values,
    or event recordings); ``time_steps``: T, the steps of one sample; ``levels``: grid points
    per unit of graded input (``export_netx``'s ``input_levels``: Lava receives integer
    messages ``value * levels``), None for spikes.
    """

    encoding: str
    time_steps: int
    levels: int | None = None


def input_levels_of(net: object) -> int | None:
    """The graded-input levels ``net``'s :class:`InputContract` names; None for spikes or a
    network without a contract.

    Args:
        net: any network; one built by lava-init's training carries ``input_contract``.

    Returns:
        ``net.input_contract.levels``, or None.

    Example:
        >>> class Net: input_contract = InputContract("graded", 4, 16)
        >>> input_levels_of(Net()), input_levels_of(object())
        (16, None)
    """
    contract = getattr(net, "input_contract", None)
    return None if contract is None else contract.levels
