"""Weight initializers for spiking layers, in the style of ``torch.nn.init``.

Each initializer fills ``tensor`` in place and returns it, and takes only what it uses.
Shapes: ``(out, in)`` (Linear), ``(out, in/groups, kh, kw)`` (Conv2d) and SLAYER's 5-D
``(out, in/groups, kh, kw, kt)`` (Dense is ``(out, in, 1, 1, 1)``). Common keywords:

* ``fan_in`` overrides the fan-in read from the shape (transposed convolutions, or
  recurrent blocks where two synapses feed one neuron);
* ``quantization`` (e.g. :data:`lava_init.quantization.SLAYER_8BIT`) writes the weights on
  that grid, scaled so that the variance of the *quantized* weights, the ones SLAYER trains
  and Loihi runs, is the target variance;
* ``threshold`` and ``sigma`` (weight units) for the rules that depend on the neuron.

Methods are registered by name in :data:`INITIALIZERS`; :meth:`InitMethod.draw` passes each
one only the keywords its signature names, so that experiments can switch by name.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import torch

from lava_init import temporal, theory
from lava_init.quantization import (
    Quantization,
    quantize_decay,
    scale_for_quantized_variance,
)

DISTRIBUTIONS = ("normal", "uniform")


def calculate_fan_in(tensor: torch.Tensor) -> int:
    """Inputs per output neuron: ``shape[1] * prod(shape[2:])`` (groups already in ``shape[1]``).

    >>> calculate_fan_in(torch.empty(10, 784, 1, 1, 1))
    784
    """
    if tensor.dim() < 2:
        raise ValueError(
            f"fan-in needs a weight with at least 2 dimensions (got shape {tuple(tensor.shape)}); "
            "pass a Linear, Conv or SLAYER synapse weight"
        )
    fan_in = tensor.shape[1] * math.prod(tensor.shape[2:])
    if fan_in == 0:
        raise ValueError(f"fan-in is 0 for a weight of shape {tuple(tensor.shape)}")
    return fan_in


def calculate_fan_out(tensor: torch.Tensor) -> int:
    """Outputs per input neuron, torch's convention: ``shape[0] * prod(shape[2:])``."""
    calculate_fan_in(tensor)
    return tensor.shape[0] * math.prod(tensor.shape[2:])


def _standard_sample(
    tensor: torch.Tensor, distribution: str, generator: torch.Generator | None
) -> torch.Tensor:
    """Zero-mean, unit-variance draws of ``tensor``'s shape: N(0, 1) or U(+-sqrt(3))."""
    if distribution == "normal":
        return torch.randn(tensor.shape, generator=generator, dtype=torch.float32)
    if distribution == "uniform":
        unit = torch.rand(tensor.shape, generator=generator, dtype=torch.float32)
        return (2.0 * unit - 1.0) * math.sqrt(3.0)
    raise ValueError(f"distribution must be one of {DISTRIBUTIONS} (got {distribution!r})")


@torch.no_grad()
def fill_with_variance_(
    tensor: torch.Tensor,
    variance: float,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
) -> torch.Tensor:
    """Fill ``tensor`` with zero-mean weights of the given variance (of the quantized weights).

    Normal: N(0, variance). Uniform: U(+-sqrt(3 * variance)). With ``quantization`` the weights
    land on its grid and the scale is solved on this very sample so that
    ``mean(q(w)^2) = variance`` as closely as the grid allows.

    >>> from lava_init.quantization import SLAYER_8BIT
    >>> w = fill_with_variance_(torch.empty(256, 256), 0.01, quantization=SLAYER_8BIT)
    >>> round(float(w.pow(2).mean()), 3)
    0.01
    """
    if not math.isfinite(variance) or variance < 0:
        raise ValueError(f"weight variance must be finite and >= 0 (got {variance!r})")
    if not tensor.is_floating_point():
        raise ValueError(f"weights must be a floating-point tensor (got {tensor.dtype}); "
                         "initialize the float weight, e.g. torch.empty(..., dtype=torch.float32)")
    if quantization is not None and variance > grid_capacity(quantization):
        raise ValueError(
            f"target weight std {math.sqrt(variance):.4g} does not fit the weight grid: "
            f"weights are clipped at +-{quantization.high:g}, so at most std "
            f"{math.sqrt(grid_capacity(quantization)):.4g} keeps them unclipped; lower the "
            "threshold or sigma, or raise the fan-in")
    sample = _standard_sample(tensor, distribution, generator)
    if quantization is None:
        values = sample * math.sqrt(variance)
    else:
        scale = scale_for_quantized_variance(sample.numpy(), variance, quantization)
        values = quantization.apply(sample * scale)
    tensor.copy_(values.to(tensor.dtype))
    return tensor


