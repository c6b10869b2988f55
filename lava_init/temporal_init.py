"""Time-aware initializers for CUBA neurons: ``temporal_`` and ``fluctuation_driven_``.

Both take the registry's signature plus the neuron's decays, which
:func:`lava_init.initialize` passes per block (methods registered with ``uses_dynamics``)::

    lava_init.initialize(net, "temporal", time_steps=20)
    lava_init.initialize(net, "fluctuation_driven", rate=0.2)
"""

from __future__ import annotations

import torch

from lava_init import temporal, theory
from lava_init.init import (
    Quantization,
    calculate_fan_in,
    fill_with_variance_,
    register_initializer,
)


def temporal_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
    *,
    current_decay: float = 1.0,
    voltage_decay: float = 1.0,
    time_steps: int = 1,
    target_rate: float | None = None,
) -> torch.Tensor:
    """Time-aware rule for CUBA neurons over ``time_steps`` (:mod:`lava_init.temporal`).

    ``Var[w] = max(sigma^2 / P(u > theta), drive for target_rate) / fan_in``: the paper's rule
    holds the first step of every window (the neuron starts from rest) at its stable fixed
    point; ``target_rate`` (spikes per neuron per step over the T steps) raises the drive when
    a mean-field stack of CUBA layers would fire less. Decays 1 or T = 1: the paper's rule.
    """
    variance = temporal.temporal_weight_variance(
        fan_in or calculate_fan_in(tensor), threshold, current_decay, voltage_decay,
        time_steps, target_rate, sigma)
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)


@torch.no_grad()
def fluctuation_driven_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
    *,
    current_decay: float = 1.0,
    voltage_decay: float = 1.0,
    rate: float | None = None,
    xi: float = 2.0,
    membrane_mean: float = 0.0,
) -> torch.Tensor:
    """Rossbroich, Gygax & Zenke (2022) for the discrete CUBA kernel; ``sigma`` is ignored.

    Weight mean and variance from :func:`lava_init.temporal.fluctuation_driven_moments`:
    target membrane std ``(theta - membrane_mean) / xi`` for presynaptic ``rate`` (spikes
    per step; None: the paper's operating point ``P(u > theta)`` at ``sigma = theta``, 0.159).
    ``membrane_mean = 0`` is the centred variant (zero-mean weights, quantized variance exact);
    otherwise the mean is added and the weights rounded to the grid.
    """
    if rate is None:
        rate = theory.firing_probability(threshold, theory.default_sigma(threshold))
    mean, variance = temporal.fluctuation_driven_moments(
        fan_in or calculate_fan_in(tensor), rate, threshold, temporal.quantize_decay(
            current_decay), temporal.quantize_decay(voltage_decay), xi, membrane_mean)
    if mean == 0.0:
        return fill_with_variance_(tensor, variance, distribution, generator, quantization)
    fill_with_variance_(tensor, variance, distribution, generator)
    tensor.add_(mean)
    if quantization is not None:
        tensor.copy_(quantization.apply(tensor))
    return tensor


register_initializer("temporal", temporal_, quantization_aware=True, uses_threshold=True,
                     uses_dynamics=True)
register_initializer("fluctuation_driven", fluctuation_driven_, quantization_aware=True,
                     uses_threshold=True, uses_dynamics=True)