def grid_capacity(quantization: Quantization) -> float:
    """The largest weight variance a grid holds with at most ~1% of normal draws clipped:
    ``(high / 2.576)^2`` (2.576: the two-sided 1% point of the normal distribution)."""
    return (min(quantization.high, -quantization.low) / 2.576) ** 2


def variance_conserving_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    distribution: str = "normal",
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
) -> torch.Tensor:
    """Micheli et al.'s rule: ``Var[w] = sigma^2 / (fan_in * P(u > threshold))``.

    ``P(u > threshold) = 0.5 * erfc(threshold / (sigma * sqrt(2)))`` keeps the membrane
    potential at ``Var[u] = sigma^2`` in every layer of a network of threshold neurons.
    ``threshold`` and ``sigma`` are in weight units (SLAYER's floating-point units).

    >>> w = variance_conserving_(torch.empty(100, 1000), threshold=1.0, sigma=1.0)
    >>> abs(float(w.var() * 1000) - 6.30) < 0.1  # sigma^2 / P(u > 1) = 6.30
    True
    """
    variance = theory.weight_variance(fan_in or calculate_fan_in(tensor), threshold, sigma)
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)



def is_relayable(tensor: torch.Tensor) -> bool:
    """True for a weight that maps a layer onto one of its own size: Linear / Dense with
    ``out == in``, or a convolution with ``out == in`` channels (no groups)."""
    return tensor.dim() >= 2 and tensor.shape[0] == tensor.shape[1]


@torch.no_grad()
def relay_(
    tensor: torch.Tensor,
    threshold: float = 1.0,
    sigma: float = 1.0,
    generator: torch.Generator | None = None,
    quantization: Quantization | None = None,
    fan_in: int | None = None,
    *,
    noise: float = theory.RELAY_NOISE,
) -> torch.Tensor:
    """Spike relay: ``w = 2 theta I + N(0, noise^2 sigma^2 / (fan_in P(u > theta)))``.

    Each neuron copies its input neuron's spike (membrane ``2 theta``) or silence (0), both
    ``theta`` from the threshold, plus ``noise`` times the variance-conserving weights
    (membrane noise ``~noise * sigma`` around each mode). A deep relay stack passes its input's
    spikes on unchanged, where random weights, however scaled, scramble them within a few
    layers; the surrogate gradient passes back alike through spiking and silent neurons
    (:func:`lava_init.theory.relay_weight`). ``I`` is the identity (Dense) or the Dirac kernel
    (convolution); a weight that is not square (:func:`is_relayable`) gets the
    variance-conserving rule alone.

    >>> w = relay_(torch.empty(64, 64), threshold=1.25, sigma=1.25 / 0.7)
    >>> float(w.diagonal().mean()) > 2.3, abs(float(w.fill_diagonal_(0).mean())) < 0.02
    (True, True)
    """
    if not math.isfinite(noise) or noise < 0:
        raise ValueError(f"relay noise must be a finite number >= 0 (got {noise!r}); it is "
                         f"the membrane noise in units of sigma, e.g. {theory.RELAY_NOISE}")
    if not is_relayable(tensor):
        return variance_conserving_(tensor, threshold, sigma, generator=generator,
                                    quantization=quantization, fan_in=fan_in)
    variance = noise**2 * theory.weight_variance(fan_in or calculate_fan_in(tensor), threshold,
                                                 sigma)
    fill_with_variance_(tensor, variance, generator=generator, quantization=quantization)
    identity = (torch.eye(*tensor.shape, dtype=tensor.dtype) if tensor.dim() == 2
                else torch.nn.init.dirac_(torch.empty_like(tensor)))
    tensor.add_(identity * theory.relay_weight(threshold))
    if quantization is not None:
        tensor.copy_(quantization.apply(tensor))
    return tensor

def kaiming_normal_(tensor: torch.Tensor, generator: torch.Generator | None = None,
                    quantization: Quantization | None = None, fan_in: int | None = None
                    ) -> torch.Tensor:
    """Kaiming/He (ReLU), normal: ``Var[w] = 2 / fan_in``."""
    variance = theory.kaiming_variance(fan_in or calculate_fan_in(tensor))
    return fill_with_variance_(tensor, variance, "normal", generator, quantization)


def xavier_normal_(tensor: torch.Tensor, generator: torch.Generator | None = None,
                   quantization: Quantization | None = None, fan_in: int | None = None
                   ) -> torch.Tensor:
    """Xavier/Glorot, normal: ``Var[w] = 2 / (fan_in + fan_out)``."""
    variance = theory.xavier_variance(fan_in or calculate_fan_in(tensor), calculate_fan_out(tensor))
    return fill_with_variance_(tensor, variance, "normal", generator, quantization)


def slayer_default_(tensor: torch.Tensor, generator: torch.Generator | None = None,
                    quantization: Quantization | None = None, fan_in: int | None = None
                    ) -> torch.Tensor:
    """SLAYER's (torch's Conv3d) default: ``kaiming_uniform_(a=sqrt(5))`` = U(+-1/sqrt(fan_in)).

    ``Var[w] = 1 / (3 * fan_in)``.
    """
    variance = theory.slayer_default_variance(fan_in or calculate_fan_in(tensor))
    return fill_with_variance_(tensor, variance, "uniform", generator, quantization)


def temporal_(
    tensor: torch.Tensor, threshold: float = 1.0, sigma: float = 1.0,
    distribution: str = "normal", generator: torch.Generator | None = None,
    quantization: Quantization | None = None, fan_in: int | None = None, *,
    current_decay: float = 1.0, voltage_decay: float = 1.0, time_steps: int = 1,
    target_rate: float | None = None, depth: int = temporal.DEFAULT_LAYERS,
) -> torch.Tensor:
    """Time-aware rule for CUBA neurons over ``time_steps`` (:mod:`lava_init.temporal`).

    Without ``target_rate``: for memoryless neurons (decays 1) or T = 1,
    ``Var[w] = sigma^2 / (fan_in P(u > theta))``, the paper's rule; for integrating ones over
    T steps the balanced drive (:func:`lava_init.temporal.balanced_drive_scale`), under which
    a stack of ``depth`` blocks (:func:`lava_init.initialize` passes the network's) keeps its
    first layer's rate in its last instead of integrating up to saturation. With
    ``target_rate`` (spikes per neuron per step over the T steps): the drive
    under which a deep stack of these CUBA neurons holds that rate
    (:func:`lava_init.temporal.temporal_drive_scale`; it grows with the target).
    """
    variance = temporal.temporal_weight_variance(
        fan_in or calculate_fan_in(tensor), threshold, current_decay, voltage_decay,
        time_steps, target_rate, sigma, depth)
    return fill_with_variance_(tensor, variance, distribution, generator, quantization)


@torch.no_grad()
def fluctuation_driven_(
    tensor: torch.Tensor, threshold: float = 1.0, distribution: str = "normal",
    generator: torch.Generator | None = None, quantization: Quantization | None = None,
    fan_in: int | None = None, *, current_decay: float = 1.0, voltage_decay: float = 1.0,
    rate: float | None = None, xi: float = 2.0, membrane_mean: float = 0.0,
) -> torch.Tensor:
    """Rossbroich, Gygax & Zenke (2022) for the discrete CUBA kernel.

    Weight mean and variance from :func:`lava_init.temporal.fluctuation_driven_moments`:
    target membrane std ``(theta - membrane_mean) / xi`` for presynaptic ``rate`` (spikes
    per step; None: the paper's operating point ``P(u > theta)`` at ``sigma = theta``, 0.159).
    ``membrane_mean = 0`` is the centred variant (zero-mean weights, quantized variance exact);
    otherwise the mean is added and the weights rounded to the grid.
    """
    if rate is None:
        rate = theory.firing_probability(threshold, threshold)
    mean, variance = temporal.fluctuation_driven_moments(
        fan_in or calculate_fan_in(tensor), rate, threshold, quantize_decay(current_decay),
        quantize_decay(voltage_decay), xi, membrane_mean)
    if mean == 0.0:
        return fill_with_variance_(tensor, variance, distribution, generator, quantization)
    fill_with_variance_(tensor, variance, distribution, generator)
    tensor.add_(mean)
    if quantization is not None:
        tensor.copy_(quantization.apply(tensor))
    return tensor


Initializer = Callable[..., torch.Tensor]
#: ``variance(fan_in, fan_out, threshold, sigma)``: the target Var[w] of a method.
VarianceRule = Callable[[int, int, float, float], float]
#: Keywords that mark a method as modelling the neuron over time.
DYNAMICS = ("current_decay", "voltage_decay")


@dataclass(frozen=True)
class InitMethod:
    """A registered initializer and what its signature takes.

    ``quantization_aware`` methods get SLAYER's grid by default in :func:`lava_init.initialize`;
    ``variance`` is the closed-form Var[w] for reports and theory curves (None if none).
    """

    name: str
    fn: Initializer
    quantization_aware: bool
    variance: VarianceRule | None

    @property
    def keywords(self) -> tuple[str, ...]:
        """Every keyword ``fn`` takes after the tensor."""
        return tuple(inspect.signature(self.fn).parameters)[1:]

    @property
    def options(self) -> tuple[str, ...]:
        """Keyword-only options users may set (e.g. ``time_steps``), decays excluded."""
        return tuple(p.name for p in inspect.signature(self.fn).parameters.values()
                     if p.kind is inspect.Parameter.KEYWORD_ONLY and p.name not in DYNAMICS)

    @property
    def uses_threshold(self) -> bool:
        return "threshold" in self.keywords

    @property
    def uses_dynamics(self) -> bool:
        return all(name in self.keywords for name in DYNAMICS)

    def draw(self, tensor: torch.Tensor, **available: object) -> torch.Tensor:
        """Call ``fn(tensor, ...)`` with those of ``available`` that its signature names."""
        return self.fn(tensor, **{k: v for k, v in available.items() if k in self.keywords})


#: Initializers by name: the names accepted by ``lava_init.initialize`` and the experiments.
INITIALIZERS: dict[str, InitMethod] = {}


def register_initializer(
    name: str,
    fn: Initializer,
    *,
    variance: VarianceRule | None = None,
    quantization_aware: bool = False,
) -> None:
    """Make ``fn`` (``fn(tensor, **keywords)``, in-place) available by ``name``.

    ``variance`` gives the method's closed-form Var[w] for reports and theory curves.
    """
    INITIALIZERS[name] = InitMethod(name, fn, quantization_aware, variance)


def get_initializer(name: str) -> InitMethod:
    """The registered method ``name``; a clear error lists the valid names otherwise."""
    try:
        return INITIALIZERS[name]
    except KeyError:
        valid = ", ".join(sorted(INITIALIZERS))
        raise ValueError(f"unknown init method {name!r}; valid methods: {valid}") from None


register_initializer(
    "variance_conserving", variance_conserving_, quantization_aware=True,
    variance=lambda fan_in, fan_out, threshold, sigma: theory.weight_variance(
        fan_in, threshold, sigma))
register_initializer(
    "kaiming", kaiming_normal_, variance=lambda fan_in, *_: theory.kaiming_variance(fan_in))
register_initializer(
    "xavier", xavier_normal_,
    variance=lambda fan_in, fan_out, *_: theory.xavier_variance(fan_in, fan_out))
register_initializer(
    "slayer_default", slayer_default_,
    variance=lambda fan_in, *_: theory.slayer_default_variance(fan_in))
register_initializer("temporal", temporal_, quantization_aware=True)
register_initializer("relay", relay_, quantization_aware=True)
register_initializer("fluctuation_driven", fluctuation_driven_, quantization_aware=True)
